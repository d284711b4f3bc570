package forms

import "testing"

func TestMeasureLookups(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range Measures {
		if seen[m.Code] || seen[m.Slug] {
			t.Errorf("duplicate code or slug in %+v", m)
		}
		seen[m.Code], seen[m.Slug] = true, true
		if got, ok := MeasureBySlug(m.Slug); !ok || got.Code != m.Code {
			t.Errorf("MeasureBySlug(%q) = %+v, %v", m.Slug, got, ok)
		}
		if got, ok := MeasureByCode(m.Code); !ok || got.Slug != m.Slug {
			t.Errorf("MeasureByCode(%q) = %+v, %v", m.Code, got, ok)
		}
	}
	for _, bad := range []string{"", "FNA-MISURA-B2", "fna-misura-b2/", "../x"} {
		if _, ok := MeasureBySlug(bad); ok {
			t.Errorf("MeasureBySlug(%q) found something", bad)
		}
	}
	if len(Measures) != 3 {
		t.Errorf("%d measures, want the three of the district", len(Measures))
	}
}
