package forms

import (
	"maps"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"
)

func TestB2MonthsInYear(t *testing.T) {
	p := func(from, to string) Period {
		var pp Period
		if from != "" {
			pp.From = date(from)
		}
		if to != "" {
			pp.To = date(to)
		}
		return pp
	}
	tests := []struct {
		name    string
		periods []Period
		want    int
	}{
		{"no B2 at all", nil, 0},
		{"January to March", []Period{p("2026-01-01", "2026-03-31")}, 3},
		{"mid-month to mid-month: every month begun counts", []Period{p("2026-01-15", "2026-03-14")}, 3},
		{"one day", []Period{p("2026-02-28", "2026-02-28")}, 1},
		{"from the year before", []Period{p("2025-11-01", "2026-02-10")}, 2},
		{"into the year after", []Period{p("2026-11-20", "2027-03-31")}, 2},
		{"a whole other year", []Period{p("2025-01-01", "2025-12-31")}, 0},
		{"overlapping periods count each month once", []Period{p("2026-03-01", "2026-05-31"), p("2026-04-15", "2026-06-30")}, 4},
		{"two periods with a gap", []Period{p("2026-01-01", "2026-01-31"), p("2026-09-01", "2026-10-15")}, 3},
		{"end before start counts nothing", []Period{p("2026-05-01", "2026-03-01")}, 0},
		{"still running: to the end of the year", []Period{p("2026-10-05", "")}, 3},
		{"since before the year", []Period{p("", "2026-02-15")}, 2},
		{"the whole year, twice over", []Period{p("2020-01-01", ""), p("2026-01-01", "2026-12-31")}, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := B2MonthsInYear(tt.periods, 2026); got != tt.want {
				t.Errorf("B2MonthsInYear = %d, want %d", got, tt.want)
			}
		})
	}
	// Days are the calendar days where the record was written: 31 March at 23:30 in Rome is March, not April.
	late := time.Date(2026, 3, 31, 23, 30, 0, 0, rome)
	if got := B2MonthsInYear([]Period{{From: late, To: late}}, 2026); got != 1 {
		t.Errorf("31 March late evening in Rome: %d months", got)
	}
	if got := B2MonthsInYear([]Period{{From: time.Date(2026, 1, 1, 0, 30, 0, 0, rome), To: late}}, 2025); got != 0 {
		t.Errorf("1 January just after midnight in Rome counted in 2025: %d", got)
	}
}

// The minimum of B2 months is stated twice, in Go for the portal's check against its records and in the caregiver
// definition's rule: they must agree.
func TestB2MinMonthsMatchesTheDefinition(t *testing.T) {
	d := caregiver(t)
	for _, r := range d.Eligibility {
		if r.Require.Field == "b2_months" {
			if r.Require.Op != OpAtLeast || r.Require.Value != strconv.Itoa(B2MinMonths) {
				t.Errorf("rule %s: %+v, want b2_months gte %d", r.ID, r.Require, B2MinMonths)
			}
			return
		}
	}
	t.Error("no rule on b2_months")
}

