package forms

import (
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
