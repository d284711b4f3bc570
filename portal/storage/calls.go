package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Call is a yearly call (avviso) of a measure, with the window in which applications are accepted.
type Call struct {
	ID          int64            `db:"id"`
	Measure     string           `db:"measure"`
	Year        int              `db:"year"`
	OpensAt     time.Time        `db:"opens_at"`
	ClosesAt    time.Time        `db:"closes_at"`
	FormVersion string           `db:"form_version"` // the form definition residents fill in, e.g. fna-b2/2026-v1
	Thresholds  map[string]int64 `db:"thresholds"`   // ISEE limit per category, cents
	Budgets     map[string]int64 `db:"budgets"`      // budget per category, cents
	// the legal deadline, in days from taking an application in charge to deciding it
	DeadlineDays int     `db:"deadline_days"`
	Amounts      Amounts `db:"amounts"` // what a decision grants per category
}

// State tells where now falls in the call's window.
func (c Call) State(now time.Time) string {
	switch {
	case now.Before(c.OpensAt):
		return "upcoming"
	case now.Before(c.ClosesAt):
		return "open"
	default:
		return "closed"
	}
}

// LatestCalls returns the most recent call of each measure, keyed by measure code.
func (db *DB) LatestCalls(ctx context.Context) (map[string]Call, error) {
	rows, _ := db.Pool.Query(ctx, `
		SELECT DISTINCT ON (measure) `+callColumns+`
		FROM calls ORDER BY measure, year DESC`)
	calls, err := pgx.CollectRows(rows, pgx.RowToStructByName[Call])
	if err != nil {
		return nil, fmt.Errorf("storage: latest calls: %w", err)
	}
	out := make(map[string]Call, len(calls))
	for _, c := range calls {
		out[c.Measure] = c
	}
	return out, nil
}

// CurrentCalls returns, for each measure, the call residents should see at now: the open one, else the next to
// open, else the one that closed last. (LatestCalls, by year, would hide an open call as soon as staff prepare
// next year's.)
func (db *DB) CurrentCalls(ctx context.Context, now time.Time) (map[string]Call, error) {
	rows, _ := db.Pool.Query(ctx, `
		SELECT DISTINCT ON (measure) `+callColumns+`
		FROM calls
		ORDER BY measure,
			CASE WHEN opens_at <= $1 AND closes_at > $1 THEN 0 WHEN opens_at > $1 THEN 1 ELSE 2 END,
			CASE WHEN opens_at > $1 THEN opens_at END ASC,
			closes_at DESC`, now)
	calls, err := pgx.CollectRows(rows, pgx.RowToStructByName[Call])
	if err != nil {
		return nil, fmt.Errorf("storage: current calls: %w", err)
	}
	out := make(map[string]Call, len(calls))
	for _, c := range calls {
		out[c.Measure] = c
	}
	return out, nil
}
