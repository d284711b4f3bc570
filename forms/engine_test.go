package forms

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var rome = func() *time.Location {
	l, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err)
	}
	return l
}()

// demoCall is the 2026 call with PRODUCT.md's demo thresholds: socio-sanitario ISEE ≤ €25,000 for adults, ordinario
// ≤ €40,000 for minors.
var demoCall = CallParams{
	Thresholds: map[string]int64{"anziani": 2_500_000, "disabili_adulti": 2_500_000, "caregiver_minori": 4_000_000,
		"voucher": 2_500_000},
	Opens:  time.Date(2026, 3, 2, 9, 0, 0, 0, rome),
	Closes: time.Date(2026, 4, 30, 12, 0, 0, 0, rome),
}

var day2026 = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

// withCheck completes the first 15 characters of a fiscal code with its check character.
func withCheck(cf15 string) string { return cf15 + string(checkChar(cf15)) }

// adultForm is an eligible adult: the woman applying for her father's buono as caregiver familiare.
func adultForm() map[string]string {
	return map[string]string{
		"on_behalf": "yes", "relationship": "child",
		"first_name": "  Mario ", "last_name": "Rossi", "beneficiary_cf": "rssmra85t10a562s", "birth_date": "10/12/1985",
		"comune": "rivolta d adda", "address": "Via Roma 1", "cap": "26027", "lives_at_home": "yes",
		"category": "disabili_adulti", "certification": "l104_art3_c3",
		"isee_type": "socio_sanitario", "isee": "12.345,67", "dsu_date": "15/01/2026",
		"intervention": "caregiver_familiare",
		"iban":         "IT60 X054 2811 1010 0000 0123 456", "account_holder": "Anna Rossi",
		"self_declaration": "yes", "privacy": "yes",
	}
}

// minorForm: a mother applying for her son, born 12 March 2015, with an ordinario ISEE.
func minorForm() map[string]string {
	f := adultForm()
	f["relationship"] = "parent"
	f["first_name"], f["beneficiary_cf"], f["birth_date"] = "Luca", withCheck("RSSLCU15C12D142"), "2015-03-12"
	f["category"], f["certification"], f["isee_type"], f["isee"] = "caregiver_minori", "accompagnamento", "ordinario", "31000"
	f["intervention"] = "voucher_sociali"
	return f
}

// fill runs every step as the browser would post them, one page at a time.
func fill(t *testing.T, d *Definition, values map[string]string) (Answers, Problems) {
	t.Helper()
	var a Answers
	all := Problems{}
	for _, s := range d.Steps {
		form := map[string][]string{}
		for _, f := range s.Fields {
			if v, ok := values[f.ID]; ok {
				form[f.ID] = []string{v}
			}
		}
		var p Problems
		a, p = Parse(d, s.ID, form, a, day2026)
		maps.Copy(all, p)
	}
	return a, all
}

func fna(t *testing.T) *Definition {
	t.Helper()
	d, err := Latest("fna-b2")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func ruleIDs(rs []Reason) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.Rule)
	}
	return ids
}

func docTypes(ds []Document) []string {
	var ts []string
	for _, d := range ds {
		ts = append(ts, d.Type)
	}
	return ts
}

