package forms

import (
	"strconv"
	"strings"
	"time"
)

// Message IDs of amount and ISEE errors.
const (
	ErrAmountFormat    = "form.error.amount_format"    // not a number as people write money
	ErrAmountAmbiguous = "form.error.amount_ambiguous" // "1,234": 1.234 in Italian, 1234 in English
	ErrAmountNegative  = "form.error.amount_negative"
	ErrAmountDecimals  = "form.error.amount_decimals" // more than 2 digits after the decimal separator
	ErrAmountTooLarge  = "form.error.amount_too_large"
	ErrISEEAboveMax    = "form.error.isee_above_max" // data: Max (Cents)
	ErrISEEExpired     = "form.error.isee_expired"   // data: Expired (time.Time)
)

// MaxAmountCents is the largest amount a form accepts, €10 million: no ISEE, rent or income on these forms comes
// near it, and anything above is a typo (an extra zero, a pasted account number).
const MaxAmountCents = 10_000_000 * 100

// currencyWords are the ways residents mark euros before or after the number, in the portal's languages.
var currencyWords = []string{"€", "euros", "euro", "eur", "євро", "евро", "يورو", "欧元", "ਯੂਰੋ"}

// ParseAmountEUR reads an amount in euro as residents type it, in the Italian or the international way —
// "1.234,56", "1234,56", "1234.56", "1 234,56", "1,234.56", "€ 1.234", "1.234 euro" — and returns it in cents, or a
// message ID. The rules that decide what a separator means:
//   - with both "." and ",", the last one is the decimal separator and the other groups thousands;
//   - a separator that appears more than once, a space or an apostrophe groups thousands, in groups of three;
//   - a single "." or "," followed by one or two digits is the decimal separator;
//   - a single "." followed by three digits groups thousands ("1.234" is 1234, as in Italian: money has no third
//     decimal), but a single "," followed by three digits is refused as ambiguous, because Italian readers see
//     1,234 euro there and English readers 1234.
//
// Negative amounts, more than two decimals and amounts above MaxAmountCents are refused.
func ParseAmountEUR(s string) (int64, string) {
	s = strings.TrimSpace(foldDigits(s))
	if s == "" {
		return 0, ErrRequired
	}
	s = trimCurrency(s)
	first := strings.IndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' })
	if first < 0 {
		return 0, ErrAmountFormat
	}
	if strings.ContainsAny(s[:first], "-−–") {
		return 0, ErrAmountNegative
	}

	// Split into runs of digits and the single separator between each two runs.
	var groups []string
	var seps []rune
	start := -1
	for i, r := range s {
		if r >= '0' && r <= '9' {
			if start < 0 {
				start = i
			}
			continue
		}
		if start < 0 { // a sign or separator before the number, or two separators in a row
			return 0, ErrAmountFormat
		}
		groups = append(groups, s[start:i])
		start = -1
		switch {
		case r == '.' || r == ',':
		case isSpace(r):
			r = ' '
		case r == '\'' || r == '’':
			r = '\''
		default:
			return 0, ErrAmountFormat
		}
		seps = append(seps, r)
	}
	if start < 0 { // ends with a separator
		return 0, ErrAmountFormat
	}
	groups = append(groups, s[start:])

	intGroups, intSeps, frac := groups, seps, ""
	if n := len(seps); n > 0 {
		last, lastGroup := seps[n-1], groups[n]
		count := strings.Count(string(seps), string(last))
		other := '.'
		if last == '.' {
			other = ','
		}
		switch {
		case last != '.' && last != ',', count > 1:
			// only thousands separators
		case strings.ContainsRune(string(seps[:n-1]), other) || len(lastGroup) != 3:
			intGroups, intSeps, frac = groups[:n], seps[:n-1], lastGroup
		case !validGrouping(groups, seps): // "0,125", "1234.567": can only be decimals
			return 0, ErrAmountDecimals
		case last == ',':
			return 0, ErrAmountAmbiguous
		}
	}
	if len(frac) > 2 {
		return 0, ErrAmountDecimals
	}
	if !validGrouping(intGroups, intSeps) {
		return 0, ErrAmountFormat
	}

	digits := strings.TrimLeft(strings.Join(intGroups, ""), "0")
	if len(digits) > 8 { // 100 million euro or more
		return 0, ErrAmountTooLarge
	}
	euros, _ := strconv.ParseInt("0"+digits, 10, 64)
	cents, _ := strconv.ParseInt((frac + "00")[:2], 10, 64)
	total := euros*100 + cents
	if total > MaxAmountCents {
		return 0, ErrAmountTooLarge
	}
	return total, ""
}

// validGrouping reports whether digit groups joined by thousands separators are well formed: one kind of
// separator, a first group of 1-3 digits not starting with 0, then groups of exactly 3. A single group is valid.
func validGrouping(groups []string, seps []rune) bool {
	if len(groups) == 1 {
		return true
	}
	if len(groups[0]) > 3 || groups[0][0] == '0' {
		return false
	}
	for i, g := range groups[1:] {
		if len(g) != 3 || seps[i] != seps[0] {
			return false
		}
	}
	return true
}

// trimCurrency removes one currency mark at the start and one at the end, with the spaces next to them.
func trimCurrency(s string) string {
	for _, w := range currencyWords {
		if len(s) >= len(w) && strings.EqualFold(s[:len(w)], w) {
			s = strings.TrimSpace(s[len(w):])
			break
		}
	}
	for _, w := range currencyWords {
		if len(s) >= len(w) && strings.EqualFold(s[len(s)-len(w):], w) {
			s = strings.TrimSpace(s[:len(s)-len(w)])
			break
		}
	}
	return s
}

// AmountInput writes cents back as an input value that ParseAmountEUR reads in every language: "1234,56", with no
// thousands separator, for re-filling a form from a saved draft.
func AmountInput(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return sign + strconv.FormatInt(cents/100, 10) + "," + strconv.FormatInt(cents%100/10, 10) + strconv.FormatInt(cents%10, 10)
}

// ValidateISEE checks an ISEE value against the threshold of a call (both in cents). Above the threshold the
// Problem carries the threshold as Max, to be shown as money.
func ValidateISEE(cents, maxCents int64) Problem {
	switch {
	case cents < 0:
		return Problem{ID: ErrAmountNegative}
	case cents > maxCents:
		return problem(ErrISEEAboveMax, "Max", Cents(maxCents))
	}
	return Problem{}
}

// ISEEValidOn checks the date of an ISEE attestation's DSU (the declaration it was computed from) on a given day:
// since 2020 a DSU, whatever month it was signed, expires on 31 December of its year. A DSU of an earlier year gets
// ErrISEEExpired with the expiry day as Expired; a DSU dated after the day is a typo.
func ISEEValidOn(dsu, on time.Time) Problem {
	d, t := day(dsu), day(on)
	switch {
	case d.After(t):
		return Problem{ID: ErrDateFuture}
	case d.Year() < t.Year():
		return problem(ErrISEEExpired, "Expired", time.Date(d.Year(), time.December, 31, 0, 0, 0, 0, time.UTC))
	}
	return Problem{}
}
