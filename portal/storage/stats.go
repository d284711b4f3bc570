package storage

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Statistics for planning, as CSC's annual report counts them: applications of one year's calls (calls.year),
// within a staff member's scope. Drafts are never counted.

// Counts are the outcomes of a set of submitted applications. Submitted counts every one (withdrawn included),
// Admitted every one found eligible (waiting for the graduatoria, funded or not, paid), Funded the funded and paid.
type Counts struct {
	Submitted   int `db:"submitted"`
	Admitted    int `db:"admitted"`
	Funded      int `db:"funded"`
	NotAdmitted int `db:"not_admitted"`
	Withdrawn   int `db:"withdrawn"`
}

const countsSQL = `count(a.id) AS submitted,
	count(a.id) FILTER (WHERE a.status IN ('admitted', 'admitted_funded', 'admitted_not_funded', 'paid')) AS admitted,
	count(a.id) FILTER (WHERE a.status IN ('admitted_funded', 'paid')) AS funded,
	count(a.id) FILTER (WHERE a.status = 'not_admitted') AS not_admitted,
	count(a.id) FILTER (WHERE a.status = 'withdrawn') AS withdrawn`

// MeasureCounts are the counts of one measure (Total) or of one of its categories.
type MeasureCounts struct {
	Measure  string `db:"measure"`
	Category string `db:"category"` // "" on the measure's total
	Total    bool   `db:"total"`
	Counts
}

// ReasonCounts are the Misura Unica applications that gave one reason ("" when none is recorded).
type ReasonCounts struct {
	Reason string `db:"reason"`
	Counts
}

// PlaceCounts are the applications of a comune or a sub-ambito.
type PlaceCounts struct {
	Code          string `db:"code"` // "" for applications with no comune recorded
	Name          string `db:"name"`
	SubAmbito     string `db:"sub_ambito"`
	SubAmbitoName string `db:"sub_ambito_name"`
	Counts
}

// Durations are the days from submission to taking in charge and to the decision of a measure's applications:
// how many have each, their median and their mean (nil when none has).
type Durations struct {
	Measure       string   `db:"measure"`
	Taken         int      `db:"taken"`
	TakenMedian   *float64 `db:"taken_median"`
	TakenMean     *float64 `db:"taken_mean"`
	Decided       int      `db:"decided"`
	DecidedMedian *float64 `db:"decided_median"`
	DecidedMean   *float64 `db:"decided_mean"`
}

// Stats are one year's figures.
type Stats struct {
	// every measure with a call that year (its total, zeros included), then its categories that have applications
	Measures []MeasureCounts
	Reasons  []ReasonCounts // Misura Unica, by the reason field of the answers
	// every sub-ambito in scope, zeros included; comuni with at least one application; both by count, descending
	SubAmbiti []PlaceCounts
	Comuni    []PlaceCounts
	Times     []Durations // every measure with a call that year
}

// MisuraUnicaReasonField is the answer that holds a Misura Unica applicant's reason (forms/definitions/misura-unica):
// one of the five reasons CSC's own statistics count.
const MisuraUnicaReasonField = "reason"

// days is the interval from submission to a moment, in days, for the percentile and the mean.
func days(col string) string {
	return `extract(epoch FROM a.` + col + ` - a.submitted_at)::float8 / 86400`
}

