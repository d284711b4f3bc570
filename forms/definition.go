package forms

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
)

// definitionFiles holds definitions/<measure>/<version>.json. A definition is never edited once a call has opened
// with it: applications store the ID they were filled with, and a new call gets a new version file.
//
//go:embed definitions
var definitionFiles embed.FS

// ErrUnknownDefinition is returned by Load for an ID with no file.
var ErrUnknownDefinition = errors.New("forms: unknown definition")

// Definition is one version of a measure's application form: its steps and fields, eligibility rules, required
// documents and ranking rule. Every text is a message ID. Amounts that change per call (ISEE thresholds, budget)
// are not here but in CallParams.
//
// A call's thresholds and budgets are keyed by category: a threshold by the value of its lte_threshold rule's By
// field, a budget by the value of the ranking's GroupBy field. A measure with no categories — a rule without By, a
// ranking without GroupBy — uses the one key KeyAll for both, so its call holds e.g. {"all": 2600000}.
type Definition struct {
	ID          string     `json:"id"`      // "<measure>/<version>", e.g. "fna-b2/2026-v1"; stored with each application
	Measure     string     `json:"measure"` // Measure.Code
	Title       string     `json:"title"`
	Steps       []Step     `json:"steps"`
	Eligibility []Rule     `json:"eligibility"`
	Documents   []Document `json:"documents"`
	Ranking     Ranking    `json:"ranking"`

	fields map[string]*Field // by ID, built by the loader
}

// Step is one page of the form: one topic, so that it fits a phone screen.
type Step struct {
	ID     string  `json:"id"`
	Title  string  `json:"title"`
	Fields []Field `json:"fields"`
}

// KeyAll is the key of a call's threshold and budget when the measure has no categories (see Definition).
const KeyAll = "all"

// Field kinds. Each kind has one normalizer; its normalized value is a string (see Answers).
const (
	KindText          = "text"
	KindTextarea      = "textarea"
	KindDate          = "date"   // normalized "2006-01-02"
	KindAmount        = "amount" // normalized: cents, decimal
	KindIBAN          = "iban"
	KindCodiceFiscale = "codice_fiscale"
	KindEmail         = "email"
	KindPhone         = "phone"
	KindComune        = "comune" // one of the district's 48, official name
	KindCAP           = "cap"
	KindChoice        = "choice"
	KindMultichoice   = "multichoice" // one normalized value per chosen option
	KindYesNo         = "yesno"       // normalized "yes" or "no"
	KindNumber        = "number"      // whole number, decimal, 0 to Field.Max
)

var kinds = []string{KindText, KindTextarea, KindDate, KindAmount, KindIBAN, KindCodiceFiscale, KindEmail, KindPhone,
	KindComune, KindCAP, KindChoice, KindMultichoice, KindYesNo, KindNumber}

// Date checks of a date field.
const (
	DateBirth = "birth" // not in the future, at most 120 years ago
	DatePast  = "past"  // not in the future
	DateDSU   = "dsu"   // the DSU of an ISEE still valid today (ISEEValidOn)
)

// Field is one question.
type Field struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	Label    string   `json:"label"`
	Hint     string   `json:"hint,omitempty"`
	Required bool     `json:"required,omitempty"`
	Options  []Option `json:"options,omitempty"` // choice and multichoice
	ShowIf   *Cond    `json:"show_if,omitempty"` // hidden fields are neither asked, checked nor stored
	// MustBeYes makes a yesno field a declaration that has to be accepted (DPR 445/2000, privacy).
	MustBeYes bool `json:"must_be_yes,omitempty"`
	// DateCheck is one of the Date… checks, for date fields.
	DateCheck string `json:"date_check,omitempty"`
	// BirthOf names a codice_fiscale field whose birth date must match this date field.
	BirthOf string `json:"birth_of,omitempty"`
	// Max is the largest answer of a number field (12 for a number of months); 0 leaves the engine's own bound.
	Max int `json:"max,omitempty"`
}

