package forms

import (
	"testing"
	"time"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseDateValid(t *testing.T) {
	cases := []struct{ name, in, lang, want string }{
		{"italian", "05/03/2026", "it", "2026-03-05"},
		{"no leading zeros", "5/3/2026", "it", "2026-03-05"},
		{"dots", "5.3.2026", "ro", "2026-03-05"},
		{"dashes", "05-03-2026", "sq", "2026-03-05"},
		{"html date input", "2026-03-05", "it", "2026-03-05"},
		{"year first with slashes", "2026/3/5", "zh-Hans", "2026-03-05"},
		{"chinese", "2026年3月5日", "zh-Hans", "2026-03-05"},
		{"spaces around the separators", " 05 / 03 / 2026 ", "fr", "2026-03-05"},
		{"spaces only", "05 03 2026", "es", "2026-03-05"},
		{"english is day first", "05/03/2026", "en", "2026-03-05"},
		{"arabic-indic digits", "٠٥/٠٣/٢٠٢٦", "ar", "2026-03-05"},
		{"gurmukhi digits", "੦੫/੦੩/੨੦੨੬", "pa", "2026-03-05"},
		{"leap day", "29/02/2024", "uk", "2024-02-29"},
		{"month first where people write so", "03/05/2026", "en-US", "2026-03-05"},
		{"unknown language reads day first", "05/03/2026", "", "2026-03-05"},
	}
	for _, c := range cases {
		got, msg := ParseDate(c.in, c.lang)
		if msg != "" || got.Format(time.DateOnly) != c.want || got.Location() != time.UTC || got.Hour() != 0 {
			t.Errorf("%s: ParseDate(%q, %q) = %v, %q; want %s", c.name, c.in, c.lang, got, msg, c.want)
		}
	}
}

func TestParseDateInvalid(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"empty", "", ErrRequired},
		{"blank", "  ", ErrRequired},
		{"two-digit year", "5/3/26", ErrDateFormat},
		{"no separators", "05032026", ErrDateFormat},
		{"no year", "5/3", ErrDateFormat},
		{"four fields", "5/3/2026/1", ErrDateFormat},
		{"month of a year", "2026-03", ErrDateFormat},
		{"two separators in a row", "5//3/2026", ErrDateFormat},
		{"separator at the end", "5.3.2026.", ErrDateFormat},
		{"separator at the start", "/5/3/2026", ErrDateFormat},
		{"month in words", "5 marzo 2026", ErrDateFormat},
		{"three-digit day", "123/3/2026", ErrDateFormat},
		{"three-digit month", "5/123/2026", ErrDateFormat},
		{"five-digit year", "5/3/20266", ErrDateFormat},
		{"time of day", "2026-03-05T10:00", ErrDateFormat},
		{"31 April", "31/04/2026", ErrDateInvalid},
		{"29 February of a common year", "29/02/2025", ErrDateInvalid},
		{"30 February, year first", "2026-02-30", ErrDateInvalid},
		{"day zero", "00/01/2026", ErrDateInvalid},
		{"month 13", "01/13/2026", ErrDateInvalid},
		{"year with a leading zero", "0999-01-01", ErrDateInvalid},
		{"year zero", "1/1/0000", ErrDateInvalid},
	}
	for _, c := range cases {
		if got, msg := ParseDate(c.in, "it"); msg != c.want {
			t.Errorf("%s: ParseDate(%q) = %v, %q; want %q", c.name, c.in, got, msg, c.want)
		}
	}
}

