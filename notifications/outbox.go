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

func (o *PGOutbox) enqueue(ctx context.Context, tx pgx.Tx, m Message) error {
	spec, ok := kinds[m.Kind]
	if !ok {
		return errors.New("unknown kind")
	}
	data, err := checkData(m.Kind, m.Data)
	if err != nil {
		return err
	}
	dataJSON, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if len(m.Channels) == 0 {
		return errors.New("no channel")
	}
	lang := language(m.To.Lang)
	var personID *int64
	if m.To.PersonID != 0 {
		personID = &m.To.PersonID
	}
	var uniqueKey *string
	if m.UniqueKey != "" {
		uniqueKey = &m.UniqueKey
	}
	var sendAt *time.Time
	if !m.SendAt.IsZero() {
		sendAt = &m.SendAt
	}
	// One statement writes the rows of every channel; the e-mail and SMS rows then get their delivery jobs, all in
	// one River insert and one update — or, for kinds the dispatcher sweeps, a moment later off the request path.
	var channels, recipients []string
	for _, ch := range m.Channels {
		if slices.Contains(channels, string(ch)) {
			continue
		}
		if !slices.Contains(spec.channels, ch) {
			return fmt.Errorf("kind %s is not sent by %s", m.Kind, ch)
		}
		recipient := ""
		switch ch {
		case Email:
			a, err := mail.ParseAddress(m.To.Email)
			if err != nil || a.Address != strings.TrimSpace(m.To.Email) {
				return errors.New("no valid e-mail address for the e-mail channel")
			}
			recipient = a.Address
		case SMS:
			var ok bool
			if recipient, ok = normalizePhone(m.To.Phone); !ok {
				return errors.New("no valid phone number for the SMS channel")
			}
		case Inbox:
			if personID == nil {
				return errors.New("the inbox channel needs a person")
			}
		default:
			return fmt.Errorf("unknown channel %q", ch)
		}
		channels, recipients = append(channels, string(ch)), append(recipients, recipient)
	}
	rows, _ := tx.Query(ctx, `
		INSERT INTO notifications (kind, person_id, channel, recipient, lang, data, unique_key, send_at, status, sent_at)
		SELECT $1, $2, u.channel, u.recipient, $3, $4, $5, $6,
			CASE WHEN u.channel = 'inbox' THEN 'sent' ELSE 'pending' END,
			CASE WHEN u.channel = 'inbox' THEN coalesce($6, now()) END
		FROM unnest($7::text[], $8::text[]) AS u(channel, recipient)
		ON CONFLICT (unique_key, channel) DO NOTHING
		RETURNING id, channel`,
		m.Kind, personID, lang, dataJSON, uniqueKey, sendAt, channels, recipients)
	var ids []int64
	var id int64
	var ch string
	_, err = pgx.ForEachRow(rows, []any{&id, &ch}, func() error {
		if Channel(ch) != Inbox { // rows already enqueued under this key are not returned
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil || len(ids) == 0 || spec.sweep {
		return err
	}
	sendAts := make([]*time.Time, len(ids))
	for i := range sendAts {
		sendAts[i] = sendAt
	}
	return insertJobs(ctx, o.river, tx, ids, sendAts, o.maxAttempts)
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