// Option is one answer of a choice field: the stored value and its label.
type Option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Condition operators. The first six compare answers and may appear anywhere; the last four need a call and only
// appear in eligibility rules.
const (
	OpEq           = "eq"            // value equals Value (for multichoice: Value is among the chosen)
	OpNe           = "ne"            // negation of eq
	OpIn           = "in"            // value is one of Values (multichoice: any chosen is)
	OpNotIn        = "not_in"        // negation of in
	OpSet          = "set"           // answered
	OpAtLeast      = "gte"           // a number field is ≥ Value, a whole number
	OpInDistrict   = "in_district"   // a comune field names one of the district's comuni
	OpAgeAtLeast   = "age_gte"       // a date field, in whole years on the call's opening day, is ≥ Value
	OpAgeUnder     = "age_lt"        // … is < Value
	OpLteThreshold = "lte_threshold" // an amount field is ≤ the call's threshold for the value of field By (KeyAll without By)
)

var (
	answerOps = []string{OpEq, OpNe, OpIn, OpNotIn, OpSet, OpAtLeast}
	callOps   = []string{OpInDistrict, OpAgeAtLeast, OpAgeUnder, OpLteThreshold}
)

// Cond is a condition on answers: either a leaf (Field, Op, Value/Values/By) or a combination (All, Any).
type Cond struct {
	Field  string   `json:"field,omitempty"`
	Op     string   `json:"op,omitempty"`
	Value  string   `json:"value,omitempty"`
	Values []string `json:"values,omitempty"`
	By     string   `json:"by,omitempty"` // lte_threshold: the choice field whose value picks the call's threshold; none: KeyAll
	All    []Cond   `json:"all,omitempty"`
	Any    []Cond   `json:"any,omitempty"`
}

// Rule is one eligibility requirement: when If holds (or is absent), Require must hold, else Reason is shown.
type Rule struct {
	ID      string `json:"id"`
	If      *Cond  `json:"if,omitempty"`
	Require Cond   `json:"require"`
	Reason  string `json:"reason"`
}

// Document is an attachment the application needs when If holds (or always, without If).
type Document struct {
	Type  string `json:"type"` // stable key, stored with the file
	Label string `json:"label"`
	If    *Cond  `json:"if,omitempty"`
}

// Ranking orders applications in the graduatoria: separately per value of GroupBy, by Keys in order, then by time
// of receipt (always the last key, so ties are impossible). Each group draws on the call's budget for its value;
// without GroupBy all applications are one group, whose budget is under KeyAll. Without Keys the order is the
// order of receipt.
type Ranking struct {
	GroupBy string    `json:"group_by,omitempty"`
	Keys    []SortKey `json:"keys"`
}

// SortKey is one sort key: an amount, number or date field, ascending or descending.
type SortKey struct {
	Field string `json:"field"`
	Desc  bool   `json:"desc,omitempty"`
}

// Field returns a field by ID.
func (d *Definition) Field(id string) (*Field, bool) {
	f, ok := d.fields[id]
	return f, ok
}

// Step returns a step by ID.
func (d *Definition) Step(id string) (*Step, bool) {
	for i := range d.Steps {
		if d.Steps[i].ID == id {
			return &d.Steps[i], true
		}
	}
	return nil, false
}

// MessageIDs lists every message ID the definition uses, for the catalogue test.
func (d *Definition) MessageIDs() []string {
	ids := []string{d.Title}
	for _, s := range d.Steps {
		ids = append(ids, s.Title)
		for _, f := range s.Fields {
			ids = append(ids, f.Label)
			if f.Hint != "" {
				ids = append(ids, f.Hint)
			}
			for _, o := range f.Options {
				ids = append(ids, o.Label)
			}
		}
	}
	for _, r := range d.Eligibility {
		ids = append(ids, r.Reason)
	}
	for _, doc := range d.Documents {
		ids = append(ids, doc.Label)
	}
	return ids
}

// loaded caches parsed definitions by ID: the files are embedded and never change while the process runs.
var loaded sync.Map // string → *Definition

// Load returns the embedded definition with this ID ("fna-b2/2026-v1"). The result is shared: read it, never
// change it.
func Load(id string) (*Definition, error) {
	if d, ok := loaded.Load(id); ok {
		return d.(*Definition), nil
	}
	d, err := load(id)
	if err != nil {
		return nil, err
	}
	loaded.Store(id, d)
	return d, nil
}

func load(id string) (*Definition, error) {
	if !fs.ValidPath(id) || strings.Count(id, "/") != 1 {
		return nil, fmt.Errorf("%w: %q", ErrUnknownDefinition, id)
	}
	data, err := definitionFiles.ReadFile("definitions/" + id + ".json")
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownDefinition, id)
	}
	d, err := ParseDefinition(data)
	if err != nil {
		return nil, err
	}
	if d.ID != id {
		return nil, fmt.Errorf("forms: definition %s: file holds id %q", id, d.ID)
	}
	return d, nil
}