func TestDateChecks(t *testing.T) {
	today := date("2026-11-22")
	cases := []struct {
		name string
		got  Problem
		want string
		data map[string]string
	}{
		{"today is not future", NotFuture(today, today), "", nil},
		{"yesterday is not future", NotFuture(date("2026-11-21"), today), "", nil},
		{"tomorrow is future", NotFuture(date("2026-11-23"), today), ErrDateFuture, nil},
		{"late evening in Rome is still today", NotFuture(today, time.Date(2026, 11, 22, 23, 59, 0, 0, time.FixedZone("CET", 3600))), "", nil},
		{"on the minimum", NotBefore(date("2026-01-01"), date("2026-01-01")), "", nil},
		{"the day before the minimum", NotBefore(date("2025-12-31"), date("2026-01-01")), ErrDateTooEarly, map[string]string{"Min": "2026-01-01"}},
		{"on the maximum", NotAfter(date("2026-12-31"), date("2026-12-31")), "", nil},
		{"the day after the maximum", NotAfter(date("2027-01-01"), date("2026-12-31")), ErrDateTooLate, map[string]string{"Max": "2026-12-31"}},
		{"born 120 years ago today", WithinYears(date("1906-11-22"), today, 120), "", nil},
		{"born 120 years and a day ago", WithinYears(date("1906-11-21"), today, 120), ErrDateTooEarly, map[string]string{"Min": "1906-11-22"}},
		{"a contract ending in 30 years", WithinYears(date("2056-11-22"), today, 30), "", nil},
		{"a contract ending in 300 years", WithinYears(date("2326-11-22"), today, 30), ErrDateTooLate, map[string]string{"Max": "2056-11-22"}},
	}
	for _, c := range cases {
		if c.got.ID != c.want {
			t.Errorf("%s: got %+v, want %q", c.name, c.got, c.want)
		}
		for k, v := range c.data {
			if d, ok := c.got.Data[k].(time.Time); !ok || d.Format(time.DateOnly) != v {
				t.Errorf("%s: %s = %v, want %s", c.name, k, c.got.Data[k], v)
			}
		}
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"05/03/2026", "5.3.2026", "2026-03-05", "2026年3月5日", "٠٥/٠٣/٢٠٢٦", "29/02/2025", "", "1/1/0000",
		"5//3/2026", "31/12/9999"} {
		f.Add(s, "it")
	}
	f.Add("03/05/2026", "en-US")
	f.Fuzz(func(t *testing.T, s, lang string) {
		d, msg := ParseDate(s, lang)
		if msg != "" {
			if !d.IsZero() {
				t.Fatalf("%q: message %q with value %v", s, msg, d)
			}
			return
		}
		if d.Year() < 1000 || d.Year() > 9999 || d != day(d) {
			t.Fatalf("%q accepted as %v", s, d)
		}
		// What the portal writes back (HTML date input, Italian display) reads the same.
		for _, again := range []string{d.Format(time.DateOnly), d.Format("02/01/2006"), d.Format("2.1.2006")} {
			if got, msg := ParseDate(again, "it"); msg != "" || !got.Equal(d) {
				t.Fatalf("%q (from %q) re-parsed as %v, %q", again, s, got, msg)
			}
		}
		if !NotBefore(d, d).OK() || !NotAfter(d, d).OK() || !NotFuture(d, d).OK() || !WithinYears(d, d, 0).OK() {
			t.Fatalf("%v is not within itself", d)
		}
		if NotFuture(d.AddDate(0, 0, 1), d).OK() || NotBefore(d.AddDate(0, 0, -1), d).OK() {
			t.Fatalf("%v: the day after is not future, or the day before not early", d)
		}
		if p := ISEEValidOn(d, date("2026-11-22")); p.OK() != (d.Year() == 2026 && !d.After(date("2026-11-22"))) {
			t.Fatalf("ISEEValidOn(%v) = %+v", d, p)
		}
	})
}

// The day bounds agree with each other and with calendar order, ignore the time of day, and name a day as the bound.
func FuzzDateChecks(f *testing.F) {
	f.Add(date("1985-12-10").Unix(), date("2026-11-22").Unix(), uint8(120), int32(0))
	f.Add(date("2026-11-22").Unix()+86399, date("2026-11-22").Unix(), uint8(0), int32(-3600))
	const span = 400 * 365 * 24 * 3600
	f.Fuzz(func(t *testing.T, aSec, bSec int64, years uint8, off int32) {
		loc := time.FixedZone("", int(off%(14*3600)))
		a, b := time.Unix(aSec%span, 0).In(loc), time.Unix(bSec%span, 0).In(loc)
		da, db := day(a), day(b)
		if NotBefore(a, b).OK() != !da.Before(db) || NotAfter(a, b).OK() != !da.After(db) {
			t.Fatalf("%v against %v: NotBefore %v, NotAfter %v", a, b, NotBefore(a, b), NotAfter(a, b))
		}
		if NotBefore(a, b).OK() != NotAfter(b, a).OK() || NotFuture(a, b).OK() != NotAfter(a, b).OK() {
			t.Fatalf("%v, %v: the bounds disagree", a, b)
		}
		for _, p := range []Problem{NotBefore(a, b), NotAfter(a, b), WithinYears(a, b, int(years))} {
			for _, v := range p.Data {
				if d, ok := v.(time.Time); !ok || d != day(d) {
					t.Fatalf("%+v: the bound is not a day", p)
				}
			}
		}
		w := WithinYears(a, b, int(years))
		inside := !da.Before(day(b.AddDate(-int(years), 0, 0))) && !da.After(day(b.AddDate(int(years), 0, 0)))
		if w.OK() != inside || !w.OK() && w.ID != ErrDateTooEarly && w.ID != ErrDateTooLate {
			t.Fatalf("WithinYears(%v, %v, %d) = %+v", a, b, years, w)
		}
	})
}