func TestFNAB2Applications(t *testing.T) {
	d := fna(t)
	tests := []struct {
		name     string
		change   func(map[string]string)
		problems map[string]string // field → message ID, after Validate
		reasons  []string          // eligibility rules not met
		docs     []string
	}{
		{name: "eligible adult, relative applying",
			docs: []string{"identity_document", "beneficiary_identity_document", "isee_attestation", "disability_certificate"}},
		{name: "minor with ordinario ISEE above the adults' threshold", change: func(f map[string]string) {
			maps.Copy(f, minorForm())
		}, docs: []string{"identity_document", "beneficiary_identity_document", "isee_attestation", "disability_certificate"}},
		{name: "ISEE above the call's threshold", change: func(f map[string]string) { f["isee"] = "25.000,01" },
			problems: map[string]string{"isee": ErrISEEAboveMax}, reasons: []string{"isee_threshold"},
			docs: []string{"identity_document", "beneficiary_identity_document", "isee_attestation", "disability_certificate"}},
		{name: "comune outside the district", change: func(f map[string]string) { f["comune"] = "Cremona" },
			problems: map[string]string{"comune": ErrComuneOutsideDistrict}, reasons: []string{"resident"},
			docs: []string{"identity_document", "beneficiary_identity_document", "isee_attestation", "disability_certificate"}},
		{name: "assistente familiare needs the contract", change: func(f map[string]string) {
			f["intervention"] = "assistente_familiare"
		}, docs: []string{"identity_document", "beneficiary_identity_document", "isee_attestation", "disability_certificate",
			"care_worker_contract"}},
		{name: "applying for oneself: relationship hidden and dropped", change: func(f map[string]string) {
			f["on_behalf"], f["relationship"] = "no", "guardian"
		}, docs: []string{"identity_document", "isee_attestation", "disability_certificate"}},
		{name: "in an RSA, no certification, wrong ISEE for an adult", change: func(f map[string]string) {
			f["lives_at_home"], f["certification"], f["isee_type"] = "no", "none", "ordinario"
		}, reasons: []string{"at_home", "certified", "isee_type_adult"},
			docs: []string{"identity_document", "beneficiary_identity_document", "isee_attestation", "disability_certificate"}},
		{name: "adult in the minors' category", change: func(f map[string]string) { f["category"] = "caregiver_minori" },
			reasons: []string{"minor_category"},
			docs:    []string{"identity_document", "beneficiary_identity_document", "isee_attestation", "disability_certificate"}},
		{name: "typos: birth date against the fiscal code, IBAN, old DSU, declaration refused", change: func(f map[string]string) {
			f["birth_date"], f["iban"], f["dsu_date"], f["self_declaration"] = "11/12/1985", "IT60X0542811101000000123457", "20/12/2025", "no"
		}, problems: map[string]string{"birth_date": ErrCFBirthMismatch, "iban": ErrIBANChecksum, "dsu_date": ErrISEEExpired,
			"self_declaration": ErrDeclarationRequired},
			docs: []string{"identity_document", "beneficiary_identity_document", "isee_attestation", "disability_certificate"}},
		{name: "required fields left empty", change: func(f map[string]string) {
			f["beneficiary_cf"], f["iban"], f["address"], f["privacy"] = "", " ", "", ""
		}, problems: map[string]string{"beneficiary_cf": ErrCFRequired, "iban": ErrIBANRequired, "address": ErrRequired,
			"privacy": ErrRequired},
			docs: []string{"identity_document", "beneficiary_identity_document", "isee_attestation", "disability_certificate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := adultForm()
			if tt.change != nil {
				tt.change(values)
			}
			parsed, stepProblems := fill(t, d, values)
			a, problems := Validate(d, parsed, demoCall, day2026)
			got := map[string]string{}
			for f, p := range problems {
				got[f] = p.ID
			}
			if want := tt.problems; !maps.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("Validate problems = %v, want %v", got, want)
			}
			for f, p := range stepProblems {
				if f != "isee" && problems[f].ID != p.ID { // the threshold is a whole-application check
					t.Errorf("Parse said %s: %s, Validate said %q", f, p.ID, problems[f].ID)
				}
			}
			if a.Definition != "fna-b2/2026-v1" {
				t.Errorf("definition %q", a.Definition)
			}
			if reasons := ruleIDs(Eligibility(d, a, demoCall)); !slices.Equal(reasons, tt.reasons) {
				t.Errorf("Eligibility = %v, want %v", reasons, tt.reasons)
			}
			if docs := docTypes(RequiredDocuments(d, a)); !slices.Equal(docs, tt.docs) {
				t.Errorf("RequiredDocuments = %v, want %v", docs, tt.docs)
			}
		})
	}
}

func TestFNAB2NormalizedValues(t *testing.T) {
	d := fna(t)
	a, problems := Validate(d, func() Answers { a, _ := fill(t, d, adultForm()); return a }(), demoCall, day2026)
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	want := map[string]string{"first_name": "Mario", "beneficiary_cf": "RSSMRA85T10A562S", "birth_date": "1985-12-10",
		"comune": "Rivolta d'Adda", "isee": "1234567", "dsu_date": "2026-01-15", "iban": "IT60X0542811101000000123456",
		"on_behalf": "yes", "relationship": "child"}
	for id, v := range want {
		if got := a.Get(id); got != v {
			t.Errorf("%s = %q, want %q", id, got, v)
		}
	}
	if a.Raw["isee"][0] != "12.345,67" {
		t.Errorf("raw isee %q: what was typed is kept to show it again", a.Raw["isee"])
	}
}

