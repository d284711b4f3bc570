package forms

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Message IDs of the form engine's own errors.
const (
	ErrChoiceInvalid       = "form.error.choice_invalid"       // a value that is not one of the options: a stale or forged form
	ErrDeclarationRequired = "form.error.declaration_required" // a declaration left unaccepted
	ErrTextTooLong         = "form.error.text_too_long"        // data: Max (int, characters)
	ErrNumberInvalid       = "form.error.number_invalid"
	ErrNumberTooLarge      = "form.error.number_too_large" // data: Max (int), the field's largest answer
	ErrStepUnknown         = "form.error.step_unknown"     // a step ID not in the definition: a stale link
)

// Longest accepted texts, in characters.
const (
	maxText     = 200
	maxTextarea = 2000
)

// maxNumber bounds every number field: no count on these forms comes near it.
const maxNumber = 1_000_000

// Answers are what one application holds: the definition version it was filled with, the values as typed (to
// show them again) and the normalized values (to check, rank and pay with). Only valid answers have a normalized
// value. Both maps are keyed by field ID; single-valued fields hold one element. Answers are plain data, stored as
// JSON.
type Answers struct {
	Definition string              `json:"definition"`
	Lang       string              `json:"lang,omitempty"` // the language dates were typed in
	Raw        map[string][]string `json:"raw"`
	Value      map[string][]string `json:"value"`
}

