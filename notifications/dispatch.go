package notifications

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// The dispatcher gives delivery jobs to the e-mail and SMS rows of kinds marked sweep: the transaction that causes
// them (a submission on a click day) only writes its notifications rows — the outbox proper — and this periodic
// job creates their River jobs a moment later, many at once. River's job rows are costly to insert one at a time
// (six indexes, two of them GIN); in bulk and off the request path they cost the resident nothing.
const (
	dispatchEvery = time.Second
	dispatchBatch = 500
)

type dispatchArgs struct{}

func (dispatchArgs) Kind() string { return "notification_dispatch" }

type dispatchWorker struct {
	river.WorkerDefaults[dispatchArgs]
	s *Service
}

// Work dispatches every waiting delivery, a batch at a time.
func (w *dispatchWorker) Work(ctx context.Context, _ *river.Job[dispatchArgs]) error {
	for {
		n, err := w.s.dispatch(ctx)
		if err != nil || n < dispatchBatch {
			return err
		}
	}
}

// dispatch gives up to dispatchBatch waiting deliveries their River jobs in one transaction. Rows another
// dispatcher holds are skipped, so two workers never make two jobs for one row.
func (s *Service) dispatch(ctx context.Context) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, s.d.Pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `
			SELECT id, send_at FROM notifications
			WHERE job_id IS NULL AND status = 'pending' AND channel <> 'inbox'
			ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, dispatchBatch)
		var ids []int64
		var params []river.InsertManyParams
		var id int64
		var sendAt *time.Time
		if _, err := pgx.ForEachRow(rows, []any{&id, &sendAt}, func() error {
			opts := &river.InsertOpts{Queue: QueueName, MaxAttempts: s.d.Config.MaxAttempts}
			if sendAt != nil {
				opts.ScheduledAt = *sendAt
			}
			ids = append(ids, id)
			params = append(params, river.InsertManyParams{Args: deliverArgs{NotificationID: id}, InsertOpts: opts})
			return nil
		}); err != nil || len(ids) == 0 {
			return err
		}
		res, err := s.river.InsertManyTx(ctx, tx, params)
		if err != nil {
			return fmt.Errorf("insert jobs: %w", err)
		}
		jobs := make([]int64, len(res))
		for i, r := range res {
			jobs[i] = r.Job.ID
		}
		_, err = tx.Exec(ctx, `UPDATE notifications n SET job_id = u.job FROM unnest($1::bigint[], $2::bigint[]) u(id, job)
			WHERE n.id = u.id`, ids, jobs)
		n = len(ids)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("notifications: dispatch: %w", err)
	}
	return n, nil
}