func TestHiddenFieldsDropped(t *testing.T) {
	d := fna(t)
	// the resident first said "on behalf", chose a relationship, then went back and said "for myself"
	a, _ := Parse(d, "applicant", map[string][]string{"on_behalf": {"yes"}, "relationship": {"guardian"}}, Answers{}, day2026)
	if a.Get("relationship") != "guardian" {
		t.Fatalf("relationship not kept: %+v", a)
	}
	a, p := Parse(d, "applicant", map[string][]string{"on_behalf": {"no"}, "relationship": {"guardian"}}, a, day2026)
	if len(p) > 0 || a.Raw["relationship"] != nil || a.Value["relationship"] != nil {
		t.Errorf("hidden relationship kept: %+v %v", a, p)
	}
	// answers stored before the change (or forged) are dropped by Validate, and no longer ask for the decree
	a.Raw["relationship"], a.Value["relationship"] = []string{"guardian"}, []string{"guardian"}
	clean, _ := Validate(d, a, demoCall, day2026)
	if _, ok := clean.Raw["relationship"]; ok {
		t.Errorf("Validate kept a hidden field: %+v", clean)
	}
	if slices.Contains(docTypes(RequiredDocuments(d, clean)), "guardianship_decree") {
		t.Error("a hidden answer still asks for a document")
	}
}

func TestMissingDocuments(t *testing.T) {
	d := fna(t)
	values := adultForm()
	values["intervention"] = "assistente_familiare"
	a, _ := fill(t, d, values)
	missing := docTypes(MissingDocuments(d, a, []string{"identity_document", "beneficiary_identity_document",
		"isee_attestation", "disability_certificate"}))
	if !slices.Equal(missing, []string{"care_worker_contract"}) {
		t.Errorf("missing = %v", missing)
	}
}

// The pre-check works on a half-filled form: unanswered is not ineligible.
func TestEligibilityPartial(t *testing.T) {
	d := fna(t)
	a, _ := Parse(d, "residence", map[string][]string{"comune": {"Crema"}}, Answers{}, day2026)
	if r := Eligibility(d, a, demoCall); len(r) > 0 {
		t.Errorf("half-filled form: %v", r)
	}
	a, _ = Parse(d, "residence", map[string][]string{"comune": {"Milano"}}, Answers{}, day2026)
	if r := ruleIDs(Eligibility(d, a, demoCall)); !slices.Equal(r, []string{"resident"}) {
		t.Errorf("Milano: %v", r)
	}
	// a call that sets no threshold for the category cannot decide the ISEE rule
	full, _ := fill(t, d, adultForm())
	if r := Eligibility(d, full, CallParams{Opens: demoCall.Opens}); len(r) > 0 {
		t.Errorf("no thresholds: %v", r)
	}
	values := adultForm()
	values["isee"] = "30000"
	over, _ := fill(t, d, values)
	r := Eligibility(d, over, demoCall)
	if len(r) != 1 || r[0].ID != "form.fna_b2.reason.isee_above" || r[0].Data["Max"] != Cents(2_500_000) {
		t.Errorf("over threshold: %+v", r)
	}
}

func TestRankingKey(t *testing.T) {
	d := fna(t)
	at := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, rome) }
	type app struct {
		name, category, isee string
		received             time.Time
	}
	apps := []app{
		{"late, low ISEE", "anziani", "5000", at(11, 0)},
		{"early, high ISEE", "anziani", "24000", at(9, 0)},
		{"early, low ISEE", "anziani", "5000", at(9, 30)},
		{"zero ISEE", "anziani", "0", at(12, 0)},
		{"a minor", "caregiver_minori", "1000", at(10, 0)},
		{"ISEE 10.000 sorts after 9.999,99", "anziani", "10000", at(9, 0)},
		{"ISEE 9.999,99", "anziani", "9999,99", at(9, 1)},
	}
	keys := map[string]string{}
	var sorted []string
	for _, x := range apps {
		v := adultForm()
		v["category"], v["isee"] = x.category, x.isee
		a, _ := fill(t, d, v)
		k := RankingKey(d, a, x.received)
		keys[k] = x.name
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var got []string
	for _, k := range sorted {
		got = append(got, keys[k])
	}
	want := []string{"zero ISEE", "early, low ISEE", "late, low ISEE", "ISEE 9.999,99", "ISEE 10.000 sorts after 9.999,99",
		"early, high ISEE", "a minor"}
	if !slices.Equal(got, want) {
		t.Errorf("graduatoria order:\n got %q\nwant %q", got, want)
	}
	// a missing ISEE sorts last in its group; the time is read in UTC, not in the server's zone
	var empty Answers
	empty.Value = map[string][]string{"category": {"anziani"}}
	if k := RankingKey(d, empty, at(8, 0)); k < sorted[5] || !strings.HasSuffix(k, "20260302T070000.000000000Z") {
		t.Errorf("missing ISEE: %s", k)
	}
}