// Get returns a field's normalized value, "" when it has none.
func (a Answers) Get(id string) string {
	if v := a.Value[id]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (a Answers) raw(id string) string {
	if v := a.Raw[id]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (a Answers) clone() Answers {
	b := Answers{Definition: a.Definition, Lang: a.Lang, Raw: map[string][]string{}, Value: map[string][]string{}}
	for k, v := range a.Raw {
		b.Raw[k] = slices.Clone(v)
	}
	for k, v := range a.Value {
		b.Value[k] = slices.Clone(v)
	}
	return b
}

// Problems are the problems of one submission, keyed by field ID; "" is a problem of the page as a whole.
type Problems map[string]Problem

// CallParams are the parts of a call (avviso) that the rules need: ISEE thresholds by category, in cents (KeyAll
// when the measure has no categories), and the window in which applications are received.
type CallParams struct {
	Thresholds map[string]int64
	Opens      time.Time
	Closes     time.Time
}

// threshold returns the call's threshold for an lte_threshold condition: the one of the category the answers chose
// in field By, or the one under KeyAll when the condition has no By.
func (c CallParams) threshold(cond Cond, a Answers) (int64, bool) {
	key := KeyAll
	if cond.By != "" {
		key = a.Get(cond.By)
	}
	max, ok := c.Thresholds[key]
	return max, ok
}

// Open reports whether the call receives applications at t.
func (c CallParams) Open(t time.Time) bool { return !t.Before(c.Opens) && t.Before(c.Closes) }

// Parse reads one step of the form as posted and returns prev with that step's answers replaced, and the step's
// problems. Conditions may look at earlier steps, hence prev. Hidden fields of the step are dropped; a valid
// answer gets its normalized value, an invalid one keeps only what was typed, so the page can show it again.
func Parse(d *Definition, step string, form map[string][]string, prev Answers, today time.Time) (Answers, Problems) {
	a := prev.clone()
	a.Definition = d.ID
	problems := Problems{}
	s, ok := d.Step(step)
	if !ok {
		problems[""] = Problem{ID: ErrStepUnknown}
		return a, problems
	}
	for i := range s.Fields {
		f := &s.Fields[i]
		delete(a.Raw, f.ID)
		delete(a.Value, f.ID)
		if f.ShowIf != nil && !a.holds(d, *f.ShowIf) {
			continue
		}
		raw := form[f.ID]
		if f.Kind != KindMultichoice && len(raw) > 1 {
			raw = raw[:1]
		}
		if raw = nonEmpty(raw); len(raw) > 0 {
			a.Raw[f.ID] = raw
		}
		if p := a.normalize(d, f, today); !p.OK() {
			problems[f.ID] = p
		}
	}
	return a, problems
}

// Validate checks a whole application before it is submitted: every step again, the cross-field checks (fiscal
// code against birth date) and the ISEE against the call's threshold. It returns the answers to store — hidden
// fields dropped, normalized values recomputed from what was typed — and every problem.
func Validate(d *Definition, answers Answers, call CallParams, today time.Time) (Answers, Problems) {
	a := Answers{Definition: d.ID, Lang: answers.Lang, Raw: map[string][]string{}, Value: map[string][]string{}}
	problems := Problems{}
	for _, s := range d.Steps {
		for i := range s.Fields {
			f := &s.Fields[i]
			if f.ShowIf != nil && !a.holds(d, *f.ShowIf) {
				continue
			}
			if raw := nonEmpty(answers.Raw[f.ID]); len(raw) > 0 {
				a.Raw[f.ID] = slices.Clone(raw)
			}
			if p := a.normalize(d, f, today); !p.OK() {
				problems[f.ID] = p
			}
		}
	}
	for _, r := range d.Eligibility {
		if r.Require.Op != OpLteThreshold || r.If != nil && !a.holds(d, *r.If) {
			continue
		}
		c := r.Require
		cents, err := strconv.ParseInt(a.Get(c.Field), 10, 64)
		max, ok := call.threshold(c, a)
		if err == nil && ok && problems[c.Field].OK() {
			if p := ValidateISEE(cents, max); !p.OK() {
				problems[c.Field] = p
			}
		}
	}
	return a, problems
}

// normalize checks a's typed value of f and stores its normalized value.
func (a Answers) normalize(d *Definition, f *Field, today time.Time) Problem {
	raw := a.Raw[f.ID]
	if len(raw) == 0 {
		if f.Required {
			return Problem{ID: requiredID(f.Kind)}
		}
		return Problem{}
	}
	s := raw[0]
	var v, id string
	switch f.Kind {
	case KindText, KindTextarea:
		v = strings.TrimSpace(s)
		if f.Kind == KindText {
			v = CleanName(v)
		}
		max := maxTextarea
		if f.Kind == KindText {
			max = maxText
		}
		if utf8.RuneCountInString(v) > max {
			return problem(ErrTextTooLong, "Max", max)
		}
	case KindDate:
		t, msg := ParseDate(s, a.Lang)
		if msg != "" {
			return Problem{ID: msg}
		}
		if p := checkDate(f.DateCheck, t, today); !p.OK() {
			return p
		}
		if f.BirthOf != "" {
			if cf, msg := ParseCodiceFiscale(a.raw(f.BirthOf), today); msg == "" {
				if msg := CheckCFConsistency(cf, t, nil); msg != "" {
					return Problem{ID: msg}
				}
			}
		}
		v = t.Format(time.DateOnly)
	case KindAmount:
		var cents int64
		cents, id = ParseAmountEUR(s)
		v = strconv.FormatInt(cents, 10)
	case KindIBAN:
		v, id = NormalizeIBAN(s)
	case KindCodiceFiscale:
		var cf CodiceFiscale
		cf, id = ParseCodiceFiscale(s, today)
		v = cf.Code
	case KindEmail:
		v, id = NormalizeEmail(s)
	case KindPhone:
		v, id = NormalizePhone(s)
	case KindComune:
		v, id = ComuneOf(s)
	case KindCAP:
		v, id = NormalizeCAP(s)
	case KindChoice, KindYesNo:
		v = strings.TrimSpace(s)
		if !f.hasOption(v) {
			return Problem{ID: ErrChoiceInvalid}
		}
		if f.MustBeYes && v != "yes" {
			return Problem{ID: ErrDeclarationRequired}
		}
	case KindMultichoice:
		var vs []string
		for _, r := range raw {
			r = strings.TrimSpace(r)
			if !f.hasOption(r) {
				return Problem{ID: ErrChoiceInvalid}
			}
			if !slices.Contains(vs, r) {
				vs = append(vs, r)
			}
		}
		a.Value[f.ID] = vs
		return Problem{}
	case KindNumber:
		n, err := strconv.ParseInt(strings.TrimSpace(foldDigits(s)), 10, 64)
		if err != nil || n < 0 || n > maxNumber {
			return Problem{ID: ErrNumberInvalid}
		}
		if f.Max > 0 && n > int64(f.Max) {
			return problem(ErrNumberTooLarge, "Max", f.Max)
		}
		v = strconv.FormatInt(n, 10)
	default:
		panic(fmt.Sprintf("forms: field %s: kind %q passed the loader", f.ID, f.Kind))
	}
	if id != "" {
		return Problem{ID: id}
	}
	a.Value[f.ID] = []string{v}
	return Problem{}
}

func checkDate(check string, t, today time.Time) Problem {
	switch check {
	case DateBirth:
		if p := NotFuture(t, today); !p.OK() {
			return p
		}
		return WithinYears(t, today, 120)
	case DatePast:
		return NotFuture(t, today)
	case DateDSU:
		return ISEEValidOn(t, today)
	}
	return Problem{}
}

func requiredID(kind string) string {
	switch kind {
	case KindCodiceFiscale:
		return ErrCFRequired
	case KindIBAN:
		return ErrIBANRequired
	case KindEmail:
		return ErrEmailRequired
	}
	return ErrRequired
}

// nonEmpty drops blank values: an empty input is no answer.
func nonEmpty(vs []string) []string {
	var out []string
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			out = append(out, v)
		}
	}
	return out
}

