package forms

import (
	"reflect"
	"strconv"
	"testing"
	"time"
)

func TestParseAmountEURValid(t *testing.T) {
	cases := []struct {
		name, in string
		want     int64
	}{
		{"italian", "1.234,56", 123456},
		{"italian without grouping", "1234,56", 123456},
		{"international without grouping", "1234.56", 123456},
		{"space grouping", "1 234,56", 123456},
		{"no-break space grouping", "1\u00a0234,56", 123456},
		{"euro sign before, thousands dot", "€ 1.234", 123400},
		{"euro sign after", "1.234 €", 123400},
		{"euro sign glued", "€1.234,5", 123450},
		{"EUR code", "EUR 25.000", 2500000},
		{"euro word", "25000 euro", 2500000},
		{"euro word in arabic", "١٢٣٤,٥٦ يورو", 123456},
		{"international grouping", "1,234.56", 123456},
		{"swiss apostrophe", "1'234.50", 123450},
		{"millions", "1.234.567,89", 123456789},
		{"millions, comma grouping", "1,234,567", 123456700},
		{"space grouping, whole", "1 234", 123400},
		{"zero", "0", 0},
		{"half euro", "0,5", 50},
		{"one decimal", "12.5", 1250},
		{"leading zeros", "007", 700},
		{"ISEE as printed", "€ 12.345,67", 1234567},
		{"the largest accepted", "10.000.000,00", MaxAmountCents},
		{"full-width digits", "１２３４,５６", 123456},
	}
	for _, c := range cases {
		got, msg := ParseAmountEUR(c.in)
		if msg != "" || got != c.want {
			t.Errorf("%s: ParseAmountEUR(%q) = %d, %q; want %d", c.name, c.in, got, msg, c.want)
		}
	}
}

func TestParseAmountEURInvalid(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"empty", "", ErrRequired},
		{"blank", "  ", ErrRequired},
		{"only the euro sign", "€", ErrAmountFormat},
		{"words", "mille", ErrAmountFormat},
		{"negative", "-5", ErrAmountNegative},
		{"negative after the euro sign", "€ -1.234", ErrAmountNegative},
		{"negative with a minus sign", "−12", ErrAmountNegative},
		{"lone comma and three digits", "1,234", ErrAmountAmbiguous},
		{"lone comma and three digits, larger", "12,345", ErrAmountAmbiguous},
		{"three decimals after a zero", "0,125", ErrAmountDecimals},
		{"four decimals", "12,3456", ErrAmountDecimals},
		{"three decimals with grouping", "1.234,567", ErrAmountDecimals},
		{"three decimals, international", "1234.567", ErrAmountDecimals},
		{"a cent too much", "10.000.000,01", ErrAmountTooLarge},
		{"pasted account number", "99999999999999999999", ErrAmountTooLarge},
		{"eleven million", "11.000.000", ErrAmountTooLarge},
		{"bad grouping", "1.2.3", ErrAmountFormat},
		{"groups of two", "12.34.56", ErrAmountFormat},
		{"two separators in a row", "1..5", ErrAmountFormat},
		{"ends with a separator", "5,", ErrAmountFormat},
		{"starts with a separator", ",50", ErrAmountFormat},
		{"short group", "1 23,00", ErrAmountFormat},
		{"mixed grouping", "1.234 567", ErrAmountFormat},
		{"grouping before the decimal is wrong", "1,23.45", ErrAmountFormat},
		{"plus sign", "+5", ErrAmountFormat},
		{"exponent", "1e3", ErrAmountFormat},
		{"text in the middle", "5 euro 50", ErrAmountFormat},
		{"minus at the end", "5-", ErrAmountFormat},
	}
	for _, c := range cases {
		if got, msg := ParseAmountEUR(c.in); msg != c.want {
			t.Errorf("%s: ParseAmountEUR(%q) = %d, %q; want %q", c.name, c.in, got, msg, c.want)
		}
	}
}

func TestAmountInput(t *testing.T) {
	for cents, want := range map[int64]string{0: "0,00", 5: "0,05", 150000: "1500,00", 123456: "1234,56", -250: "-2,50"} {
		if got := AmountInput(cents); got != want {
			t.Errorf("AmountInput(%d) = %q, want %q", cents, got, want)
		}
	}
}

func TestValidateISEE(t *testing.T) {
	const max = 2_500_000 // €25,000
	cases := []struct {
		name  string
		cents int64
		want  Problem
	}{
		{"zero", 0, Problem{}},
		{"at the threshold", max, Problem{}},
		{"a cent above", max + 1, Problem{ID: ErrISEEAboveMax, Data: map[string]any{"Max": Cents(max)}}},
		{"negative", -1, Problem{ID: ErrAmountNegative}},
	}
	for _, c := range cases {
		if got := ValidateISEE(c.cents, max); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: ValidateISEE(%d) = %+v, want %+v", c.name, c.cents, got, c.want)
		}
	}
}

func TestISEEValidOn(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	cases := []struct {
		name     string
		dsu, on  time.Time
		want     string
		expiring string
	}{
		{"signed this year", d("2026-01-15"), d("2026-11-22"), "", ""},
		{"signed today", d("2026-11-22"), d("2026-11-22"), "", ""},
		{"last day of validity", d("2026-01-02"), d("2026-12-31"), "", ""},
		{"expired on new year's eve", d("2025-12-31"), d("2026-01-01"), ErrISEEExpired, "2025-12-31"},
		{"two years old", d("2024-06-01"), d("2026-03-01"), ErrISEEExpired, "2024-12-31"},
		{"dated tomorrow", d("2026-11-23"), d("2026-11-22"), ErrDateFuture, ""},
	}
	for _, c := range cases {
		p := ISEEValidOn(c.dsu, c.on)
		if p.ID != c.want {
			t.Errorf("%s: got %+v, want %q", c.name, p, c.want)
		}
		if c.expiring != "" {
			if e, ok := p.Data["Expired"].(time.Time); !ok || e.Format(time.DateOnly) != c.expiring {
				t.Errorf("%s: Expired = %v, want %s", c.name, p.Data["Expired"], c.expiring)
			}
		}
	}
	// Today in Rome late at night is still today, whatever the server's zone.
	rome := time.FixedZone("CET", 3600)
	if p := ISEEValidOn(d("2026-12-31"), time.Date(2026, 12, 31, 23, 30, 0, 0, rome)); !p.OK() {
		t.Errorf("31 December at 23:30 in Rome: %+v", p)
	}
}

