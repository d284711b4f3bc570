package storage

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SubAmbito is one of the six areas the district's comuni are grouped in.
type SubAmbito struct {
	Code   string   `db:"code"`
	Name   string   `db:"name"`
	Comuni []string `db:"comuni"`
}

// SubAmbiti returns the sub-ambiti in their usual order, each with its comuni in alphabetical order.
func (db *DB) SubAmbiti(ctx context.Context) ([]SubAmbito, error) {
	rows, _ := db.Pool.Query(ctx, `
		SELECT s.code, s.name, array_agg(c.name ORDER BY c.name) AS comuni
		FROM sub_ambiti s JOIN comuni c ON c.sub_ambito = s.code
		GROUP BY s.code, s.name, s.position
		ORDER BY s.position`)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[SubAmbito])
	if err != nil {
		return nil, fmt.Errorf("storage: sub-ambiti: %w", err)
	}
	return out, nil
}

// OpeningHours is one line of an office's weekly timetable.
type OpeningHours struct {
	Days []int  `json:"days"` // ISO weekdays, 1 = Monday
	From string `json:"from"` // "09:00"
	To   string `json:"to"`
}

// Office is a place where residents are received (sportello sociale).
type Office struct {
	Code      string         `db:"code"`
	Name      string         `db:"name"`
	Comune    string         `db:"comune"`
	SubAmbito string         `db:"sub_ambito"`
	Address   string         `db:"address"`
	Phone     string         `db:"phone"`
	Email     string         `db:"email"`
	Hours     []OpeningHours `db:"hours"`
}

// Offices returns every office, ordered by sub-ambito and name.
func (db *DB) Offices(ctx context.Context) ([]Office, error) {
	rows, _ := db.Pool.Query(ctx, `
		SELECT o.code, o.name, c.name AS comune, c.sub_ambito, o.address, o.phone, o.email, o.hours
		FROM offices o JOIN comuni c ON c.code = o.comune JOIN sub_ambiti s ON s.code = c.sub_ambito
		ORDER BY s.position, o.name`)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Office])
	if err != nil {
		return nil, fmt.Errorf("storage: offices: %w", err)
	}
	return out, nil
}
