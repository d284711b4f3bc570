package forms

import "time"

// Message IDs of a fiscal code that does not match what the form declares.
const (
	ErrCFBirthMismatch = "form.error.cf_birth_mismatch"
	ErrCFSexMismatch   = "form.error.cf_sex_mismatch"
)

// CheckCFConsistency checks a parsed fiscal code against a birth date and a sex declared on the same form, and
// returns a message ID when they disagree — usually a typo in one of them. A zero birth date or a nil female skips
// that check. The code holds only two digits of the year, so the year is compared modulo 100: the century that
// ParseCodiceFiscale guesses is wrong for people over 100 and must not make their code "inconsistent".
func CheckCFConsistency(cf CodiceFiscale, birth time.Time, female *bool) string {
	if cf.Code == "" {
		return ""
	}
	if !birth.IsZero() {
		b, c := day(birth), cf.BirthDate
		if b.Year()%100 != c.Year()%100 || b.Month() != c.Month() || b.Day() != c.Day() {
			return ErrCFBirthMismatch
		}
	}
	if female != nil && *female != cf.Female {
		return ErrCFSexMismatch
	}
	return ""
}
