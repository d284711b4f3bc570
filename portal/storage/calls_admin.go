package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Errors of call management that the back-office forms turn into messages.
var (
	ErrCallExists     = errors.New("storage: the measure already has a call for that year")
	ErrCallFormLocked = errors.New("storage: the call has opened, its form version is fixed")
	ErrCallState      = errors.New("storage: the call is not in the state the change needs")
)

const callColumns = `id, measure, year, opens_at, closes_at, form_version, thresholds, budgets, deadline_days, amounts`

// Calls returns every call, the newest year first.
func (db *DB) Calls(ctx context.Context) ([]Call, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+callColumns+` FROM calls ORDER BY year DESC, opens_at DESC, id`)
	calls, err := pgx.CollectRows(rows, pgx.RowToStructByName[Call])
	if err != nil {
		return nil, fmt.Errorf("storage: calls: %w", err)
	}
	return calls, nil
}

// CallByID returns one call, or ErrNotFound.
func (db *DB) CallByID(ctx context.Context, id int64) (Call, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+callColumns+` FROM calls WHERE id = $1`, id)
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Call])
	if errors.Is(err, pgx.ErrNoRows) {
		return Call{}, ErrNotFound
	}
	if err != nil {
		return Call{}, fmt.Errorf("storage: call %d: %w", id, err)
	}
	return c, nil
}

// CreateCall stores a new call and returns its ID. A second call of the same measure and year is ErrCallExists
// (the unique constraint decides, so two staff members creating it at once cannot both succeed).
func (db *DB) CreateCall(ctx context.Context, c Call) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		// The measures are fixed in code (forms.Measures); the row may be missing on a database never seeded.
		if _, err := tx.Exec(ctx, `INSERT INTO measures (code) VALUES ($1) ON CONFLICT DO NOTHING`, c.Measure); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO calls (measure, year, opens_at, closes_at, form_version, thresholds, budgets,
				deadline_days, amounts)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			c.Measure, c.Year, c.OpensAt, c.ClosesAt, c.FormVersion, amounts(c.Thresholds), amounts(c.Budgets),
			deadlineDays(c.DeadlineDays), grants(c.Amounts)).Scan(&id)
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "calls_measure_year_key" {
		return 0, ErrCallExists
	}
	if err != nil {
		return 0, fmt.Errorf("storage: create call: %w", err)
	}
	return id, nil
}

// UpdateCall changes a call's window, form version, thresholds and budgets (measure and year stay). The form
// version may change only while the call has not opened at now: once residents may have applied with a version,
// it is fixed (ErrCallFormLocked). The condition sits in the UPDATE, so a call opening between the page and the
// save cannot slip through.
func (db *DB) UpdateCall(ctx context.Context, c Call, now time.Time) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE calls SET opens_at = $2, closes_at = $3, form_version = $4, thresholds = $5, budgets = $6,
			deadline_days = $8, amounts = $9
		WHERE id = $1 AND (form_version = $4 OR opens_at > $7)`,
		c.ID, c.OpensAt, c.ClosesAt, c.FormVersion, amounts(c.Thresholds), amounts(c.Budgets), now,
		deadlineDays(c.DeadlineDays), grants(c.Amounts))
	if err != nil {
		return fmt.Errorf("storage: update call %d: %w", c.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return db.callMissingOr(ctx, c.ID, ErrCallFormLocked)
	}
	return nil
}

// OpenCallNow moves the opening of an upcoming call to now. A call already open or closed is ErrCallState.
func (db *DB) OpenCallNow(ctx context.Context, id int64, now time.Time) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE calls SET opens_at = $2 WHERE id = $1 AND opens_at > $2 AND closes_at > $2`, id, now)
	if err != nil {
		return fmt.Errorf("storage: open call %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return db.callMissingOr(ctx, id, ErrCallState)
	}
	return nil
}

// CloseCallNow moves the closing of an open call to now. A call not open (upcoming, closed, or opening at this
// very instant, which would leave an empty window) is ErrCallState.
func (db *DB) CloseCallNow(ctx context.Context, id int64, now time.Time) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE calls SET closes_at = $2 WHERE id = $1 AND opens_at < $2 AND closes_at > $2`, id, now)
	if err != nil {
		return fmt.Errorf("storage: close call %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return db.callMissingOr(ctx, id, ErrCallState)
	}
	return nil
}

// callMissingOr tells why an UPDATE of a call changed nothing: the call does not exist, or its condition failed.
func (db *DB) callMissingOr(ctx context.Context, id int64, otherwise error) error {
	var exists bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM calls WHERE id = $1)`, id).Scan(&exists); err != nil {
		return fmt.Errorf("storage: call %d: %w", id, err)
	}
	if !exists {
		return ErrNotFound
	}
	return otherwise
}

// amounts stores a nil map as {} (the column is NOT NULL and a JSON object).
func amounts(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}

// deadlineDays is a call's legal deadline as stored: the usual 30 days when none is given.
func deadlineDays(d int) int {
	if d <= 0 {
		return 30
	}
	return d
}

// grants is a call's amounts as stored: an empty object rather than null.
func grants(a Amounts) Amounts {
	if a == nil {
		return Amounts{}
	}
	return a
}
