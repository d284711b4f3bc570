package storage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// statApp is one application for the statistics tests: taken and decided are days after submission (0: not yet).
type statApp struct {
	year                                      int
	measure, status, comune, category, reason string
	taken, decided                            float64
}

// insertStatApps writes applications straight into the database, each with its own applicant and beneficiary.
func insertStatApps(t *testing.T, db *storage.DB, apps []statApp) {
	t.Helper()
	ctx := context.Background()
	submitted := time.Date(2026, 3, 2, 10, 0, 0, 0, i18n.Rome)
	for i, a := range apps {
		cf := fmt.Sprintf("STATSA%010d", i)
		answers := map[string]any{"definition": a.measure + "/2026-v1", "raw": map[string]any{}, "value": map[string]any{}}
		if a.reason != "" {
			answers["value"] = map[string][]string{"reason": {a.reason}}
		}
		js, _ := json.Marshal(answers)
		var protocol, beneficiary *string
		var at, taken, due, decided *time.Time
		if a.status != "draft" {
			p := fmt.Sprintf("CSC-%d-%06d", a.year, 900000+i)
			protocol, beneficiary, at = &p, &cf, &submitted
		}
		if a.taken > 0 {
			tk := submitted.Add(time.Duration(a.taken * 24 * float64(time.Hour)))
			d := tk.AddDate(0, 0, 30)
			taken, due = &tk, &d
		}
		if a.decided > 0 {
			d := submitted.Add(time.Duration(a.decided * 24 * float64(time.Hour)))
			decided = &d
		}
		var comune, sub *string
		if a.comune != "" {
			comune = &a.comune
			sub = new(string)
			if err := db.Pool.QueryRow(ctx, `SELECT sub_ambito FROM comuni WHERE code = $1`, a.comune).Scan(sub); err != nil {
				t.Fatalf("comune %s: %v", a.comune, err)
			}
		}
		_, err := db.Pool.Exec(ctx, `
			WITH p AS (INSERT INTO people (fiscal_code) VALUES ($1) RETURNING id)
			INSERT INTO applications (call_id, applicant_id, create_key, form_version, status, protocol, submitted_at,
				beneficiary_cf, comune, sub_ambito, category, answers, taken_at, due_on, decided_at)
			SELECT (SELECT id FROM calls WHERE measure = $2 AND year = $3), p.id,
				substr(translate(upper(md5($1)), '0189', 'QRST'), 1, 26), $2 || '/2026-v1', $4, $5, $6, $7, $8, $9, $10,
				$11, $12, $13, $14
			FROM p`, cf, a.measure, a.year, a.status, protocol, at, beneficiary, comune, sub, a.category, js, taken, due, decided)
		if err != nil {
			t.Fatalf("application %d: %v", i, err)
		}
	}
}

// statData is a small year of applications: FNA B2 in four categories and three sub-ambiti, Misura Unica with
// reasons, nothing yet for the caregiver bonus; a draft and an application of the previous year's call that no
// figure of 2026 may count.
var statData = []statApp{
	{2026, "fna-b2", "submitted", "crema", "anziani", "", 0, 0},
	{2026, "fna-b2", "admitted_funded", "crema", "anziani", "", 2, 10},
	{2026, "fna-b2", "paid", "offanengo", "anziani", "", 4, 20},
	{2026, "fna-b2", "admitted_not_funded", "crema", "disabili_adulti", "", 6, 30},
	{2026, "fna-b2", "not_admitted", "montodine", "disabili_adulti", "", 1, 5},
	{2026, "fna-b2", "withdrawn", "crema", "voucher", "", 0, 0},
	{2026, "fna-b2", "admitted", "crema", "caregiver_minori", "", 3, 0},
	{2026, "fna-b2", "draft", "", "", "", 0, 0},
	{2026, "misura-unica", "admitted_funded", "soncino", "", "job_loss", 1, 15},
	{2026, "misura-unica", "submitted", "crema", "", "job_loss", 0, 0},
	{2026, "misura-unica", "not_admitted", "crema", "", "pension_only", 2, 4},
	{2026, "misura-unica", "submitted", "offanengo", "", "", 0, 0},
	{2025, "fna-b2", "paid", "crema", "anziani", "", 1, 2},
}

func addCall2025(t *testing.T, db *storage.DB) {
	t.Helper()
	if _, err := db.Pool.Exec(context.Background(), `INSERT INTO calls (measure, year, opens_at, closes_at, form_version)
		VALUES ('fna-b2', 2025, '2025-03-01 09:00+01', '2025-04-30 12:00+02', 'fna-b2/2026-v1')`); err != nil {
		t.Fatal(err)
	}
}

func counts(s, a, f, n, w int) storage.Counts {
	return storage.Counts{Submitted: s, Admitted: a, Funded: f, NotAdmitted: n, Withdrawn: w}
}

func near(p *float64, want float64) bool { return p != nil && math.Abs(*p-want) < 1e-6 }