// holds evaluates a condition that needs no call (show_if, documents) on normalized values; an unanswered field
// has the value "".
func (a Answers) holds(d *Definition, c Cond) bool {
	ok, _ := a.eval(d, c, CallParams{})
	return ok
}

// eval evaluates a condition and reports whether its fields were answered (known). Eligibility skips rules it
// cannot decide yet: "not answered" is not "not eligible".
func (a Answers) eval(d *Definition, c Cond, call CallParams) (result, known bool) {
	switch {
	case len(c.All) > 0:
		result, known = true, true
		for _, sub := range c.All {
			r, k := a.eval(d, sub, call)
			result, known = result && r, known && k
		}
		return result, known
	case len(c.Any) > 0:
		known = true
		for _, sub := range c.Any {
			r, k := a.eval(d, sub, call)
			result, known = result || r, known && k
		}
		return result, known
	}
	vs := a.Value[c.Field]
	known = len(vs) > 0
	switch c.Op {
	case OpEq:
		return slices.Contains(vs, c.Value), known
	case OpNe:
		return !slices.Contains(vs, c.Value), known
	case OpIn, OpNotIn:
		in := slices.ContainsFunc(vs, func(v string) bool { return slices.Contains(c.Values, v) })
		return in == (c.Op == OpIn), known
	case OpSet:
		return known, true
	case OpAtLeast:
		n, err := strconv.ParseInt(a.Get(c.Field), 10, 64)
		min, _ := strconv.ParseInt(c.Value, 10, 64)
		return err == nil && n >= min, err == nil
	case OpInDistrict:
		// a comune outside the district has no normalized value, but was typed: that is known, and false
		_, msg := ComuneOf(a.raw(c.Field))
		return msg == "", known || msg == ErrComuneOutsideDistrict
	case OpAgeAtLeast, OpAgeUnder:
		birth, err := time.Parse(time.DateOnly, a.Get(c.Field))
		years, _ := strconv.Atoi(c.Value)
		if err != nil || call.Opens.IsZero() {
			return false, false
		}
		old := ageOn(birth, call.Opens) >= years
		return old == (c.Op == OpAgeAtLeast), true
	case OpLteThreshold:
		cents, err := strconv.ParseInt(a.Get(c.Field), 10, 64)
		max, ok := call.threshold(c, a)
		if err != nil || !ok {
			return false, false
		}
		return cents <= max, true
	}
	return false, false
}

