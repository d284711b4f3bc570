package forms

import (
	"path"
	"strings"
)

// Versions lists the IDs of a measure's embedded definitions, oldest first ("fna-b2/2026-v1", "fna-b2/2027-v1"),
// in the order Latest reads them; none for an unknown measure or one with no online form yet. Staff choose a
// call's form among these.
func Versions(measure string) []string {
	if _, ok := MeasureByCode(measure); !ok {
		return nil
	}
	entries, err := definitionFiles.ReadDir("definitions/" + measure)
	if err != nil {
		return nil
	}
	var ids []string
	for _, e := range entries { // ReadDir sorts by name
		if !e.IsDir() && path.Ext(e.Name()) == ".json" {
			ids = append(ids, measure+"/"+strings.TrimSuffix(e.Name(), ".json"))
		}
	}
	return ids
}