func TestStatsCountsOneYearWithinScope(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	addCall2025(t, db)
	insertStatApps(t, db, statData)

	st, err := db.Stats(ctx, 2026, storage.Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	wantMeasures := []storage.MeasureCounts{
		{Measure: "caregiver", Total: true},
		{Measure: "fna-b2", Total: true, Counts: counts(7, 4, 2, 1, 1)},
		{Measure: "fna-b2", Category: "anziani", Counts: counts(3, 2, 2, 0, 0)},
		{Measure: "fna-b2", Category: "caregiver_minori", Counts: counts(1, 1, 0, 0, 0)},
		{Measure: "fna-b2", Category: "disabili_adulti", Counts: counts(2, 1, 0, 1, 0)},
		{Measure: "fna-b2", Category: "voucher", Counts: counts(1, 0, 0, 0, 1)},
		{Measure: "misura-unica", Total: true, Counts: counts(4, 1, 1, 1, 0)},
	}
	if fmt.Sprint(st.Measures) != fmt.Sprint(wantMeasures) {
		t.Errorf("measures\n got %v\nwant %v", st.Measures, wantMeasures)
	}
	wantReasons := []storage.ReasonCounts{
		{Reason: "job_loss", Counts: counts(2, 1, 1, 0, 0)},
		{Reason: "", Counts: counts(1, 0, 0, 0, 0)},
		{Reason: "pension_only", Counts: counts(1, 0, 0, 1, 0)},
	}
	if fmt.Sprint(st.Reasons) != fmt.Sprint(wantReasons) {
		t.Errorf("reasons\n got %v\nwant %v", st.Reasons, wantReasons)
	}
	var comuni []string
	for _, c := range st.Comuni {
		comuni = append(comuni, fmt.Sprintf("%s/%s:%d/%d/%d", c.Name, c.SubAmbito, c.Submitted, c.Admitted, c.Funded))
	}
	if want := "[Crema/crema:7/3/1 Offanengo/soncino:2/1/1 Montodine/bagnolo-cremasco:1/0/0 Soncino/soncino:1/1/1]"; fmt.Sprint(comuni) != want {
		t.Errorf("comuni %v, want %s", comuni, want)
	}
	var subs []string
	for _, s := range st.SubAmbiti {
		subs = append(subs, fmt.Sprintf("%s:%d", s.Code, s.Submitted))
	}
	if want := "[crema:7 soncino:3 bagnolo-cremasco:1 castelleone:0 pandino:0 sergnano:0]"; fmt.Sprint(subs) != want {
		t.Errorf("sub-ambiti %v, want %s", subs, want)
	}
	if len(st.Times) != 3 {
		t.Fatalf("times %+v", st.Times)
	}
	cg, fna, mu := st.Times[0], st.Times[1], st.Times[2]
	if cg.Measure != "caregiver" || cg.Taken != 0 || cg.TakenMedian != nil || cg.DecidedMean != nil {
		t.Errorf("caregiver times %+v", cg)
	}
	if fna.Taken != 5 || !near(fna.TakenMedian, 3) || !near(fna.TakenMean, 3.2) ||
		fna.Decided != 4 || !near(fna.DecidedMedian, 15) || !near(fna.DecidedMean, 16.25) {
		t.Errorf("fna times %+v", fna)
	}
	if mu.Taken != 2 || !near(mu.TakenMedian, 1.5) || !near(mu.TakenMean, 1.5) || mu.Decided != 2 || !near(mu.DecidedMedian, 9.5) {
		t.Errorf("misura unica times %+v", mu)
	}

	// An operatore of Crema: the other sub-ambiti's applications count nowhere.
	st, err = db.Stats(ctx, 2026, storage.ScopeOf(storage.StaffUser{Role: storage.RoleOperatore, Scopes: []string{"crema"}}))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(st.Measures[1]) != fmt.Sprint(storage.MeasureCounts{Measure: "fna-b2", Total: true, Counts: counts(5, 3, 1, 0, 1)}) {
		t.Errorf("fna in crema %v", st.Measures[1])
	}
	if len(st.Comuni) != 1 || st.Comuni[0].Code != "crema" || len(st.SubAmbiti) != 1 || st.SubAmbiti[0].Submitted != 7 {
		t.Errorf("territory in crema %v %v", st.Comuni, st.SubAmbiti)
	}
	if len(st.Reasons) != 2 || st.Reasons[0].Submitted != 1 || st.Reasons[1].Submitted != 1 {
		t.Errorf("reasons in crema %v", st.Reasons)
	}
	if fna := st.Times[1]; fna.Taken != 3 || !near(fna.TakenMedian, 3) || !near(fna.TakenMean, 11.0/3) {
		t.Errorf("fna times in crema %+v", fna)
	}
	// An operatore with no sub-ambiti sees nothing at all, not everything.
	st, err = db.Stats(ctx, 2026, storage.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Measures[1].Submitted != 0 || len(st.Comuni) != 0 || len(st.SubAmbiti) != 0 || len(st.Reasons) != 0 {
		t.Errorf("empty scope sees %+v", st)
	}

	// The previous year holds only its own application.
	st, err = db.Stats(ctx, 2025, storage.Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Measures) != 2 || st.Measures[0].Submitted != 1 || st.Measures[0].Funded != 1 || len(st.Comuni) != 1 {
		t.Errorf("2025 %+v", st)
	}
	years, err := db.CallYears(ctx)
	if err != nil || fmt.Sprint(years) != "[2026 2025]" {
		t.Errorf("call years %v %v", years, err)
	}
}
