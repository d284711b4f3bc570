package notifications

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/comunitasocialecremasca/smartservices/i18n"
)

// QueueName is the River queue of notification deliveries.
const QueueName = "notifications"

// deliverArgs is the River job that delivers one notifications row. It carries the row's ID only: River's tables
// keep no address and no text.
type deliverArgs struct {
	NotificationID int64 `json:"notification_id" river:"unique"`
}

func (deliverArgs) Kind() string { return "notification_deliver" }

// PGOutbox is the Outbox on PostgreSQL and River.
type PGOutbox struct {
	river       *river.Client[pgx.Tx]
	maxAttempts int
}

var _ Outbox = (*PGOutbox)(nil)

// NewOutbox returns an outbox that only inserts; the worker (Service) delivers. maxAttempts is
// NOTIFY_MAX_ATTEMPTS. The web server builds one and passes it in portal.Deps.Outbox.
func NewOutbox(pool *pgxpool.Pool, maxAttempts int, log *slog.Logger) (*PGOutbox, error) {
	if maxAttempts < 1 {
		return nil, errors.New("notifications: max attempts must be at least 1")
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: log, MaxAttempts: maxAttempts})
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	return &PGOutbox{river: client, maxAttempts: maxAttempts}, nil
}

// Enqueue records msgs in tx, one row per channel, and a River job for each e-mail and SMS. Nothing is delivered
// unless tx commits. Inbox rows are the inbox itself: visible once tx commits (or at SendAt). A message whose
// UniqueKey was already enqueued on a channel is skipped on that channel. Data is checked against the kind's
// allow-list: an unknown field or a value of the wrong shape is an error, so free text never reaches an e-mail.
func (o *PGOutbox) Enqueue(ctx context.Context, tx pgx.Tx, msgs ...Message) error {
	for _, m := range msgs {
		if err := o.enqueue(ctx, tx, m); err != nil {
			return fmt.Errorf("notifications: enqueue %s: %w", m.Kind, err)
		}
	}
	return nil
}

// Prepared is a message checked and turned into its rows' values, one per channel: what Enqueue inserts. A caller
// that writes its change and its message in one statement (a submission on a click day) inserts these itself,
// with InsertSQL; Data is JSON.
type Prepared struct {
	Kind       string
	PersonID   *int64
	Lang       string
	Data       []byte
	UniqueKey  *string
	SendAt     *time.Time
	Channels   []string
	Recipients []string
	sweep      bool
}

// Prepare checks m as Enqueue does and returns its rows' values. Only kinds the dispatcher sweeps can be inserted
// without Enqueue (the others need their River jobs in the same transaction).
func (o *PGOutbox) Prepare(m Message) (Prepared, error) {
	p, err := prepare(m)
	if err == nil && !p.sweep {
		err = errors.New("only swept kinds are inserted without Enqueue")
	}
	if err != nil {
		return Prepared{}, fmt.Errorf("notifications: prepare %s: %w", m.Kind, err)
	}
	return p, nil
}

// InsertSQL inserts the rows of a Prepared message whose values are the arguments $first to $first+7 — Kind,
// PersonID, Lang, Data, UniqueKey, SendAt, Channels, Recipients — with extra (an SQL jsonb expression, or "") merged
// into Data: fields known only in the statement, such as a protocol number it assigns. from ("" or ", t") adds a
// relation the expression reads. Rows already enqueued under the key are skipped.
func InsertSQL(first int, extra, from string) string {
	arg := func(i int) string { return fmt.Sprintf("$%d", first+i) }
	data := arg(3) + "::jsonb"
	if extra != "" {
		data = "(" + data + " || " + extra + ")"
	}
	return `INSERT INTO notifications (kind, person_id, channel, recipient, lang, data, unique_key, send_at, status, sent_at)
		SELECT ` + arg(0) + `, ` + arg(1) + `::bigint, u.channel, u.recipient, ` + arg(2) + `, ` + data + `, ` + arg(4) + `::text, ` +
		arg(5) + `::timestamptz,
			CASE WHEN u.channel = 'inbox' THEN 'sent' ELSE 'pending' END,
			CASE WHEN u.channel = 'inbox' THEN coalesce(` + arg(5) + `::timestamptz, now()) END
		FROM unnest(` + arg(6) + `::text[], ` + arg(7) + `::text[]) AS u(channel, recipient)` + from + `
		ON CONFLICT (unique_key, channel) DO NOTHING`
}

// Args are the values InsertSQL reads, in its order.
func (p Prepared) Args() []any {
	return []any{p.Kind, p.PersonID, p.Lang, p.Data, p.UniqueKey, p.SendAt, p.Channels, p.Recipients}
}