// Stats reads one year's figures within scope, in one round trip (a pipelined batch).
func (db *DB) Stats(ctx context.Context, year int, scope Scope) (Stats, error) {
	var st Stats
	b := &pgx.Batch{}
	b.Queue(`SELECT c.measure, coalesce(a.category, '') AS category, grouping(a.category) = 1 AS total, `+countsSQL+`
		FROM calls c LEFT JOIN applications a ON a.call_id = c.id AND a.status <> 'draft' AND `+ScopeSQL(2)+`
		WHERE c.year = $1
		GROUP BY GROUPING SETS ((c.measure), (c.measure, a.category))
		HAVING grouping(a.category) = 1 OR coalesce(a.category, '') <> ''
		ORDER BY c.measure, total DESC, category`, year, scope.Arg()).
		Query(func(rows pgx.Rows) error {
			var err error
			st.Measures, err = pgx.CollectRows(rows, pgx.RowToStructByName[MeasureCounts])
			return err
		})
	b.Queue(`SELECT coalesce(a.answers->'value'->$3::text->>0, '') AS reason, `+countsSQL+`
		FROM applications a JOIN calls c ON c.id = a.call_id
		WHERE c.year = $1 AND c.measure = 'misura-unica' AND a.status <> 'draft' AND `+ScopeSQL(2)+`
		GROUP BY 1 ORDER BY submitted DESC, reason`, year, scope.Arg(), MisuraUnicaReasonField).
		Query(func(rows pgx.Rows) error {
			var err error
			st.Reasons, err = pgx.CollectRows(rows, pgx.RowToStructByName[ReasonCounts])
			return err
		})
	// the sub-ambiti in scope, each with its applications of the year (the scope is on the sub-ambito here, as
	// an application without one is nobody's)
	b.Queue(`SELECT sa.code, sa.name, sa.code AS sub_ambito, sa.name AS sub_ambito_name, `+countsSQL+`
		FROM sub_ambiti sa
		LEFT JOIN (applications a JOIN calls c ON c.id = a.call_id AND c.year = $1)
			ON a.sub_ambito = sa.code AND a.status <> 'draft'
		WHERE ($2::text[] IS NULL OR sa.code = ANY($2::text[]))
		GROUP BY sa.code, sa.name, sa.position
		ORDER BY submitted DESC, sa.position`, year, scope.Arg()).
		Query(func(rows pgx.Rows) error {
			var err error
			st.SubAmbiti, err = pgx.CollectRows(rows, pgx.RowToStructByName[PlaceCounts])
			return err
		})
	b.Queue(`SELECT coalesce(a.comune, '') AS code, coalesce(co.name, '') AS name, coalesce(a.sub_ambito, '') AS sub_ambito,
			coalesce(sa.name, '') AS sub_ambito_name, `+countsSQL+`
		FROM applications a JOIN calls c ON c.id = a.call_id
			LEFT JOIN comuni co ON co.code = a.comune LEFT JOIN sub_ambiti sa ON sa.code = a.sub_ambito
		WHERE c.year = $1 AND a.status <> 'draft' AND `+ScopeSQL(2)+`
		GROUP BY a.comune, co.name, a.sub_ambito, sa.name
		ORDER BY submitted DESC, name`, year, scope.Arg()).
		Query(func(rows pgx.Rows) error {
			var err error
			st.Comuni, err = pgx.CollectRows(rows, pgx.RowToStructByName[PlaceCounts])
			return err
		})
	b.Queue(`SELECT c.measure,
			count(a.taken_at) AS taken,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY `+days("taken_at")+`) AS taken_median,
			avg(`+days("taken_at")+`) AS taken_mean,
			count(a.decided_at) AS decided,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY `+days("decided_at")+`) AS decided_median,
			avg(`+days("decided_at")+`) AS decided_mean
		FROM calls c LEFT JOIN applications a ON a.call_id = c.id AND a.status <> 'draft' AND `+ScopeSQL(2)+`
		WHERE c.year = $1
		GROUP BY c.measure ORDER BY c.measure`, year, scope.Arg()).
		Query(func(rows pgx.Rows) error {
			var err error
			st.Times, err = pgx.CollectRows(rows, pgx.RowToStructByName[Durations])
			return err
		})
	if err := db.Pool.SendBatch(ctx, b).Close(); err != nil {
		return Stats{}, fmt.Errorf("storage: stats %d: %w", year, err)
	}
	return st, nil
}

// CallYears lists the years that have calls, newest first.
func (db *DB) CallYears(ctx context.Context) ([]int, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT DISTINCT year FROM calls ORDER BY year DESC`)
	years, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("storage: call years: %w", err)
	}
	return years, nil
}
