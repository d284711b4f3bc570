package forms

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Message IDs of date errors.
const (
	ErrDateFormat   = "form.error.date_format"    // not day, month and four-digit year
	ErrDateInvalid  = "form.error.date_invalid"   // no such day: 31/04, 29/02 of a common year
	ErrDateFuture   = "form.error.date_future"    // after today
	ErrDateTooEarly = "form.error.date_too_early" // data: Min (time.Time)
	ErrDateTooLate  = "form.error.date_too_late"  // data: Max (time.Time)
)

// monthFirst lists the languages whose readers write a numeric date month first. None of the shipped languages
// does (English here is the British and Irish usage of residents in Italy; Chinese puts the year first, which a
// four-digit first field reveals), so every shipped language reads "05/03/2026" as 5 March.
var monthFirst = map[string]bool{"en-US": true}

// cjkDate turns the year and month marks of a Chinese date into separators; the day mark is trimmed.
var cjkDate = strings.NewReplacer("年", "-", "月", "-")

// ParseDate reads a calendar day as residents type it: "05/03/2026", "5.3.2026", "5-3-2026" (day, month, year, in the
// order of lang), "2026-03-05" (what an HTML date input sends, year first, in every language), "2026年3月5日".
// The year has four digits; day and month one or two. It returns the day at midnight UTC, or a message ID.
func ParseDate(s, lang string) (time.Time, string) {
	s = strings.TrimSpace(foldDigits(s))
	if s == "" {
		return time.Time{}, ErrRequired
	}
	s = strings.TrimSuffix(cjkDate.Replace(s), "日")

	// Three runs of digits; between two runs, spaces and at most one of / . -
	var fields []string
	for i := 0; i < len(s) && len(fields) <= 3; {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i {
			return time.Time{}, ErrDateFormat
		}
		fields = append(fields, s[i:j])
		marks, sepStart := 0, j
		for j < len(s) && !isDigit(s[j]) {
			r, size := utf8.DecodeRuneInString(s[j:])
			switch {
			case r == '/' || r == '.' || r == '-':
				marks++
			case !isSpace(r):
				return time.Time{}, ErrDateFormat
			}
			j += size
		}
		if marks > 1 || (j == len(s) && j > sepStart) { // two marks, or a separator at the end
			return time.Time{}, ErrDateFormat
		}
		i = j
	}
	if len(fields) != 3 {
		return time.Time{}, ErrDateFormat
	}

	var y, m, d string
	switch {
	case len(fields[0]) == 4:
		y, m, d = fields[0], fields[1], fields[2]
	case monthFirst[lang]:
		m, d, y = fields[0], fields[1], fields[2]
	default:
		d, m, y = fields[0], fields[1], fields[2]
	}
	if len(y) != 4 || len(m) > 2 || len(d) > 2 {
		return time.Time{}, ErrDateFormat
	}
	year, _ := strconv.Atoi(y)
	month, _ := strconv.Atoi(m)
	dd, _ := strconv.Atoi(d)
	t := time.Date(year, time.Month(month), dd, 0, 0, 0, 0, time.UTC)
	if year < 1000 || month < 1 || month > 12 || dd < 1 || t.Month() != time.Month(month) {
		return time.Time{}, ErrDateInvalid
	}
	return t, ""
}

// NotFuture checks that a day is not after today (both read as calendar days).
func NotFuture(d, today time.Time) Problem {
	if day(d).After(day(today)) {
		return Problem{ID: ErrDateFuture}
	}
	return Problem{}
}

// NotBefore checks that a day is min or later; the Problem carries min as Min.
func NotBefore(d, min time.Time) Problem {
	if day(d).Before(day(min)) {
		return problem(ErrDateTooEarly, "Min", day(min))
	}
	return Problem{}
}

// NotAfter checks that a day is max or earlier; the Problem carries max as Max.
func NotAfter(d, max time.Time) Problem {
	if day(d).After(day(max)) {
		return problem(ErrDateTooLate, "Max", day(max))
	}
	return Problem{}
}

// WithinYears checks that a day lies at most years years before or after today — a plausibility bound against
// typos in the year (a birth date: WithinYears(birth, today, 120) with NotFuture). The Problem names the first or
// last accepted day, so the message needs no plural of "years".
func WithinYears(d, today time.Time, years int) Problem {
	if p := NotBefore(d, today.AddDate(-years, 0, 0)); !p.OK() {
		return p
	}
	return NotAfter(d, today.AddDate(years, 0, 0))
}
