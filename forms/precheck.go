package forms

import (
	"slices"
	"time"
	"unicode"
)

// EligibilityFields returns the fields a definition's eligibility rules look at, in the order the form asks them:
// the questions of the "can I apply?" pre-check.
func EligibilityFields(d *Definition) []*Field {
	used := map[string]bool{}
	var walk func(c Cond)
	walk = func(c Cond) {
		if c.Field != "" {
			used[c.Field] = true
		}
		if c.By != "" {
			used[c.By] = true
		}
		for _, sub := range append(slices.Clone(c.All), c.Any...) {
			walk(sub)
		}
	}
	for _, r := range d.Eligibility {
		if r.If != nil {
			walk(*r.If)
		}
		walk(r.Require)
	}
	var out []*Field
	for si := range d.Steps {
		for fi := range d.Steps[si].Fields {
			if f := &d.Steps[si].Fields[fi]; used[f.ID] {
				out = append(out, f)
			}
		}
	}
	return out
}

// ParsePrecheck reads the pre-check's answers. Every question is required there, since an unanswered rule would
// be skipped and "you can apply" would promise too much; cross-field checks against fields not asked are skipped.
// A comune outside the district is not a problem — it is the answer the residence rule turns into a reason —
// unless it looks mistyped: close to one of the district's names, or not a name at all.
func ParsePrecheck(d *Definition, form map[string][]string, lang string, today time.Time) (Answers, Problems) {
	a := Answers{Definition: d.ID, Lang: lang, Raw: map[string][]string{}, Value: map[string][]string{}}
	problems := Problems{}
	for _, f := range EligibilityFields(d) {
		q := *f
		q.Required, q.BirthOf = true, ""
		raw := form[q.ID]
		if len(raw) > 1 {
			raw = raw[:1]
		}
		if raw = nonEmpty(raw); len(raw) > 0 {
			a.Raw[q.ID] = raw
		}
		p := a.normalize(d, &q, today)
		if p.ID == ErrComuneOutsideDistrict && !mistypedComune(raw[0]) {
			continue
		}
		if !p.OK() {
			problems[q.ID] = p
		}
	}
	return a, problems
}

// mistypedComune reports whether a name that is not one of the district's comuni is more likely a typing slip
// than another town: it has no letters or has digits, or is one edit (two, for long names) from a district comune.
// More would be too eager: "Milano" is two edits from Izano.
func mistypedComune(name string) bool {
	letters := false
	for _, r := range name {
		if unicode.IsDigit(r) {
			return true
		}
		letters = letters || unicode.IsLetter(r)
	}
	key := comuneKey(name)
	if !letters || key == "" {
		return true
	}
	slips := 1
	if len(key) > 9 {
		slips = 2
	}
	for k := range comuneByKey {
		if editDistance(key, k) <= slips {
			return true
		}
	}
	return false
}

// editDistance is the Levenshtein distance between two strings, by rune.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
