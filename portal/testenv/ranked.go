package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// Decided is an application as the back office left it after deciding it, for graduatoria tests: written straight
// into the database with the columns a submitted application has (protocol, time of receipt, comune, category,
// the ranking key the forms package computes from the answers) and the decision's amount.
type Decided struct {
	CallID      int64  // 0: the seeded FNA Misura B2 call
	Category    string // the form's group_by value ("anziani"), "" for a measure without categories
	Status      string // admitted, admitted_funded, …; "" is admitted
	FirstName   string
	LastName    string
	ISEE        int64 // cents
	ReceivedAt  time.Time
	AmountCents int64 // with AmountMonths: the decision's own amount (monthly); 0 leaves it to the call's
	Months      int
	Comune      string // "" is crema
}

var decidedSeq atomic.Int64

// InsertDecided writes one decided application and returns its ID and protocol number.
func InsertDecided(t testing.TB, db *storage.DB, d Decided) (int64, string) {
	t.Helper()
	ctx := context.Background()
	n := decidedSeq.Add(1)
	if d.CallID == 0 {
		if err := db.Pool.QueryRow(ctx, `SELECT id FROM calls WHERE measure = 'fna-b2' ORDER BY year LIMIT 1`).Scan(&d.CallID); err != nil {
			t.Fatal(err)
		}
	}
	var version string
	if err := db.Pool.QueryRow(ctx, `SELECT form_version FROM calls WHERE id = $1`, d.CallID).Scan(&version); err != nil {
		t.Fatal(err)
	}
	def, err := forms.Load(version)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status == "" {
		d.Status = storage.StatusAdmitted
	}
	if d.Comune == "" {
		d.Comune = "crema"
	}
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = SeedTime.Add(time.Duration(n) * time.Minute)
	}
	cf := fmt.Sprintf("TSTRNK%09dX", n)
	values := map[string][]string{"first_name": {d.FirstName}, "last_name": {d.LastName}, "beneficiary_cf": {cf},
		"isee": {fmt.Sprint(d.ISEE)}}
	if def.Ranking.GroupBy != "" {
		values[def.Ranking.GroupBy] = []string{d.Category}
	}
	answers := forms.Answers{Definition: version, Raw: values, Value: values}
	raw, _ := json.Marshal(answers)
	var amount, months, period any
	if d.AmountCents > 0 {
		amount, months, period = d.AmountCents, max(d.Months, 1), "month"
	}
	var id int64
	var protocol string
	err = db.Pool.QueryRow(ctx, `
		WITH p AS (INSERT INTO people (fiscal_code) VALUES ($2) RETURNING id)
		INSERT INTO applications (call_id, applicant_id, create_key, form_version, answers, status, protocol, submitted_at,
			beneficiary_cf, comune, sub_ambito, category, ranking_key, decided_at, amount_cents, amount_period, amount_months)
		SELECT $1, p.id, substr(translate(upper(md5($2)), '0189', 'QRST'), 1, 26), $3, $4, $5,
			'CSC-2026-' || lpad($6::int::text, 6, '0'), $7, $2, $8, (SELECT sub_ambito FROM comuni WHERE code = $8), $9, $10,
			$7, $11, $12, $13
		FROM p RETURNING id, protocol`, d.CallID, cf, version, raw, d.Status, 900000+n, d.ReceivedAt, d.Comune,
		d.Category, forms.RankingKey(def, answers, d.ReceivedAt), amount, period, months).Scan(&id, &protocol)
	if err != nil {
		t.Fatal(err)
	}
	return id, protocol
}
