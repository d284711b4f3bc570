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
		var sendAts []*time.Time
		var id int64
		var sendAt *time.Time
		if _, err := pgx.ForEachRow(rows, []any{&id, &sendAt}, func() error {
			var at *time.Time
			if sendAt != nil {
				t := *sendAt // pgx may scan the next row into the same pointer
				at = &t
			}
			ids, sendAts = append(ids, id), append(sendAts, at)
			return nil
		}); err != nil || len(ids) == 0 {
			return err
		}
		n = len(ids)
		return insertJobs(ctx, s.river, tx, ids, sendAts, s.d.Config.MaxAttempts)
	})
	if err != nil {
		return 0, fmt.Errorf("notifications: dispatch: %w", err)
	}
	return n, nil
}