// Latest returns the newest definition of a measure: the last version in file-name order, so versions are named
// "<year>-v<n>" with n < 10.
func Latest(measure string) (*Definition, error) {
	entries, err := definitionFiles.ReadDir("definitions/" + measure)
	if err != nil || len(entries) == 0 || !fs.ValidPath(measure) {
		return nil, fmt.Errorf("%w: no definition of measure %q", ErrUnknownDefinition, measure)
	}
	last := entries[len(entries)-1].Name() // ReadDir sorts by name
	return Load(measure + "/" + strings.TrimSuffix(last, path.Ext(last)))
}

// ParseDefinition reads a definition and checks it, so that a broken file fails at start-up or in tests, never in
// front of a resident: unknown fields or keys, duplicate IDs, unknown kinds and operators, conditions on fields not
// yet asked, choice values that do not exist.
func ParseDefinition(data []byte) (*Definition, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var d Definition
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("forms: definition: %w", err)
	}
	if err := d.check(); err != nil {
		return nil, fmt.Errorf("forms: definition %s: %w", d.ID, err)
	}
	return &d, nil
}

func (d *Definition) check() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if _, ok := MeasureByCode(d.Measure); !ok {
		bad("unknown measure %q", d.Measure)
	}
	if !strings.HasPrefix(d.ID, d.Measure+"/") || strings.Count(d.ID, "/") != 1 {
		bad("id %q is not %q/<version>", d.ID, d.Measure)
	}
	if d.Title == "" {
		bad("no title")
	}
	if len(d.Steps) == 0 {
		bad("no steps")
	}
	d.fields = map[string]*Field{}
	steps := map[string]bool{}
	for si := range d.Steps {
		s := &d.Steps[si]
		if s.ID == "" || steps[s.ID] {
			bad("step %d: missing or duplicate id %q", si+1, s.ID)
		}
		steps[s.ID] = true
		if s.Title == "" {
			bad("step %s: no title", s.ID)
		}
		if len(s.Fields) == 0 {
			bad("step %s: no fields", s.ID)
		}
		for fi := range s.Fields {
			f := &s.Fields[fi]
			// a condition may only look at fields asked before, on this page or an earlier one
			if f.ShowIf != nil {
				if err := d.checkCond(*f.ShowIf, false); err != nil {
					bad("field %s: show_if: %v", f.ID, err)
				}
			}
			if f.ID == "" || d.fields[f.ID] != nil {
				bad("step %s: missing or duplicate field id %q", s.ID, f.ID)
			}
			d.fields[f.ID] = f
			d.checkField(f, bad)
		}
	}
	for _, f := range d.fields {
		if f.BirthOf != "" {
			if g := d.fields[f.BirthOf]; g == nil || g.Kind != KindCodiceFiscale || f.Kind != KindDate {
				bad("field %s: birth_of %q is not a codice_fiscale field (on a date field)", f.ID, f.BirthOf)
			}
		}
	}
	rules := map[string]bool{}
	for _, r := range d.Eligibility {
		if r.ID == "" || rules[r.ID] {
			bad("eligibility: missing or duplicate rule id %q", r.ID)
		}
		rules[r.ID] = true
		if r.Reason == "" {
			bad("eligibility %s: no reason", r.ID)
		}
		if r.If != nil {
			if err := d.checkCond(*r.If, true); err != nil {
				bad("eligibility %s: if: %v", r.ID, err)
			}
		}
		if err := d.checkCond(r.Require, true); err != nil {
			bad("eligibility %s: require: %v", r.ID, err)
		}
	}
	docs := map[string]bool{}
	for _, doc := range d.Documents {
		if doc.Type == "" || docs[doc.Type] || doc.Label == "" {
			bad("documents: missing or duplicate type %q, or no label", doc.Type)
		}
		docs[doc.Type] = true
		if doc.If != nil {
			if err := d.checkCond(*doc.If, false); err != nil {
				bad("document %s: if: %v", doc.Type, err)
			}
		}
	}
	if g := d.Ranking.GroupBy; g != "" && (d.fields[g] == nil || d.fields[g].Kind != KindChoice) {
		bad("ranking: group_by %q is not a choice field", g)
	}
	for _, k := range d.Ranking.Keys {
		if f := d.fields[k.Field]; f == nil || !slices.Contains([]string{KindAmount, KindNumber, KindDate}, f.Kind) {
			bad("ranking: key %q is not an amount, number or date field", k.Field)
		}
	}
	return errors.Join(errs...)
}