// ageOn is the age in whole years on a day (read in Europe/Rome by the caller's time value).
func ageOn(birth, on time.Time) int {
	on = day(on)
	years := on.Year() - birth.Year()
	if on.Month() < birth.Month() || on.Month() == birth.Month() && on.Day() < birth.Day() {
		years--
	}
	return years
}

// Reason is why the answers so far do not meet a requirement, in plain language for the "can I apply?" check.
type Reason struct {
	Rule string
	ID   string         // message ID
	Data map[string]any // like Problem.Data; the ISEE threshold rule carries Max (Cents)
}

// Eligibility returns the requirements the answers do not meet. Rules whose fields are not answered yet, or whose
// threshold the call does not set, are skipped, so the check works on a partly filled form. Ages are taken on the
// call's opening day.
func Eligibility(d *Definition, answers Answers, call CallParams) []Reason {
	var reasons []Reason
	for _, r := range d.Eligibility {
		if r.If != nil {
			if ok, known := answers.eval(d, *r.If, call); !ok || !known {
				continue
			}
		}
		if ok, known := answers.eval(d, r.Require, call); ok || !known {
			continue
		}
		reason := Reason{Rule: r.ID, ID: r.Reason}
		if r.Require.Op == OpLteThreshold {
			max, _ := call.threshold(r.Require, answers)
			reason.Data = map[string]any{"Max": Cents(max)}
		}
		reasons = append(reasons, reason)
	}
	return reasons
}

// StepShown reports whether a step asks anything with these answers. A step whose fields are all hidden is to be
// skipped, with its breadcrumb; the definitions avoid such steps once the first page is answered (the caregiver's
// step opens with a question for everyone who applies on behalf), but a resident jumping ahead may meet one.
func StepShown(d *Definition, s *Step, answers Answers) bool {
	for _, f := range s.Fields {
		if f.ShowIf == nil || answers.holds(d, *f.ShowIf) {
			return true
		}
	}
	return false
}

// RequiredDocuments returns the documents these answers need attached.
func RequiredDocuments(d *Definition, answers Answers) []Document {
	var docs []Document
	for _, doc := range d.Documents {
		if doc.If == nil || answers.holds(d, *doc.If) {
			docs = append(docs, doc)
		}
	}
	return docs
}

// MissingDocuments returns the required documents whose type is not among the attached ones.
func MissingDocuments(d *Definition, answers Answers, attached []string) []Document {
	var missing []Document
	for _, doc := range RequiredDocuments(d, answers) {
		if !slices.Contains(attached, doc.Type) {
			missing = append(missing, doc)
		}
	}
	return missing
}

// RankingKey returns a key that sorts, as a plain string (ORDER BY in PostgreSQL with COLLATE "C"), applications
// into the graduatoria: the group (category) first, then the definition's keys, then the time of receipt. A
// missing key value sorts last.
func RankingKey(d *Definition, answers Answers, receivedAt time.Time) string {
	var b strings.Builder
	if d.Ranking.GroupBy != "" {
		b.WriteString(answers.Get(d.Ranking.GroupBy))
		b.WriteByte('|')
	}
	for _, k := range d.Ranking.Keys {
		v := answers.Get(k.Field)
		var n int64
		var err error
		if f, _ := d.Field(k.Field); f.Kind == KindDate {
			var t time.Time
			t, err = time.Parse(time.DateOnly, v)
			n = t.Unix() + 1<<40 // dates before 1970 stay positive
		} else {
			n, err = strconv.ParseInt(v, 10, 64)
		}
		const top = 1<<62 - 1
		switch {
		case err != nil || n < 0:
			n = top
		case k.Desc:
			n = top - 1 - n
		}
		fmt.Fprintf(&b, "%019d|", n)
	}
	b.WriteString(receivedAt.UTC().Format("20060102T150405.000000000Z"))
	return b.String()
}
