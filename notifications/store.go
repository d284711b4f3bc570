package notifications

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DBTX is a pool, a connection or a transaction: *pgxpool.Pool, *pgx.Conn and pgx.Tx all fit.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ErrNotFound is returned when a notification does not exist or is not the person's.
var ErrNotFound = errors.New("notifications: not found")

// InboxItem is one message in a resident's in-portal inbox. Render it with Templates.Render(lang, Kind, Data):
// Subject is the title, Inbox the text; Data["Link"] is where it leads.
type InboxItem struct {
	ID     int64             `db:"id"`
	Kind   string            `db:"kind"`
	Data   map[string]string `db:"data"`
	SentAt time.Time         `db:"sent_at"`
	ReadAt *time.Time        `db:"read_at"`
}

// ListInbox lists a person's inbox, newest first; messages scheduled for later appear when their time comes.
func ListInbox(ctx context.Context, db DBTX, personID int64, limit int) ([]InboxItem, error) {
	rows, err := db.Query(ctx, `
		SELECT id, kind, data, sent_at, read_at FROM notifications
		WHERE person_id = $1 AND channel = 'inbox' AND status = 'sent' AND sent_at <= now()
		ORDER BY sent_at DESC, id DESC LIMIT $2`, personID, limit)
	if err != nil {
		return nil, fmt.Errorf("notifications: inbox: %w", err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[InboxItem])
	if err != nil {
		return nil, fmt.Errorf("notifications: inbox: %w", err)
	}
	return items, nil
}

// MarkRead marks one of the person's inbox messages as read; ErrNotFound if it is not theirs. Marking twice
// keeps the first time.
func MarkRead(ctx context.Context, db DBTX, personID, id int64) error {
	tag, err := db.Exec(ctx, `
		UPDATE notifications SET read_at = coalesce(read_at, now())
		WHERE id = $1 AND person_id = $2 AND channel = 'inbox' AND status = 'sent' AND sent_at <= now()`, id, personID)
	if err != nil {
		return fmt.Errorf("notifications: mark read: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// UnreadCount is the number shown next to the inbox link.
func UnreadCount(ctx context.Context, db DBTX, personID int64) (int, error) {
	var n int
	err := db.QueryRow(ctx, `
		SELECT count(*) FROM notifications
		WHERE person_id = $1 AND channel = 'inbox' AND status = 'sent' AND sent_at <= now() AND read_at IS NULL`,
		personID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("notifications: unread count: %w", err)
	}
	return n, nil
}

// FailedDelivery is an e-mail or SMS that failed its last attempt: Status "failed" is still being retried,
// "dead" is given up (after NOTIFY_MAX_ATTEMPTS, a permanent refusal, or too late to matter, as an expired
// sign-in code). Recipient is masked; LastError is a class such as smtp_connect or sms_http_503.
type FailedDelivery struct {
	ID          int64      `db:"id"`
	Kind        string     `db:"kind"`
	Channel     Channel    `db:"channel"`
	Recipient   string     `db:"recipient"`
	Status      string     `db:"status"`
	Attempts    int        `db:"attempts"`
	LastError   string     `db:"last_error"`
	CreatedAt   time.Time  `db:"created_at"`
	AttemptedAt *time.Time `db:"attempted_at"`
}

// FailedDeliveries lists failed and dead deliveries for the administrators' page, the latest attempt first.
func FailedDeliveries(ctx context.Context, db DBTX, limit int) ([]FailedDelivery, error) {
	rows, err := db.Query(ctx, `
		SELECT id, kind, channel, recipient, status, attempts, coalesce(last_error, '') AS last_error,
		       created_at, attempted_at
		FROM notifications WHERE status IN ('failed', 'dead')
		ORDER BY attempted_at DESC NULLS LAST, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("notifications: failed deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[FailedDelivery])
	if err != nil {
		return nil, fmt.Errorf("notifications: failed deliveries: %w", err)
	}
	for i := range out {
		if out[i].Channel == SMS {
			out[i].Recipient = maskPhone(out[i].Recipient)
		} else {
			out[i].Recipient = maskEmail(out[i].Recipient)
		}
	}
	return out, nil
}