func caregiver(t *testing.T) *Definition {
	t.Helper()
	d, err := Latest("caregiver")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// caregiverForm: Laura Bianchi applies as the family caregiver of her father Giuseppe, born in Crema on 5 February
// 1940, who got the B2 buono for 5 months.
func caregiverForm() map[string]string {
	return map[string]string{
		"on_behalf": "yes", "relationship": "child", "applicant_is_caregiver": "yes",
		"first_name": "Giuseppe", "last_name": "Bianchi", "beneficiary_cf": withCheck("BNCGPP40B05D142"), "birth_date": "05/02/1940",
		"comune": "Offanengo", "address": "Via Roma 1", "cap": "26010", "lives_at_home": "yes",
		"b2_months": "5",
		"iban":      "IT60X0542811101000000123456", "account_holder": "Laura Bianchi",
		"self_declaration": "yes", "privacy": "yes",
	}
}

// anotherCaregiver adds the details of a caregiver who is not the applicant.
func anotherCaregiver(f map[string]string) {
	f["caregiver_first_name"], f["caregiver_last_name"] = "Laura", "Bianchi"
	f["caregiver_cf"], f["caregiver_relationship"] = withCheck("BNCLRA70L60D142"), "child"
}

func TestCaregiverApplications(t *testing.T) {
	d := caregiver(t)
	tests := []struct {
		name          string
		change        func(map[string]string)
		problems      map[string]string
		reasons       []string
		docs          []string
		caregiverOnly bool     // whether the caregiver's details are asked
		dropped       []string // answers posted but hidden, so not kept
	}{
		{name: "the caregiver applies for her father", docs: []string{"identity_document", "beneficiary_identity_document"},
			dropped: []string{"caregiver_first_name", "caregiver_cf"},
			change: func(f map[string]string) {
				anotherCaregiver(f) // posted by a stale page, but the applicant is the caregiver: not asked, not kept
			}},
		{name: "a guardian applies and names the caregiver", change: func(f map[string]string) {
			f["relationship"], f["applicant_is_caregiver"] = "guardian", "no"
			anotherCaregiver(f)
		}, caregiverOnly: true,
			docs: []string{"identity_document", "beneficiary_identity_document", "caregiver_identity_document", "guardianship_decree"}},
		{name: "the assisted person applies", change: func(f map[string]string) {
			f["on_behalf"], f["relationship"], f["applicant_is_caregiver"] = "no", "child", "yes"
			anotherCaregiver(f)
		}, caregiverOnly: true, docs: []string{"identity_document", "caregiver_identity_document"},
			dropped: []string{"relationship", "applicant_is_caregiver"}},
		{name: "the caregiver's details left empty", change: func(f map[string]string) {
			f["applicant_is_caregiver"] = "no"
		}, caregiverOnly: true, problems: map[string]string{"caregiver_first_name": ErrRequired, "caregiver_last_name": ErrRequired,
			"caregiver_cf": ErrCFRequired, "caregiver_relationship": ErrRequired},
			docs: []string{"identity_document", "beneficiary_identity_document", "caregiver_identity_document"}},
		{name: "exactly 3 months of B2", change: func(f map[string]string) { f["b2_months"] = " 3 " },
			docs: []string{"identity_document", "beneficiary_identity_document"}},
		{name: "2 months of B2 are not enough", change: func(f map[string]string) { f["b2_months"] = "2" },
			reasons: []string{"b2_months"}, docs: []string{"identity_document", "beneficiary_identity_document"}},
		{name: "no B2 at all", change: func(f map[string]string) { f["b2_months"] = "0" },
			reasons: []string{"b2_months"}, docs: []string{"identity_document", "beneficiary_identity_document"}},
		{name: "more months than a year has", change: func(f map[string]string) { f["b2_months"] = "13" },
			problems: map[string]string{"b2_months": ErrNumberTooLarge}, docs: []string{"identity_document", "beneficiary_identity_document"}},
		{name: "months in words", change: func(f map[string]string) { f["b2_months"] = "tre" },
			problems: map[string]string{"b2_months": ErrNumberInvalid}, docs: []string{"identity_document", "beneficiary_identity_document"}},
		{name: "lives outside the district, in an RSA", change: func(f map[string]string) {
			f["comune"], f["lives_at_home"] = "Lodi", "no"
		}, problems: map[string]string{"comune": ErrComuneOutsideDistrict}, reasons: []string{"resident", "at_home"},
			docs: []string{"identity_document", "beneficiary_identity_document"}},
		{name: "birth date against the fiscal code, declaration refused", change: func(f map[string]string) {
			f["birth_date"], f["privacy"] = "06/02/1940", "no"
		}, problems: map[string]string{"birth_date": ErrCFBirthMismatch, "privacy": ErrDeclarationRequired},
			docs: []string{"identity_document", "beneficiary_identity_document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := caregiverForm()
			if tt.change != nil {
				tt.change(values)
			}
			parsed, stepProblems := fill(t, d, values)
			a, problems := Validate(d, parsed, CallParams{}, day2026)
			got := map[string]string{}
			for f, p := range problems {
				got[f] = p.ID
			}
			if !maps.Equal(got, tt.problems) && !(len(got) == 0 && len(tt.problems) == 0) {
				t.Errorf("Validate problems = %v, want %v", got, tt.problems)
			}
			for f, p := range stepProblems {
				if problems[f].ID != p.ID {
					t.Errorf("Parse said %s: %s, Validate said %q", f, p.ID, problems[f].ID)
				}
			}
			if a.Definition != "caregiver/2026-v1" {
				t.Errorf("definition %q", a.Definition)
			}
			if reasons := ruleIDs(Eligibility(d, a, CallParams{Opens: demoCall.Opens})); !slices.Equal(reasons, tt.reasons) {
				t.Errorf("Eligibility = %v, want %v", reasons, tt.reasons)
			}
			if docs := docTypes(RequiredDocuments(d, a)); !slices.Equal(docs, tt.docs) {
				t.Errorf("RequiredDocuments = %v, want %v", docs, tt.docs)
			}
			// the caregiver's step always asks something once the first page is answered, so no page is empty
			s, _ := d.Step("caregiver")
			if !StepShown(d, s, a) {
				t.Error("caregiver step asks nothing")
			}
			if f, _ := d.Field("caregiver_cf"); a.holds(d, *f.ShowIf) != tt.caregiverOnly {
				t.Errorf("caregiver's details asked = %v, want %v", !tt.caregiverOnly, tt.caregiverOnly)
			}
			for _, id := range tt.dropped {
				if a.Raw[id] != nil || a.Value[id] != nil {
					t.Errorf("hidden %s kept: %q", id, a.Raw[id])
				}
			}
		})
	}
}

// Before anything is answered every field of the caregiver's step is hidden: StepShown lets the wizard skip it.
func TestStepShown(t *testing.T) {
	d := caregiver(t)
	s, _ := d.Step("caregiver")
	if StepShown(d, s, Answers{}) {
		t.Error("caregiver step shown with no answers")
	}
	for _, v := range []string{"yes", "no"} {
		a, _ := Parse(d, "applicant", map[string][]string{"on_behalf": {v}, "relationship": {"child"}}, Answers{}, day2026)
		if !StepShown(d, s, a) {
			t.Errorf("on_behalf %s: caregiver step not shown", v)
		}
	}
	b, _ := d.Step("beneficiary")
	if !StepShown(d, b, Answers{}) {
		t.Error("a step without conditions not shown")
	}
}

func TestCaregiverNumberTooLargeCarriesTheMax(t *testing.T) {
	d := caregiver(t)
	_, p := Parse(d, "b2", map[string][]string{"b2_months": {"١٣"}}, Answers{}, day2026) // 13 in Arabic-Indic digits
	if p["b2_months"].ID != ErrNumberTooLarge || p["b2_months"].Data["Max"] != 12 {
		t.Errorf("problems %+v", p)
	}
	a, p := Parse(d, "b2", map[string][]string{"b2_months": {"١٢"}}, Answers{}, day2026)
	if len(p) > 0 || a.Get("b2_months") != "12" {
		t.Errorf("12 months: %+v %v", a, p)
	}
}

// Without a ranking key the caregiver bonus goes in order of receipt; there are no categories, so the call's budget
// is under KeyAll.
func TestCaregiverRanking(t *testing.T) {
	d := caregiver(t)
	if d.Ranking.GroupBy != "" || len(d.Ranking.Keys) != 0 {
		t.Fatalf("ranking %+v", d.Ranking)
	}
	at := func(h, m, s int) time.Time { return time.Date(2026, 3, 2, h, m, s, 0, rome) }
	received := map[string]time.Time{"second": at(9, 0, 2), "first": at(9, 0, 1), "third": at(11, 30, 0), "last": at(17, 0, 0)}
	var keys []string
	byKey := map[string]string{}
	for name, when := range received {
		v := caregiverForm()
		v["b2_months"] = strconv.Itoa(len(name)) // the months do not change the order
		a, _ := fill(t, d, v)
		k := RankingKey(d, a, when)
		keys = append(keys, k)
		byKey[k] = name
	}
	sort.Strings(keys)
	var got []string
	for _, k := range keys {
		got = append(got, byKey[k])
	}
	if want := []string{"first", "second", "third", "last"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

// B2MonthsInYear agrees with counting month by month, and neither the order of the periods nor a period repeated or
// added can lower the count.
func FuzzB2MonthsInYear(f *testing.F) {
	f.Add(int64(0), int32(90), int64(200), int32(30), uint8(0), uint16(2026))
	f.Add(int64(-400), int32(-10), int64(300), int32(0), uint8(3), uint16(2025))
	f.Fuzz(func(t *testing.T, from1 int64, len1 int32, from2 int64, len2 int32, open uint8, year uint16) {
		y := 2000 + int(year)%60
		base := time.Date(y, 1, 1, 12, 0, 0, 0, time.UTC)
		period := func(from int64, length int32, open bool) Period {
			p := Period{From: base.AddDate(0, 0, int(from%2000))}
			if !open {
				p.To = p.From.AddDate(0, 0, int(length%800))
			}
			return p
		}
		ps := []Period{period(from1, len1, open&1 != 0), period(from2, len2, open&2 != 0)}
		n := B2MonthsInYear(ps, y)
		want := 0
		for m := time.January; m <= time.December; m++ {
			first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
			last := first.AddDate(0, 1, -1)
			for _, p := range ps {
				to := day(p.To)
				if p.To.IsZero() {
					to = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
				}
				if !day(p.From).After(last) && !to.Before(first) && !to.Before(day(p.From)) {
					want++
					break
				}
			}
		}
		if n != want || n < 0 || n > 12 {
			t.Fatalf("%+v in %d: %d months, want %d", ps, y, n, want)
		}
		if B2MonthsInYear([]Period{ps[1], ps[0]}, y) != n || B2MonthsInYear(append(ps, ps...), y) != n {
			t.Fatalf("%+v: the order or a repetition changed the count", ps)
		}
		if B2MonthsInYear(ps[:1], y) > n || B2MonthsInYear(append(ps, Period{From: base}), y) < n {
			t.Fatalf("%+v: a period more lowered the count", ps)
		}
	})
}
