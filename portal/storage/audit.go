package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditFilter selects lines of the audit log; zero fields do not filter.
type AuditFilter struct {
	StaffID       int64
	ApplicationID int64
	Protocol      string // an application's protocol number, instead of its ID
	Action        string
	From, To      time.Time // From inclusive, To exclusive
	// After is the keyset cursor: the last line of the previous page; lines older than it follow.
	After *AuditCursor
	Limit int
}

// AuditCursor is a position in the audit log, which is read newest first: by time, then ID.
type AuditCursor struct {
	At time.Time
	ID int64
}

// AuditLine is one line of the audit log as the admins' viewer shows it.
type AuditLine struct {
	ID            int64          `db:"id"`
	At            time.Time      `db:"at"`
	StaffName     string         `db:"staff_name"`
	StaffUsername string         `db:"staff_username"`
	TokenName     string         `db:"token_name"`
	Action        string         `db:"action"`
	ApplicationID *int64         `db:"application_id"`
	Protocol      *string        `db:"protocol"`
	AttachmentID  *int64         `db:"attachment_id"`
	Detail        map[string]any `db:"detail"`
	IP            *string        `db:"ip"`
}

// Cursor is the position of the line, for the next page.
func (l AuditLine) Cursor() AuditCursor { return AuditCursor{At: l.At, ID: l.ID} }

// SearchAudit returns the lines matching f, newest first, at most f.Limit, and whether more follow. Pages are
// keyset pages (after the cursor's time and ID, on the audit_log_at index), so a page deep in a long log costs
// what the first does and a line written meanwhile never shifts one into the next page twice.
func (db *DB) SearchAudit(ctx context.Context, f AuditFilter) ([]AuditLine, bool, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	var afterAt *time.Time
	var afterID int64
	if f.After != nil {
		afterAt, afterID = &f.After.At, f.After.ID
	}
	rows, _ := db.Pool.Query(ctx, `
		SELECT l.id, l.at, coalesce(su.full_name, '') AS staff_name, coalesce(su.username, '') AS staff_username,
			coalesce(t.name, '') AS token_name, l.action, l.application_id, a.protocol, l.attachment_id, l.detail,
			host(l.ip) AS ip
		FROM audit_log l
			LEFT JOIN staff_users su ON su.id = l.staff_id
			LEFT JOIN api_tokens t ON t.id = l.token_id
			LEFT JOIN applications a ON a.id = l.application_id
		WHERE ($1::bigint IS NULL OR l.staff_id = $1)
			AND ($2::bigint IS NULL OR l.application_id = $2)
			AND ($3::text IS NULL OR l.application_id = (SELECT id FROM applications WHERE protocol = $3))
			AND ($4::text IS NULL OR l.action = $4)
			AND ($5::timestamptz IS NULL OR l.at >= $5)
			AND ($6::timestamptz IS NULL OR l.at < $6)
			AND ($7::timestamptz IS NULL OR (l.at, l.id) < ($7, $8))
		ORDER BY l.at DESC, l.id DESC
		LIMIT $9`,
		nullID(f.StaffID), nullID(f.ApplicationID), nullText(f.Protocol), nullText(f.Action), nullTime(f.From),
		nullTime(f.To), afterAt, afterID, f.Limit+1)
	lines, err := pgx.CollectRows(rows, pgx.RowToStructByName[AuditLine])
	if err != nil {
		return nil, false, fmt.Errorf("storage: search audit log: %w", err)
	}
	more := len(lines) > f.Limit
	if more {
		lines = lines[:f.Limit]
	}
	return lines, more, nil
}

func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
