package forms

import "time"

// ErrRequired is the message ID of an empty mandatory field; fields with a more helpful text of their own (fiscal
// code, e-mail, IBAN) use theirs.
const ErrRequired = "form.error.required"

// Problem is what a check reports when its message needs values: the message ID and the template data. Values keep
// their Go type so that the portal formats them in the reader's language before rendering — Cents as money,
// time.Time as a date (Localizer.Money, Localizer.Date) — since forms never produces text. The zero Problem means
// "no problem".
type Problem struct {
	ID   string
	Data map[string]any
}

// OK reports whether the checked value is acceptable.
func (p Problem) OK() bool { return p.ID == "" }

// Cents is an amount in euro cents in a Problem's data: the portal renders it as money.
type Cents int64

// problem builds a Problem with one template value.
func problem(id, key string, value any) Problem {
	return Problem{ID: id, Data: map[string]any{key: value}}
}

// day drops the time of day, keeping the calendar date as read in t's own location: dates in forms are days.
func day(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// foldDigits turns the decimal digits residents' phone keyboards type — Arabic-Indic, Extended Arabic-Indic,
// Devanagari, Gurmukhi, full-width (Chinese input methods) — into ASCII digits, and leaves every other rune alone.
func foldDigits(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	out := make([]rune, 0, len(s))
	for _, r := range s {
		for _, zero := range [...]rune{0x0660, 0x06F0, 0x0966, 0x0A66, 0xFF10} {
			if r >= zero && r <= zero+9 {
				r = '0' + (r - zero)
				break
			}
		}
		out = append(out, r)
	}
	return string(out)
}
