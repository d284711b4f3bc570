package storage

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// demoServices are the services of the examples. Lengths, windows and limits are demo values staff change.
var demoServices = []struct {
	code, msg          string
	minutes            int
	modes              []string
	fromDays, toDays   int
	maxOpen            int
	guest, onlyAtCrema bool
}{
	{"segretariato-sociale", "segretariato", 30, []string{"in_person", "phone"}, 1, 60, 2, true, false},
	{"colloquio-assistente-sociale", "colloquio", 45, []string{"in_person", "phone", "online"}, 2, 60, 1, false, false},
	{"sportello-assistenti-familiari", "assistenti_familiari", 30, []string{"in_person", "phone"}, 1, 45, 1, true, true},
	{"aiuto-domanda", "aiuto_domanda", 30, []string{"in_person", "phone", "online"}, 1, 30, 2, false, false},
}

// seedAppointments offers the demo services at the seeded offices, during each office's opening hours, closed on
// the national holidays of this year and the next. An office's services and hours are written only when the
// office starts offering the service, so staff changes survive a re-run.
func seedAppointments(ctx context.Context, tx pgx.Tx, now time.Time) error {
	for i, s := range demoServices {
		if _, err := tx.Exec(ctx, `INSERT INTO services (code, msg, position, slot_minutes, modes, bookable_from_days,
				bookable_to_days, max_open_per_person, guest_allowed)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
			s.code, s.msg, i+1, s.minutes, s.modes, s.fromDays, s.toDays, s.maxOpen, s.guest); err != nil {
			return err
		}
		// Crema's sportello has two desks for the short services; every other office one.
		rows, _ := tx.Query(ctx, `INSERT INTO office_services (office, service, capacity)
			SELECT code, $1, CASE WHEN code = 'sportello-crema' AND $2 = 30 AND NOT $3 THEN 2 ELSE 1 END FROM offices
			WHERE code LIKE 'sportello-%' AND (NOT $3 OR code = 'sportello-crema')
			ON CONFLICT DO NOTHING RETURNING office`, s.code, s.minutes, s.onlyAtCrema)
		added, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO availability (office, service, weekday, starts, ends)
			SELECT o.code, $1, d::int, (h->>'from')::time, (h->>'to')::time
			FROM offices o, jsonb_array_elements(o.hours) h, jsonb_array_elements_text(h->'days') d
			WHERE o.code = ANY($2)`, s.code, added); err != nil {
			return err
		}
	}
	var days []time.Time
	for _, y := range []int{now.Year(), now.Year() + 1} {
		for _, md := range [][2]int{{1, 1}, {1, 6}, {4, 25}, {5, 1}, {6, 2}, {8, 15}, {11, 1}, {12, 8}, {12, 25}, {12, 26}} {
			days = append(days, time.Date(y, time.Month(md[0]), md[1], 0, 0, 0, 0, time.UTC))
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO availability_exceptions (office, kind, first_day, last_day, note)
		SELECT o.code, 'closed', d::date, d::date, 'festività' FROM offices o, unnest($1::date[]) d
		WHERE o.code LIKE 'sportello-%' AND NOT EXISTS (SELECT 1 FROM availability_exceptions e
			WHERE e.office = o.code AND e.kind = 'closed' AND e.first_day = d::date AND e.service IS NULL AND e.staff_id IS NULL)`,
		days)
	return err
}
