package forms

import (
	"slices"
	"testing"
)

// Every listed version loads, belongs to its measure, and the last one is what Latest returns.
func TestVersions(t *testing.T) {
	for _, m := range Measures {
		ids := Versions(m.Code)
		for _, id := range ids {
			d, err := Load(id)
			if err != nil || d.Measure != m.Code {
				t.Errorf("%s: %s does not load as a definition of the measure: %v", m.Code, id, err)
			}
		}
		if latest, err := Latest(m.Code); err == nil && (len(ids) == 0 || ids[len(ids)-1] != latest.ID) {
			t.Errorf("%s: versions %v, latest %s", m.Code, ids, latest.ID)
		}
	}
	if !slices.Contains(Versions("fna-b2"), "fna-b2/2026-v1") {
		t.Error("fna-b2/2026-v1 not listed")
	}
	for _, bad := range []string{"", "nope", "../forms", "fna-b2/2026-v1"} {
		if v := Versions(bad); v != nil {
			t.Errorf("Versions(%q) = %v", bad, v)
		}
	}
}
