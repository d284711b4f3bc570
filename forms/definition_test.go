package forms

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"maps"
	"reflect"
	"slices"
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
		{"threshold on a non-amount field", `"field": "m", "op": "lte_threshold"`, `"field": "a", "op": "lte_threshold"`, "lte_threshold"},
		{"by on another operator", `"op": "eq", "value": "yes"}`, `"op": "eq", "value": "yes", "by": "a"}`, "by belongs to lte_threshold"},
		{"gte on a non-number field", `"op": "eq", "value": "yes"}`, `"op": "gte", "value": "3"}`, "gte on a"},
		{"max on a non-number field", `"kind": "amount", "label": "l"`, `"kind": "amount", "label": "l", "max": 12`, "max 12"},
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

// A measure without categories has one threshold: lte_threshold without by reads the call's KeyAll; a number
// field may carry a max and be compared with gte.
func TestParseDefinitionSingleThresholdAndNumbers(t *testing.T) {
	one := strings.Replace(minimal, `"op": "lte_threshold", "by": "c"`, `"op": "lte_threshold"`, 1)
	one = strings.Replace(one, `{"id": "m", "kind": "amount", "label": "l"}`,
		`{"id": "m", "kind": "amount", "label": "l"}, {"id": "n", "kind": "number", "label": "l", "max": 12}`, 1)
	one = strings.Replace(one, `"eligibility": [`, `"eligibility": [{"id": "months", "require": {"field": "n", "op": "gte", "value": "3"}, "reason": "few"}, `, 1)
	d, err := ParseDefinition([]byte(one))
	if err != nil {
		t.Fatal(err)
	}
	a, p := Parse(d, "s", map[string][]string{"a": {"no"}, "m": {"1.000"}, "n": {"2"}}, Answers{}, day2026)
	if len(p) > 0 {
		t.Fatal(p)
	}
	call := CallParams{Thresholds: map[string]int64{"x": 200_000, KeyAll: 50_000}}
	if r := ruleIDs(Eligibility(d, a, call)); !slices.Equal(r, []string{"months", "r"}) {
		t.Errorf("reasons %v", r)
	}
	if _, p := Validate(d, a, call, day2026); p["m"].ID != ErrISEEAboveMax || p["m"].Data["Max"] != Cents(50_000) {
		t.Errorf("Validate: %v", p)
	}
	delete(call.Thresholds, KeyAll) // a category's threshold is not the one for all
	if r := ruleIDs(Eligibility(d, a, call)); !slices.Equal(r, []string{"months"}) {
		t.Errorf("without %q: %v", KeyAll, r)
	}
	for _, bad := range []string{`"max": 0.5`, `"max": -1`, `"max": 2000000`} {
		if _, err := ParseDefinition([]byte(strings.Replace(one, `"max": 12`, bad, 1))); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if _, err := ParseDefinition([]byte(strings.Replace(one, `"value": "3"`, `"value": "three"`, 1))); err == nil {
		t.Error("gte with a value that is not a number accepted")
	}
}

// The portal reads the parts every measure shares by field ID (who applies, for whom, where, how to pay, the
// declarations): every definition has them, of the same kind, in the same places.
func TestCommonFieldsInEveryDefinition(t *testing.T) {
	kinds := map[string]string{"on_behalf": KindYesNo, "relationship": KindChoice, "first_name": KindText, "last_name": KindText,
		"beneficiary_cf": KindCodiceFiscale, "birth_date": KindDate, "comune": KindComune, "address": KindText, "cap": KindCAP,
		"iban": KindIBAN, "account_holder": KindText, "self_declaration": KindYesNo, "privacy": KindYesNo}
	iseeKinds := map[string]string{"isee": KindAmount, "isee_type": KindChoice, "dsu_date": KindDate}
	err := fs.WalkDir(definitionFiles, "definitions", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		id := strings.TrimSuffix(strings.TrimPrefix(p, "definitions/"), ".json")
		d, err := Load(id)
		if err != nil {
			return err
		}
		want := maps.Clone(kinds)
		if _, ok := d.Field("isee"); ok {
			maps.Copy(want, iseeKinds)
		}
		for fid, kind := range want {
			if f, ok := d.Field(fid); !ok || f.Kind != kind || !f.Required {
				t.Errorf("%s: field %s missing, not required or not %s", id, fid, kind)
			}
		}
		if f, _ := d.Field("relationship"); f == nil || f.ShowIf == nil ||
			!reflect.DeepEqual(*f.ShowIf, Cond{Field: "on_behalf", Op: OpEq, Value: "yes"}) {
			t.Errorf("%s: relationship is not shown exactly when on_behalf = yes", id)
		}
		if f, _ := d.Field("dsu_date"); f != nil && f.DateCheck != DateDSU {
			t.Errorf("%s: dsu_date is not checked as a DSU", id)
		}
		if f, _ := d.Field("birth_date"); f == nil || f.BirthOf != "beneficiary_cf" {
			t.Errorf("%s: birth_date is not checked against beneficiary_cf", id)
		}
		if d.Steps[0].Fields[0].ID != "on_behalf" {
			t.Errorf("%s: the form does not start with on_behalf", id)
		}
		last := d.Steps[len(d.Steps)-1]
		if last.ID != "declarations" {
			t.Errorf("%s: last step %s", id, last.ID)
		}
		for _, fid := range []string{"self_declaration", "privacy"} {
			if !slices.ContainsFunc(last.Fields, func(f Field) bool { return f.ID == fid && f.MustBeYes }) {
				t.Errorf("%s: %s is not a declaration on the last step", id, fid)
			}
		}
		// one topic per step: a phone screen holds a handful of questions
		for _, s := range d.Steps {
			if len(s.Fields) > 5 {
				t.Errorf("%s: step %s asks %d questions", id, s.ID, len(s.Fields))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
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

// ParseDefinition refuses what it cannot check, and what it accepts is a definition the engine can run: it survives
// a JSON round trip unchanged, names every text, and Parse, Validate, Eligibility and RankingKey work on it.
func FuzzParseDefinition(f *testing.F) {
	f.Add([]byte(minimal))
	_ = fs.WalkDir(definitionFiles, "definitions", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			data, _ := definitionFiles.ReadFile(p)
			f.Add(data)
		}
		return err
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDefinition(data)
		if err != nil {
			if d != nil {
				t.Fatal("a definition with an error")
			}
			return
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseDefinition(out)
		if err != nil {
			t.Fatalf("%s does not parse again: %v", out, err)
		}
		if out2, _ := json.Marshal(again); !bytes.Equal(out, out2) {
			t.Fatalf("round trip changed the definition:\n%s\n%s", out, out2)
		}
		if slices.Contains(d.MessageIDs(), "") {
			t.Fatalf("an empty message ID in %s", out)
		}
		answers := Answers{}
		for _, s := range d.Steps {
			for _, fl := range s.Fields {
				if got, ok := d.Field(fl.ID); !ok || got.ID != fl.ID {
					t.Fatalf("field %s not found", fl.ID)
				}
			}
			var problems Problems
			answers, problems = Parse(d, s.ID, map[string][]string{}, answers, day2026)
			for id, p := range problems {
				if fl, _ := d.Field(id); fl == nil || !fl.Required || p.ID == "" {
					t.Fatalf("empty step %s: problem %q on %q", s.ID, p.ID, id)
				}
			}
		}
		_, problems := Validate(d, answers, demoCall, day2026)
		for id := range problems {
			if _, ok := d.Field(id); !ok {
				t.Fatalf("Validate: problem on unknown field %q", id)
			}
		}
		EligibilityFields(d)
		Eligibility(d, answers, demoCall)
		RequiredDocuments(d, answers)
		RankingKey(d, answers, day2026)
	})
}
