package forms

import (
	"testing"
	"time"
)

var today = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func TestCodiceFiscaleValid(t *testing.T) {
	cases := []struct {
		in     string
		code   string
		birth  string
		female bool
		place  string
	}{
		{"RSSMRA85T10A562S", "RSSMRA85T10A562S", "1985-12-10", false, "A562"},
		{" rssmra85t10a562s ", "RSSMRA85T10A562S", "1985-12-10", false, "A562"},
		{"RSS MRA 85T10 A562S", "RSSMRA85T10A562S", "1985-12-10", false, "A562"},
		// Omocodia: the last digit of the place replaced by a letter (2 → N), with its own check character.
		{"RSSMRA85T10A56NH", "RSSMRA85T10A56NH", "1985-12-10", false, "A562"},
		// A woman born on 3 February 2001: day 43.
		{"BNCLRA01B43D150" + string(checkChar("BNCLRA01B43D150")), "BNCLRA01B43D150" + string(checkChar("BNCLRA01B43D150")), "2001-02-03", true, "D150"},
	}
	for _, c := range cases {
		cf, msg := ParseCodiceFiscale(c.in, today)
		if msg != "" {
			t.Errorf("%q: %s", c.in, msg)
			continue
		}
		if cf.Code != c.code || cf.BirthDate.Format(time.DateOnly) != c.birth || cf.Female != c.female || cf.Place != c.place {
			t.Errorf("%q: got %+v", c.in, cf)
		}
	}
}

func TestCodiceFiscaleInvalid(t *testing.T) {
	cases := map[string]string{
		"":                  ErrCFRequired,
		"   ":               ErrCFRequired,
		"RSSMRA85T10A562":   ErrCFLength,
		"RSSMRA85T10A562SX": ErrCFLength,
		"RSSMRA85T10A562X":  ErrCFChecksum,
		"RSSMR485T10A562S":  ErrCFFormat, // digit where a letter belongs
		"RSSMRA85Z10A562S":  ErrCFFormat, // Z is no month
		"RSSMRA85T1XA562S":  ErrCFFormat, // X is no omocodia letter
		"RSSMRA85B30A562" + string(checkChar("RSSMRA85B30A562")): ErrCFDate, // 30 February
		"RSSMRA85T00A562" + string(checkChar("RSSMRA85T00A562")): ErrCFDate, // day 0
		"RSSMRA85T10A562Ş": ErrCFLength, // non-ASCII: 17 bytes
	}
	for in, want := range cases {
		if _, got := ParseCodiceFiscale(in, today); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func FuzzParseCodiceFiscale(f *testing.F) {
	for _, s := range []string{"RSSMRA85T10A562S", "RSSMRA85T10A56NH", "", "x", "ZZZZZZ99Z99Z999Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cf, msg := ParseCodiceFiscale(s, today)
		if msg == "" {
			if len(cf.Code) != 16 || checkChar(cf.Code[:15]) != cf.Code[15] || cf.BirthDate.After(today) {
				t.Fatalf("accepted bad code %q: %+v", s, cf)
			}
			// Normalizing is idempotent.
			if again, msg := ParseCodiceFiscale(cf.Code, today); msg != "" || again != cf {
				t.Fatalf("%q: re-parse gave %+v %q", cf.Code, again, msg)
			}
		}
	})
}
