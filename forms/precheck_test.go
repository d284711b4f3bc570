package forms

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEligibilityFieldsAreTheRulesFields(t *testing.T) {
	d, err := Latest("fna-b2")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range EligibilityFields(d) {
		got = append(got, f.ID)
	}
	want := "birth_date comune lives_at_home category certification isee_type isee"
	if g := strings.Join(got, " "); g != want {
		t.Errorf("fields %q, want %q", g, want)
	}
}

func TestMistypedComune(t *testing.T) {
	for name, want := range map[string]bool{
		"Milano": false, "Cremona": false, "Lodi": false, "Bergamo": false, "Roma": false, "Brescia": false,
		"Crem": true, "Cremaa": true, "Offanengoo": true, "Pandino 2": true, "26013": true, "???": true,
		"Bagnolo Cremsco": true,
	} {
		if got := mistypedComune(name); got != want {
			t.Errorf("mistypedComune(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestParsePrecheck(t *testing.T) {
	d, _ := Latest("fna-b2")
	today := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	form := map[string][]string{"birth_date": {"01/02/1940"}, "comune": {"Milano"}, "lives_at_home": {"yes"},
		"category": {"anziani"}, "certification": {"accompagnamento"}, "isee_type": {"socio_sanitario"}, "isee": {"30.000"}}
	a, problems := ParsePrecheck(d, form, "it", today)
	if len(problems) != 0 {
		t.Fatalf("problems %v", problems)
	}
	call := CallParams{Thresholds: map[string]int64{"anziani": 25_000_00}, Opens: today}
	var rules []string
	for _, r := range Eligibility(d, a, call) {
		rules = append(rules, r.Rule)
	}
	if g := strings.Join(rules, " "); g != "resident isee_threshold" {
		t.Errorf("reasons %q", g)
	}
	form["isee"], form["comune"], form["category"] = []string{"12,3,4"}, []string{"Cremaa"}, nil
	_, problems = ParsePrecheck(d, form, "it", today)
	if problems["isee"].ID != ErrAmountFormat && problems["isee"].ID != ErrAmountAmbiguous ||
		problems["comune"].ID != ErrComuneOutsideDistrict || problems["category"].ID != ErrRequired {
		t.Errorf("problems %v", problems)
	}
}

func TestEligibilityFieldsOfEveryMeasure(t *testing.T) {
	for measure, want := range map[string]string{
		"caregiver":    "comune lives_at_home b2_months",
		"misura-unica": "comune resident_in_rented_home public_housing owns_adequate_home contract_registered isee",
	} {
		d, err := Latest(measure)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range EligibilityFields(d) {
			got = append(got, f.ID)
			// ParsePrecheck asks every question, so none may hang on another's answer
			if f.ShowIf != nil {
				t.Errorf("%s: pre-check question %s has a show_if", measure, f.ID)
			}
		}
		if g := strings.Join(got, " "); g != want {
			t.Errorf("%s: fields %q, want %q", measure, g, want)
		}
	}
}

func TestParsePrecheckCaregiver(t *testing.T) {
	d, _ := Latest("caregiver")
	today := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	form := map[string][]string{"comune": {"Sergnano"}, "lives_at_home": {"yes"}, "b2_months": {"2"}}
	a, problems := ParsePrecheck(d, form, "it", today)
	if len(problems) != 0 {
		t.Fatalf("problems %v", problems)
	}
	// the caregiver bonus has no ISEE: a call without thresholds decides every rule
	if r := ruleIDs(Eligibility(d, a, CallParams{Opens: today})); !slices.Equal(r, []string{"b2_months"}) {
		t.Errorf("reasons %v", r)
	}
	form["b2_months"] = []string{"4"}
	a, _ = ParsePrecheck(d, form, "it", today)
	if r := Eligibility(d, a, CallParams{Opens: today}); len(r) != 0 {
		t.Errorf("4 months: %v", r)
	}
	form["b2_months"], form["lives_at_home"] = []string{"24"}, nil
	_, problems = ParsePrecheck(d, form, "it", today)
	if problems["b2_months"].ID != ErrNumberTooLarge || problems["lives_at_home"].ID != ErrRequired {
		t.Errorf("problems %v", problems)
	}
}

func TestParsePrecheckMisuraUnica(t *testing.T) {
	d, _ := Latest("misura-unica")
	today := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	form := map[string][]string{"comune": {"Pandino"}, "resident_in_rented_home": {"yes"}, "public_housing": {"yes"},
		"owns_adequate_home": {"no"}, "contract_registered": {"yes"}, "isee": {"€ 27.000"}}
	a, problems := ParsePrecheck(d, form, "it", today)
	if len(problems) != 0 {
		t.Fatalf("problems %v", problems)
	}
	call := CallParams{Thresholds: map[string]int64{KeyAll: 26_000_00}, Opens: today}
	r := Eligibility(d, a, call)
	if rules := ruleIDs(r); !slices.Equal(rules, []string{"private_rental", "isee_threshold"}) {
		t.Errorf("reasons %v", rules)
	}
	if r[len(r)-1].Data["Max"] != Cents(26_000_00) {
		t.Errorf("threshold reason data %v", r[len(r)-1].Data)
	}
}

// editDistance is a metric, bounded by the lengths: mistypedComune's "one or two slips" rests on it.
func FuzzEditDistance(f *testing.F) {
	f.Add("crema", "cremaa", "crem")
	f.Add("", "offanengo", "È")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		trim := func(s string) string {
			if r := []rune(s); len(r) > 40 {
				return string(r[:40])
			}
			return s
		}
		a, b, c = trim(a), trim(b), trim(c)
		la, lb := len([]rune(a)), len([]rune(b))
		ab, ba := editDistance(a, b), editDistance(b, a)
		if editDistance(a, a) != 0 || ab != ba || ab < max(la, lb)-min(la, lb) || ab > max(la, lb) {
			t.Fatalf("editDistance(%q, %q) = %d, reverse %d", a, b, ab, ba)
		}
		if (ab == 0) != (a == b) && (ab == 0) != slices.Equal([]rune(a), []rune(b)) {
			t.Fatalf("editDistance(%q, %q) = %d", a, b, ab)
		}
		if editDistance(a, c) > ab+editDistance(b, c) {
			t.Fatalf("triangle inequality broken by %q, %q, %q", a, b, c)
		}
	})
}

// The pre-check of every measure: whatever is posted, the problems are messages on the questions asked, and when
// there are none every rule can be decided — "you can apply" never rests on a question left unanswered.
func FuzzParsePrecheck(f *testing.F) {
	var defs []*Definition
	for _, m := range Measures {
		d, err := Latest(m.Code)
		if err != nil {
			f.Fatal(err)
		}
		defs = append(defs, d)
	}
	catalogue := italianCatalogue(f)
	f.Add(uint8(0), "Crema", "yes", "12.000")
	f.Add(uint8(1), "Milano", "no", "3")
	f.Add(uint8(2), "Cremaa", "13", "26.000,01")
	f.Add(uint8(0), "", "anziani", "01/02/1940")
	f.Fuzz(func(t *testing.T, which uint8, v1, v2, v3 string) {
		d := defs[int(which)%len(defs)]
		form := map[string][]string{}
		questions := EligibilityFields(d)
		for i, q := range questions {
			v := []string{v1, v2, v3}[i%3]
			if q.Kind == KindChoice && i%2 == 0 && len(q.Options) > 0 { // reach the choices too
				v = q.Options[len(v)%len(q.Options)].Value
			}
			form[q.ID] = []string{v, v3}
		}
		a, problems := ParsePrecheck(d, form, "it", day2026)
		asked := map[string]bool{}
		for _, q := range questions {
			asked[q.ID] = true
		}
		for id, p := range problems {
			if !asked[id] || !inCatalogue(catalogue, p.ID) {
				t.Fatalf("%s: problem %q on %q", d.ID, p.ID, id)
			}
		}
		call := CallParams{Thresholds: map[string]int64{KeyAll: 2_600_000}, Opens: rentCall.Opens}
		for k, v := range demoCall.Thresholds {
			call.Thresholds[k] = v
		}
		reasons := Eligibility(d, a, call)
		for _, r := range reasons {
			if !inCatalogue(catalogue, r.ID) {
				t.Fatalf("%s: reason %q", d.ID, r.ID)
			}
		}
		if len(problems) > 0 {
			return
		}
		for _, r := range d.Eligibility {
			if r.If != nil {
				if _, known := a.eval(d, *r.If, call); !known {
					t.Fatalf("%s: rule %s: condition undecided with answers %v", d.ID, r.ID, a.Raw)
				}
			}
			if _, known := a.eval(d, r.Require, call); !known {
				t.Fatalf("%s: rule %s undecided with answers %v", d.ID, r.ID, a.Raw)
			}
		}
	})
}
