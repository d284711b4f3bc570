package forms

import (
	"testing"
	"time"
)

func TestCheckCFConsistency(t *testing.T) {
	man, _ := ParseCodiceFiscale("RSSMRA85T10A562S", today) // born 10 December 1985
	womanCode := "BNCLRA01B43D150"
	woman, _ := ParseCodiceFiscale(womanCode+string(checkChar(womanCode)), today) // born 3 February 2001
	oldCode := "RSSMRA20A01A562"
	old, _ := ParseCodiceFiscale(oldCode+string(checkChar(oldCode)), today) // read as 2020: the code cannot tell
	yes, no := true, false
	cases := []struct {
		name   string
		cf     CodiceFiscale
		birth  time.Time
		female *bool
		want   string
	}{
		{"date and sex match", man, date("1985-12-10"), &no, ""},
		{"woman, date and sex match", woman, date("2001-02-03"), &yes, ""},
		{"nothing declared", man, time.Time{}, nil, ""},
		{"only the date declared", man, date("1985-12-10"), nil, ""},
		{"only the sex declared", woman, time.Time{}, &yes, ""},
		{"time of day and zone do not matter", man, time.Date(1985, 12, 10, 23, 0, 0, 0, time.FixedZone("CET", 3600)), &no, ""},
		{"born in 1920, code read as 2020", old, date("1920-01-01"), &no, ""},
		{"day differs", man, date("1985-12-11"), &no, ErrCFBirthMismatch},
		{"month differs", man, date("1985-11-10"), &no, ErrCFBirthMismatch},
		{"year differs", man, date("1986-12-10"), &no, ErrCFBirthMismatch},
		{"day and month swapped", woman, date("2001-03-02"), &yes, ErrCFBirthMismatch},
		{"sex differs", man, date("1985-12-10"), &yes, ErrCFSexMismatch},
		{"woman declared as man", woman, time.Time{}, &no, ErrCFSexMismatch},
		{"both differ: the date is reported", man, date("1990-01-01"), &yes, ErrCFBirthMismatch},
		{"no code to check", CodiceFiscale{}, date("1990-01-01"), &yes, ""},
	}
	for _, c := range cases {
		if got := CheckCFConsistency(c.cf, c.birth, c.female); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func FuzzCheckCFConsistency(f *testing.F) {
	f.Add("RSSMRA85T10A562S", "10/12/1985", false)
	f.Add("RSSMRA85T10A56NH", "10/12/1985", true)
	f.Add("BNCLRA01B43D150X", "2001-02-03", true)
	f.Add("", "", false)
	f.Fuzz(func(t *testing.T, code, birth string, female bool) {
		cf, _ := ParseCodiceFiscale(code, today)
		d, _ := ParseDate(birth, "it")
		got := CheckCFConsistency(cf, d, &female)
		if got != "" && got != ErrCFBirthMismatch && got != ErrCFSexMismatch {
			t.Fatalf("unexpected message %q", got)
		}
		if cf.Code == "" {
			return
		}
		// A code is consistent with its own date and sex, and with the same day a century earlier.
		if msg := CheckCFConsistency(cf, cf.BirthDate, &cf.Female); msg != "" {
			t.Fatalf("%s inconsistent with itself: %s", cf.Code, msg)
		}
		if msg := CheckCFConsistency(cf, cf.BirthDate.AddDate(-100, 0, 0), nil); msg != "" && cf.BirthDate.AddDate(-100, 0, 0).Day() == cf.BirthDate.Day() {
			t.Fatalf("%s: a century earlier gave %s", cf.Code, msg)
		}
		if msg := CheckCFConsistency(cf, cf.BirthDate.AddDate(0, 0, 1), nil); msg != ErrCFBirthMismatch {
			t.Fatalf("%s: the next day gave %q", cf.Code, msg)
		}
		other := !cf.Female
		if msg := CheckCFConsistency(cf, time.Time{}, &other); msg != ErrCFSexMismatch {
			t.Fatalf("%s: the other sex gave %q", cf.Code, msg)
		}
	})
}
