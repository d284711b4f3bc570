package forms

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/i18n"
)

// The template data of every Problem matches the placeholders of its message in every language: a misspelt key
// renders as "<no value>" in front of a resident. Values are formatted the way the portal is told to.
func TestProblemsRender(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	today := date("2026-11-22")
	problems := []Problem{
		ValidateISEE(2_600_000, 2_500_000),
		ISEEValidOn(date("2025-03-01"), today),
		NotBefore(date("2020-01-01"), today),
		NotAfter(today, date("2020-01-01")),
		WithinYears(date("1800-01-01"), today, 120),
		NotFuture(today.AddDate(0, 0, 1), today),
		problem(ErrNumberTooLarge, "Max", 12), // as a number field with max 12 reports it
		// the reasons of the ISEE rules, as Eligibility returns them
		{ID: "form.fna_b2.reason.isee_above", Data: map[string]any{"Max": Cents(2_500_000)}},
		{ID: "form.misura_unica.reason.isee_above", Data: map[string]any{"Max": Cents(2_600_000)}},
	}
	for _, lang := range i18n.Languages {
		z := b.Localizer(lang.Code)
		for _, p := range problems {
			data := map[string]any{}
			for k, v := range p.Data {
				switch v := v.(type) {
				case Cents:
					data[k] = z.Money(float64(v) / 100)
				case time.Time:
					data[k] = z.Date(v)
				case int:
					data[k] = strconv.Itoa(v)
				default:
					t.Fatalf("%s: %s has a %T, which the portal cannot format", p.ID, k, v)
				}
			}
			got := z.T(p.ID, data)
			if got == p.ID || strings.Contains(got, "<no value>") || strings.Contains(got, "{{") {
				t.Errorf("%s %s: %q", lang.Code, p.ID, got)
			}
			for _, v := range data {
				if !strings.Contains(got, v.(string)) {
					t.Errorf("%s %s: %q does not show %q", lang.Code, p.ID, got, v)
				}
			}
		}
	}
	// The upload limits come from the portal already formatted ("50 MB"), not from a Problem.
	for _, lang := range i18n.Languages {
		z := b.Localizer(lang.Code)
		if got := z.T("form.error.application_too_large", map[string]any{"Max": "50 MB"}); !strings.Contains(got, "50 MB") ||
			got == "form.error.application_too_large" {
			t.Errorf("%s: application_too_large = %q", lang.Code, got)
		}
		if got := z.T("form.error.file_infected"); got == "form.error.file_infected" || got == "" {
			t.Errorf("%s: file_infected missing", lang.Code)
		}
	}
	if got := b.Localizer("it").T(ErrISEEAboveMax, map[string]any{"Max": b.Localizer("it").Money(25000)}); !strings.Contains(got, "25.000,00") {
		t.Errorf("it: %q", got)
	}
}