func (d *Definition) checkField(f *Field, bad func(string, ...any)) {
	if !slices.Contains(kinds, f.Kind) {
		bad("field %s: unknown kind %q", f.ID, f.Kind)
	}
	if f.Label == "" {
		bad("field %s: no label", f.ID)
	}
	choice := f.Kind == KindChoice || f.Kind == KindMultichoice
	if choice != (len(f.Options) > 0) {
		bad("field %s: options belong to choice fields, and choice fields need them", f.ID)
	}
	seen := map[string]bool{}
	for _, o := range f.Options {
		if o.Value == "" || seen[o.Value] || o.Label == "" {
			bad("field %s: missing or duplicate option %q, or no label", f.ID, o.Value)
		}
		seen[o.Value] = true
	}
	if f.MustBeYes && (f.Kind != KindYesNo || !f.Required) {
		bad("field %s: must_be_yes needs a required yesno field", f.ID)
	}
	if f.DateCheck != "" && (f.Kind != KindDate || !slices.Contains([]string{DateBirth, DatePast, DateDSU}, f.DateCheck)) {
		bad("field %s: date_check %q", f.ID, f.DateCheck)
	}
	if f.Max != 0 && (f.Kind != KindNumber || f.Max < 1 || f.Max > maxNumber) {
		bad("field %s: max %d belongs to number fields, 1 to %d", f.ID, f.Max, maxNumber)
	}
}

// checkCond checks a condition against the fields defined so far; withCall allows the operators that need a call.
func (d *Definition) checkCond(c Cond, withCall bool) error {
	if len(c.All) > 0 || len(c.Any) > 0 {
		if c.Field != "" || c.Op != "" || len(c.All) > 0 && len(c.Any) > 0 {
			return errors.New("all/any cannot be mixed with each other or with a field")
		}
		for _, sub := range append(c.All, c.Any...) {
			if err := d.checkCond(sub, withCall); err != nil {
				return err
			}
		}
		return nil
	}
	f := d.fields[c.Field]
	if f == nil {
		return fmt.Errorf("unknown field %q (or not asked before)", c.Field)
	}
	if !slices.Contains(answerOps, c.Op) && !(withCall && slices.Contains(callOps, c.Op)) {
		return fmt.Errorf("field %s: operator %q not allowed here", c.Field, c.Op)
	}
	if c.By != "" && c.Op != OpLteThreshold {
		return fmt.Errorf("field %s: by belongs to lte_threshold, not %q", c.Field, c.Op)
	}
	values := c.Values
	switch c.Op {
	case OpEq, OpNe:
		values = []string{c.Value}
	case OpInDistrict:
		if f.Kind != KindComune {
			return fmt.Errorf("in_district on %s, not a comune field", c.Field)
		}
	case OpAgeAtLeast, OpAgeUnder:
		if f.Kind != KindDate || !isWholeNumber(c.Value) {
			return fmt.Errorf("%s on %s needs a date field and a number of years", c.Op, c.Field)
		}
	case OpAtLeast:
		if f.Kind != KindNumber || !isWholeNumber(c.Value) {
			return fmt.Errorf("gte on %s needs a number field and a whole number", c.Field)
		}
	case OpLteThreshold:
		if f.Kind != KindAmount || c.By != "" && (d.fields[c.By] == nil || d.fields[c.By].Kind != KindChoice) {
			return fmt.Errorf("lte_threshold on %s needs an amount field, and by (if any) a choice field", c.Field)
		}
	}
	if (c.Op == OpIn || c.Op == OpNotIn) && len(values) == 0 {
		return fmt.Errorf("%s on %s without values", c.Op, c.Field)
	}
	if len(f.Options) > 0 || f.Kind == KindYesNo {
		for _, v := range values {
			if !f.hasOption(v) {
				return fmt.Errorf("field %s has no option %q", c.Field, v)
			}
		}
	}
	return nil
}

func (f *Field) hasOption(v string) bool {
	if f.Kind == KindYesNo {
		return v == "yes" || v == "no"
	}
	for _, o := range f.Options {
		if o.Value == v {
			return true
		}
	}
	return false
}

func isWholeNumber(s string) bool { return s != "" && len(s) < 10 && allDigits(s) }
