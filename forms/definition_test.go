package forms

import (
	"strings"
	"testing"
	"time"
)

// minimal is the smallest valid definition; each case below breaks it in one way.
const minimal = `{"id": "fna-b2/test", "measure": "fna-b2", "title": "t",
 "steps": [{"id": "s", "title": "t", "fields": [
   {"id": "a", "kind": "yesno", "label": "l", "required": true},
   {"id": "c", "kind": "choice", "label": "l", "options": [{"value": "x", "label": "l"}], "show_if": {"field": "a", "op": "eq", "value": "yes"}},
   {"id": "m", "kind": "amount", "label": "l"}
 ]}],
 "eligibility": [{"id": "r", "require": {"field": "m", "op": "lte_threshold", "by": "c"}, "reason": "why"}],
 "documents": [{"type": "d", "label": "l", "if": {"field": "c", "op": "eq", "value": "x"}}],
 "ranking": {"group_by": "c", "keys": [{"field": "m"}]}}`

func TestParseDefinitionRefusesBrokenOnes(t *testing.T) {
	if _, err := ParseDefinition([]byte(minimal)); err != nil {
		t.Fatalf("minimal: %v", err)
	}
	tests := []struct{ name, old, new, want string }{
		{"unknown key (a typo)", `"required": true`, `"requried": true`, "unknown field"},
		{"unknown measure", `"measure": "fna-b2"`, `"measure": "b3"`, "unknown measure"},
		{"id not measure/version", `"fna-b2/test"`, `"b2-test"`, "is not"},
		{"duplicate field", `{"id": "m", "kind"`, `{"id": "a", "kind"`, "duplicate field id"},
		{"unknown kind", `"kind": "amount"`, `"kind": "money"`, "unknown kind"},
		{"show_if on an unknown field", `"show_if": {"field": "a"`, `"show_if": {"field": "zz"`, "unknown field \"zz\""},
		{"show_if on a later field", `"show_if": {"field": "a", "op": "eq", "value": "yes"}`, `"show_if": {"field": "m", "op": "set"}`,
			"not asked before"},
		{"unknown operator", `"op": "eq", "value": "yes"`, `"op": "like", "value": "yes"`, "operator \"like\""},
		{"call operator in show_if", `"op": "eq", "value": "yes"`, `"op": "in_district"`, "not allowed here"},
		{"option that does not exist", `"value": "yes"}`, `"value": "si"}`, "no option \"si\""},
		{"choice without options", `"options": [{"value": "x", "label": "l"}], `, ``, "choice fields need them"},
		{"threshold by a non-choice field", `"by": "c"`, `"by": "a"`, "lte_threshold"},
		{"document on an unknown field", `"if": {"field": "c"`, `"if": {"field": "q"`, "document d"},
		{"ranking on a choice", `"keys": [{"field": "m"}]`, `"keys": [{"field": "c"}]`, "ranking: key"},
		{"rule without a reason", `"reason": "why"`, `"reason": ""`, "no reason"},
		{"missing label", `{"id": "m", "kind": "amount", "label": "l"}`, `{"id": "m", "kind": "amount"}`, "field m: no label"},
		{"not JSON", `{"id"`, `{id`, "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			broken := strings.Replace(minimal, tt.old, tt.new, 1)
			if broken == minimal {
				t.Fatalf("%q not in the minimal definition", tt.old)
			}
			_, err := ParseDefinition([]byte(broken))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// Parse never panics on what a browser (or anyone) posts, and every problem it reports is a message a resident can
// read.
func FuzzParse(f *testing.F) {
	d, err := Latest("fna-b2")
	if err != nil {
		f.Fatal(err)
	}
	catalogue := italianCatalogue(f)
	for _, s := range []string{"", "yes", "no", "anziani", "RSSMRA85T10A562S", "31/02/2026", "1.234,5", "IT60X0542811101000000123456",
		"Crema", "26013", strings.Repeat("è", 300), "\x00\xff", "٢٠٢٦-٠٣-٠١"} {
		f.Add(uint8(0), s, s)
	}
	f.Fuzz(func(t *testing.T, step uint8, v1, v2 string) {
		s := d.Steps[int(step)%len(d.Steps)]
		form := map[string][]string{}
		for i, fl := range s.Fields {
			form[fl.ID] = []string{v1, v2}[i%2 : i%2+1]
		}
		prev := Answers{Raw: map[string][]string{"on_behalf": {v2}}, Value: map[string][]string{"on_behalf": {v1}}}
		a, problems := Parse(d, s.ID, form, prev, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC))
		for id, p := range problems {
			if !inCatalogue(catalogue, p.ID) {
				t.Errorf("%s: %q is not a message", id, p.ID)
			}
		}
		_, problems = Validate(d, a, demoCall, day2026)
		for id, p := range problems {
			if !inCatalogue(catalogue, p.ID) {
				t.Errorf("Validate %s: %q is not a message", id, p.ID)
			}
		}
		Eligibility(d, a, demoCall)
		RankingKey(d, a, time.Time{})
		RequiredDocuments(d, a)
	})
}