func TestCallOpen(t *testing.T) {
	if demoCall.Open(demoCall.Opens.Add(-time.Second)) || !demoCall.Open(demoCall.Opens) || demoCall.Open(demoCall.Closes) {
		t.Error("a call is open from its opening time, included, to its closing time, excluded")
	}
}

func TestParseUnknownStepAndChoices(t *testing.T) {
	d := fna(t)
	if _, p := Parse(d, "nope", nil, Answers{}, day2026); p[""].ID != ErrStepUnknown {
		t.Errorf("unknown step: %v", p)
	}
	_, p := Parse(d, "category", map[string][]string{"category": {"<script>"}, "certification": {"both", "none"}}, Answers{}, day2026)
	if p["category"].ID != ErrChoiceInvalid || !p["certification"].OK() {
		t.Errorf("choices: %v", p)
	}
}

// italianCatalogue reads every Italian message ID (i18n/locales/**/it.toml).
func italianCatalogue(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir("../i18n/locales", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.Name() != "it.toml" {
			return err
		}
		data, err := os.ReadFile(p)
		b.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func inCatalogue(catalogue, id string) bool { return strings.Contains(catalogue, "\n\""+id+"\" = ") }

// Every embedded definition loads, and every text it names is in the Italian catalogue (the i18n tests then require
// it in every language).
func TestDefinitionsLoadAndAreTranslated(t *testing.T) {
	catalogue := italianCatalogue(t)
	n := 0
	err := fs.WalkDir(definitionFiles, "definitions", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		n++
		id := strings.TrimSuffix(strings.TrimPrefix(p, "definitions/"), ".json")
		d, err := Load(id)
		if err != nil {
			t.Errorf("%s: %v", id, err)
			return nil
		}
		for _, msg := range d.MessageIDs() {
			if !inCatalogue(catalogue, msg) {
				t.Errorf("%s: %s is not in the Italian catalogue", id, msg)
			}
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("%d definitions, %v", n, err)
	}
	for _, bad := range []string{"", "fna-b2", "fna-b2/1999-v1", "../forms/x", "fna-b2/../fna-b2/2026-v1"} {
		if _, err := Load(bad); err == nil {
			t.Errorf("Load(%q) succeeded", bad)
		}
	}
	if _, err := Latest("bonus-vacanze"); err == nil {
		t.Error("Latest of an unknown measure succeeded")
	}
}

// samples are a complete, valid application of each measure: the fuzzer below replaces some of its answers.
var samples = map[string]func() map[string]string{
	"fna-b2": adultForm,
	"caregiver": func() map[string]string {
		f := caregiverForm()
		anotherCaregiver(f)
		return f
	},
	"misura-unica": rentForm,
}

// writeBack turns normalized values into what a form shows again from a saved draft.
func writeBack(d *Definition, a Answers) map[string][]string {
	raw := map[string][]string{}
	for id, vs := range a.Value {
		f, _ := d.Field(id)
		if f.Kind == KindAmount {
			cents, _ := strconv.ParseInt(vs[0], 10, 64)
			vs = []string{AmountInput(cents)}
		}
		raw[id] = slices.Clone(vs)
	}
	return raw
}

func problemIDs(p Problems) map[string]string {
	ids := map[string]string{}
	for f, x := range p {
		ids[f] = x.ID
	}
	return ids
}

// Every measure's form, filled page by page with valid answers and fuzzed ones: the problems are messages on fields
// that are asked; Validate is idempotent and agrees with the pages; hidden fields keep nothing; every normalized
// value, written back as a draft shows it, validates to itself; the ranking follows the time of receipt.
func FuzzDefinitions(f *testing.F) {
	var defs []*Definition
	for _, m := range Measures {
		d, err := Latest(m.Code)
		if err != nil {
			f.Fatal(err)
		}
		defs = append(defs, d)
	}
	catalogue := italianCatalogue(f)
	for i := range defs {
		f.Add(uint8(i), uint64(0), "", "")
		f.Add(uint8(i), uint64(1)<<3|1, "no", "yes")
		f.Add(uint8(i), ^uint64(0), "12,5", "31/02/2026")
		f.Add(uint8(i), uint64(0x5555_5555), "Crema", "IT60X0542811101000000123456")
	}
	call := CallParams{Thresholds: maps.Clone(demoCall.Thresholds), Opens: demoCall.Opens, Closes: demoCall.Closes}
	call.Thresholds[KeyAll] = 2_600_000
	f.Fuzz(func(t *testing.T, which uint8, pick uint64, v1, v2 string) {
		d := defs[int(which)%len(defs)]
		values := samples[d.Measure]()
		i := 0
		for _, s := range d.Steps {
			for _, fl := range s.Fields {
				if pick>>(i%64)&1 == 1 {
					values[fl.ID] = []string{v1, v2}[i%2]
				}
				i++
			}
		}
		parsed, stepProblems := fill(t, d, values)
		a, problems := Validate(d, parsed, call, day2026)
		for id, p := range problems {
			if fl, ok := d.Field(id); !ok || fl.ShowIf != nil && !a.holds(d, *fl.ShowIf) || !inCatalogue(catalogue, p.ID) {
				t.Fatalf("%s: problem %q on %q", d.ID, p.ID, id)
			}
		}
		for id, p := range stepProblems {
			if problems[id].ID != p.ID && !(id == "isee" && problems[id].ID == ErrISEEAboveMax) {
				t.Fatalf("%s: page said %s: %s, Validate %q", d.ID, id, p.ID, problems[id].ID)
			}
		}
		again, problems2 := Validate(d, a, call, day2026)
		if !reflect.DeepEqual(again, a) || !maps.Equal(problemIDs(problems), problemIDs(problems2)) {
			t.Fatalf("%s: Validate is not idempotent:\n%+v\n%+v", d.ID, a, again)
		}
		for _, s := range d.Steps {
			for _, fl := range s.Fields {
				shown := fl.ShowIf == nil || a.holds(d, *fl.ShowIf)
				_, hasValue := a.Value[fl.ID]
				_, hasRaw := a.Raw[fl.ID]
				_, hasProblem := problems[fl.ID]
				switch {
				case !shown && (hasValue || hasRaw):
					t.Fatalf("%s: hidden %s kept", d.ID, fl.ID)
				case shown && fl.Required && !hasValue && !hasProblem:
					t.Fatalf("%s: required %s has neither a value nor a problem", d.ID, fl.ID)
				case hasValue && hasProblem && !(fl.ID == "isee" && problems[fl.ID].ID == ErrISEEAboveMax):
					t.Fatalf("%s: %s has a value and a problem", d.ID, fl.ID)
				}
			}
		}
		drafted, _ := Validate(d, Answers{Raw: writeBack(d, a)}, call, day2026)
		if !reflect.DeepEqual(drafted.Value, a.Value) {
			t.Fatalf("%s: written back, %v became %v", d.ID, a.Value, drafted.Value)
		}
		for _, r := range Eligibility(d, a, call) {
			if !inCatalogue(catalogue, r.ID) {
				t.Fatalf("%s: reason %q", d.ID, r.ID)
			}
		}
		for _, doc := range RequiredDocuments(d, a) {
			if !slices.ContainsFunc(d.Documents, func(x Document) bool { return x.Type == doc.Type }) {
				t.Fatalf("%s: document %q", d.ID, doc.Type)
			}
		}
		if early, late := RankingKey(d, a, call.Opens), RankingKey(d, a, call.Opens.Add(time.Nanosecond)); early >= late {
			t.Fatalf("%s: %q does not sort before %q", d.ID, early, late)
		}
	})
}