func prepare(m Message) (Prepared, error) {
	spec, ok := kinds[m.Kind]
	if !ok {
		return Prepared{}, errors.New("unknown kind")
	}
	data, err := checkData(m.Kind, m.Data)
	if err != nil {
		return Prepared{}, err
	}
	dataJSON, err := json.Marshal(data)
	if err != nil {
		return Prepared{}, err
	}
	if len(m.Channels) == 0 {
		return Prepared{}, errors.New("no channel")
	}
	p := Prepared{Kind: m.Kind, Lang: language(m.To.Lang), Data: dataJSON, sweep: spec.sweep}
	if m.To.PersonID != 0 {
		p.PersonID = &m.To.PersonID
	}
	if m.UniqueKey != "" {
		p.UniqueKey = &m.UniqueKey
	}
	if !m.SendAt.IsZero() {
		p.SendAt = &m.SendAt
	}
	// One statement writes the rows of every channel; the e-mail and SMS rows then get their delivery jobs, all in
	// one River insert and one update — or, for kinds the dispatcher sweeps, a moment later off the request path.
	for _, ch := range m.Channels {
		if slices.Contains(p.Channels, string(ch)) {
			continue
		}
		if !slices.Contains(spec.channels, ch) {
			return Prepared{}, fmt.Errorf("kind %s is not sent by %s", m.Kind, ch)
		}
		recipient := ""
		switch ch {
		case Email:
			a, err := mail.ParseAddress(m.To.Email)
			if err != nil || a.Address != strings.TrimSpace(m.To.Email) {
				return Prepared{}, errors.New("no valid e-mail address for the e-mail channel")
			}
			recipient = a.Address
		case SMS:
			var ok bool
			if recipient, ok = normalizePhone(m.To.Phone); !ok {
				return Prepared{}, errors.New("no valid phone number for the SMS channel")
			}
		case Inbox:
			if p.PersonID == nil {
				return Prepared{}, errors.New("the inbox channel needs a person")
			}
		default:
			return Prepared{}, fmt.Errorf("unknown channel %q", ch)
		}
		p.Channels, p.Recipients = append(p.Channels, string(ch)), append(p.Recipients, recipient)
	}
	return p, nil
}

func (o *PGOutbox) enqueue(ctx context.Context, tx pgx.Tx, m Message) error {
	p, err := prepare(m)
	if err != nil {
		return err
	}
	rows, _ := tx.Query(ctx, InsertSQL(1, "", "")+` RETURNING id, channel`, p.Args()...)
	var ids []int64
	var id int64
	var ch string
	_, err = pgx.ForEachRow(rows, []any{&id, &ch}, func() error {
		if Channel(ch) != Inbox { // rows already enqueued under this key are not returned
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil || len(ids) == 0 || p.sweep {
		return err
	}
	sendAts := make([]*time.Time, len(ids))
	for i := range sendAts {
		sendAts[i] = p.SendAt
	}
	return insertJobs(ctx, o.river, tx, ids, sendAts, o.maxAttempts)
}

// Cancel deletes the rows under uniqueKey not delivered yet — e-mail and SMS rows not sent, inbox rows whose time
// has not come at now — and cancels their River jobs. Deleting the rows alone would do (a job whose row is gone cancels
// itself), but River's table should not hold jobs that would run for nothing. A delivery already in flight when
// this commits finishes: that is the one message the resident may still get.
func (o *PGOutbox) Cancel(ctx context.Context, tx pgx.Tx, uniqueKey string, now time.Time) error {
	rows, _ := tx.Query(ctx, `DELETE FROM notifications
		WHERE unique_key = $1 AND (status <> 'sent' OR (channel = 'inbox' AND sent_at > $2))
		RETURNING job_id`, uniqueKey, now)
	jobs, err := pgx.CollectRows(rows, pgx.RowTo[*int64])
	if err != nil {
		return fmt.Errorf("notifications: cancel %s: %w", uniqueKey, err)
	}
	for _, j := range jobs {
		if j == nil {
			continue
		}
		if _, err := o.river.JobCancelTx(ctx, tx, *j); err != nil && !errors.Is(err, river.ErrNotFound) {
			return fmt.Errorf("notifications: cancel job of %s: %w", uniqueKey, err)
		}
	}
	return nil
}

// insertJobs gives notification rows their delivery jobs, in one River insert, and records each job on its row.
// No River unique options: every row is new to this transaction or locked by it, so no other job exists for it.
func insertJobs(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, ids []int64, sendAts []*time.Time, maxAttempts int) error {
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		opts := &river.InsertOpts{Queue: QueueName, MaxAttempts: maxAttempts}
		if sendAts[i] != nil {
			opts.ScheduledAt = *sendAts[i]
		}
		params[i] = river.InsertManyParams{Args: deliverArgs{NotificationID: id}, InsertOpts: opts}
	}
	res, err := client.InsertManyTx(ctx, tx, params)
	if err != nil {
		return fmt.Errorf("insert jobs: %w", err)
	}
	jobs := make([]int64, len(res))
	for i, r := range res {
		jobs[i] = r.Job.ID
	}
	_, err = tx.Exec(ctx, `UPDATE notifications n SET job_id = u.job FROM unnest($1::bigint[], $2::bigint[]) u(id, job)
		WHERE n.id = u.id`, ids, jobs)
	return err
}

// language returns the shipped language code for code, Italian when unknown.
func language(code string) string {
	for _, l := range i18n.Languages {
		if strings.EqualFold(l.Code, strings.TrimSpace(code)) {
			return l.Code
		}
	}
	return i18n.Source
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// normalizePhone returns the number in E.164 (+393331234567); numbers without a country code are Italian.
func normalizePhone(p string) (string, bool) {
	p = strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -./()", r) {
			return -1
		}
		return r
	}, strings.TrimSpace(p))
	switch {
	case strings.HasPrefix(p, "00"):
		p = "+" + p[2:]
	case p != "" && !strings.HasPrefix(p, "+"):
		p = "+39" + p
	}
	return p, e164.MatchString(p)
}