func FuzzParseAmountEUR(f *testing.F) {
	for _, s := range []string{"1.234,56", "1234,56", "1234.56", "1 234,56", "€ 1.234", "1,234", "0,125", "-5",
		"10.000.000,00", "١٢٣٤,٥٦ يورو", "1'234.50", "", "€", "1,234,567.89"} {
		f.Add(s, int64(2_500_000))
	}
	f.Fuzz(func(t *testing.T, s string, max int64) {
		cents, msg := ParseAmountEUR(s)
		if msg != "" {
			if cents != 0 {
				t.Fatalf("%q: message %q with value %d", s, msg, cents)
			}
			return
		}
		if cents < 0 || cents > MaxAmountCents {
			t.Fatalf("%q accepted as %d", s, cents)
		}
		// The value written back reads the same, in the Italian and the international way, with a currency mark.
		intl := strconv.FormatInt(cents/100, 10) + "." + AmountInput(cents)[len(AmountInput(cents))-2:]
		for _, again := range []string{AmountInput(cents), intl, "€ " + AmountInput(cents), AmountInput(cents) + " EUR"} {
			if got, msg := ParseAmountEUR(again); msg != "" || got != cents {
				t.Fatalf("%q (from %q = %d) re-parsed as %d, %q", again, s, cents, got, msg)
			}
		}
		p := ValidateISEE(cents, max)
		if p.OK() != (cents <= max) {
			t.Fatalf("ValidateISEE(%d, %d) = %+v", cents, max, p)
		}
	})
}

// ValidateISEE accepts exactly the amounts from zero to the threshold, and names the threshold when it refuses.
func FuzzValidateISEE(f *testing.F) {
	for _, c := range [][2]int64{{0, 0}, {2_600_000, 2_600_000}, {2_600_001, 2_600_000}, {-1, 2_600_000}, {1 << 62, -5}} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, cents, max int64) {
		p := ValidateISEE(cents, max)
		switch {
		case cents < 0:
			if p.ID != ErrAmountNegative {
				t.Fatalf("ValidateISEE(%d, %d) = %+v", cents, max, p)
			}
		case cents > max:
			if p.ID != ErrISEEAboveMax || p.Data["Max"] != Cents(max) {
				t.Fatalf("ValidateISEE(%d, %d) = %+v", cents, max, p)
			}
		default:
			if !p.OK() {
				t.Fatalf("ValidateISEE(%d, %d) = %+v", cents, max, p)
			}
		}
	})
}

// An ISEE is valid from the day of its DSU to the 31 December of that year, whatever the time of day or the zone the
// times are read in, and the expiry it names lies between the DSU and the day it is checked on.
func FuzzISEEValidOn(f *testing.F) {
	for _, c := range [][2]int64{{date("2026-01-15").Unix(), date("2026-11-22").Unix()}, {date("2025-12-31").Unix(), date("2026-01-01").Unix()},
		{date("2026-11-23").Unix(), date("2026-11-22").Unix()}, {0, 0}} {
		f.Add(c[0], c[1], int32(0), int32(3600))
	}
	const span = 400 * 365 * 24 * 3600 // 1770 to 2370
	f.Fuzz(func(t *testing.T, dsuSec, onSec int64, dsuOff, onOff int32) {
		zone := func(off int32) *time.Location { return time.FixedZone("", int(off%(14*3600))) }
		dsu := time.Unix(dsuSec%span, 0).In(zone(dsuOff))
		on := time.Unix(onSec%span, 0).In(zone(onOff))
		p := ISEEValidOn(dsu, on)
		d, today := day(dsu), day(on)
		switch p.ID {
		case "":
			if d.After(today) || d.Year() != today.Year() {
				t.Fatalf("DSU %v valid on %v", dsu, on)
			}
			// still valid on any earlier day from the DSU on, and on the last day of the year
			if !ISEEValidOn(dsu, dsu).OK() || !ISEEValidOn(dsu, time.Date(d.Year(), 12, 31, 23, 59, 0, 0, time.UTC)).OK() {
				t.Fatalf("DSU %v: not valid on its own day or at the end of its year", dsu)
			}
		case ErrDateFuture:
			if !d.After(today) {
				t.Fatalf("DSU %v is not after %v", dsu, on)
			}
		case ErrISEEExpired:
			e, ok := p.Data["Expired"].(time.Time)
			if !ok || e != day(e) || e.Month() != time.December || e.Day() != 31 || e.Before(d) || !e.Before(today) {
				t.Fatalf("DSU %v on %v: expired %v", dsu, on, p.Data["Expired"])
			}
		default:
			t.Fatalf("DSU %v on %v: %+v", dsu, on, p)
		}
		// the time of day does not matter, only the calendar day where each time was read
		if again := ISEEValidOn(d.Add(23*time.Hour), today.Add(time.Minute)); again.ID != p.ID {
			t.Fatalf("DSU %v on %v: %q, but %q later the same days", dsu, on, p.ID, again.ID)
		}
	})
}
