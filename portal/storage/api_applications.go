package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CaseFilter selects submitted applications for the district's other systems. Zero fields select everything.
type CaseFilter struct {
	CallID       int64
	Measure      string
	Status       string
	UpdatedSince *time.Time
	After        int64 // keyset: only IDs above this one
	Limit        int
}

// CaseSummary is a submitted application as a list shows it: where it stands, without answers or files.
type CaseSummary struct {
	ID          int64      `db:"id"`
	Protocol    string     `db:"protocol"`
	Status      string     `db:"status"`
	CallID      int64      `db:"call_id"`
	Measure     string     `db:"measure"`
	Year        int        `db:"year"`
	Category    string     `db:"category"`
	Comune      *string    `db:"comune"`
	SubAmbito   *string    `db:"sub_ambito"`
	SubmittedAt time.Time  `db:"submitted_at"`
	UpdatedAt   time.Time  `db:"updated_at"`
	TakenAt     *time.Time `db:"taken_at"`
	DueOn       *time.Time `db:"due_on"`
	DecidedAt   *time.Time `db:"decided_at"`
}

// CaseSummaries lists submitted applications (never drafts) within scope that match f, by ascending ID from
// f.After, at most f.Limit of them. Paging by ID, never by a column that changes, walks every application once
// even while others are being decided.
func (db *DB) CaseSummaries(ctx context.Context, scope Scope, f CaseFilter) ([]CaseSummary, error) {
	rows, _ := db.Pool.Query(ctx, `
		SELECT a.id, a.protocol, a.status, a.call_id, c.measure, c.year, a.category, a.comune, a.sub_ambito,
			a.submitted_at, a.updated_at, a.taken_at, a.due_on, a.decided_at
		FROM applications a JOIN calls c ON c.id = a.call_id
		WHERE a.status <> 'draft' AND `+ScopeSQL(1)+` AND a.id > $2
			AND ($3::bigint = 0 OR a.call_id = $3) AND ($4 = '' OR c.measure = $4) AND ($5 = '' OR a.status = $5)
			AND ($6::timestamptz IS NULL OR a.updated_at >= $6)
		ORDER BY a.id LIMIT $7`, scope.Arg(), f.After, f.CallID, f.Measure, f.Status, f.UpdatedSince, f.Limit)
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[CaseSummary])
	if err != nil {
		return nil, fmt.Errorf("storage: case summaries: %w", err)
	}
	return list, nil
}
