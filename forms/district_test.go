package forms

import (
	"sort"
	"strings"
	"testing"
)

// The district has 48 comuni in six sub-ambiti, each named after one of its own comuni (PRODUCT.md).
func TestDistrict(t *testing.T) {
	if len(District) != 6 {
		t.Fatalf("%d sub-ambiti, want 6", len(District))
	}
	var names []string
	comuni, codes := map[string]bool{}, map[string]bool{}
	for _, s := range District {
		names = append(names, s.Name)
		if codes[s.Code] || s.Code == "" {
			t.Errorf("sub-ambito code %q repeated or empty", s.Code)
		}
		codes[s.Code] = true
		for _, c := range s.Comuni {
			if comuni[c] {
				t.Errorf("%s listed twice", c)
			}
			comuni[c] = true
			if got, ok := SubAmbitoOf(c); !ok || got.Code != s.Code {
				t.Errorf("SubAmbitoOf(%q) = %q, %v", c, got.Code, ok)
			}
			if got, msg := ComuneOf(c); got != c || msg != "" {
				t.Errorf("ComuneOf(%q) = %q, %q", c, got, msg)
			}
		}
		if got, _ := ComuneOf(s.Name); got == "" {
			t.Errorf("sub-ambito %s is not named after one of the comuni", s.Name)
		}
	}
	if len(comuni) != 48 {
		t.Errorf("%d comuni, want 48", len(comuni))
	}
	sort.Strings(names)
	if got := strings.Join(names, ", "); got != "Bagnolo Cremasco, Castelleone, Crema, Pandino, Sergnano, Soncino" {
		t.Errorf("sub-ambiti: %s", got)
	}
	// No two names or aliases fold to one key: each would silently hide the other.
	if len(comuneByKey) != 48+len(comuneAliases) {
		t.Errorf("%d lookup keys for 48 comuni and %d aliases: two names collide", len(comuneByKey), len(comuneAliases))
	}
	for alias, c := range comuneAliases {
		if !comuni[c] {
			t.Errorf("alias %q points to %q, not a comune of the district", alias, c)
		}
	}
	if _, ok := SubAmbitoOf("rivolta d adda"); ok {
		t.Error("SubAmbitoOf takes official names only")
	}
}

func TestComuneOf(t *testing.T) {
	ok := []struct{ in, want string }{
		{"rivolta d adda", "Rivolta d'Adda"},
		{"RIVOLTA D'ADDA", "Rivolta d'Adda"},
		{"Rivolta d’Adda", "Rivolta d'Adda"},
		{"rivoltadadda", "Rivolta d'Adda"},
		{"spino-d-adda", "Spino d'Adda"},
		{" Crèma ", "Crema"},
		{"Comune di Crema", "Crema"},
		{"Crema (CR)", "Crema"},
		{"offanengo, cr", "Offanengo"},
		{"casale cremasco vidolasco", "Casale Cremasco-Vidolasco"},
		{"Casale Cremasco", "Casale Cremasco-Vidolasco"},
		{"CUMIGNANO", "Cumignano sul Naviglio"},
		{"credera", "Credera Rubbiano"},
		{"Casaletto di Sopra", "Casaletto di Sopra"},
	}
	for _, c := range ok {
		if got, msg := ComuneOf(c.in); got != c.want || msg != "" {
			t.Errorf("ComuneOf(%q) = %q, %q; want %q", c.in, got, msg, c.want)
		}
	}
	bad := []struct{ name, in, want string }{
		{"empty", "", ErrRequired},
		{"blank", "  ", ErrRequired},
		{"another province", "Milano", ErrComuneOutsideDistrict},
		{"the provincial capital", "Cremona", ErrComuneOutsideDistrict},
		{"three comuni start so", "Ripalta", ErrComuneOutsideDistrict},
		{"Trescore Balneario is in Bergamo", "Trescore", ErrComuneOutsideDistrict},
		{"the province alone", "CR", ErrComuneOutsideDistrict},
		{"only the prefix", "Comune di", ErrComuneOutsideDistrict},
		{"punctuation only", "'-'", ErrComuneOutsideDistrict},
	}
	for _, c := range bad {
		if got, msg := ComuneOf(c.in); msg != c.want {
			t.Errorf("%s: ComuneOf(%q) = %q, %q; want %q", c.name, c.in, got, msg, c.want)
		}
	}
}

func TestNormalizeCAP(t *testing.T) {
	for in, want := range map[string]string{"26013": "26013", " 26 013 ": "26013", "٢٦٠١٣": "26013", "00118": "00118"} {
		if got, msg := NormalizeCAP(in); got != want || msg != "" {
			t.Errorf("NormalizeCAP(%q) = %q, %q; want %q", in, got, msg, want)
		}
	}
	bad := []struct{ name, in, want string }{
		{"empty", "", ErrRequired},
		{"four digits", "2601", ErrCAPInvalid},
		{"six digits", "260133", ErrCAPInvalid},
		{"letter O for zero", "26O13", ErrCAPInvalid},
		{"sign", "-2601", ErrCAPInvalid},
		{"with the town", "26013 Crema", ErrCAPInvalid},
	}
	for _, c := range bad {
		if got, msg := NormalizeCAP(c.in); msg != c.want {
			t.Errorf("%s: NormalizeCAP(%q) = %q, %q; want %q", c.name, c.in, got, msg, c.want)
		}
	}
}

func FuzzComuneOf(f *testing.F) {
	for _, s := range []string{"Rivolta d'Adda", "rivolta d adda", "Crema (CR)", "Comune di Crema", "Milano", "", "Crèma", "İ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, msg := ComuneOf(s)
		if msg != "" {
			if c != "" {
				t.Fatalf("%q: message %q with value %q", s, msg, c)
			}
			return
		}
		if _, ok := SubAmbitoOf(c); !ok {
			t.Fatalf("%q gave %q, not a comune of the district", s, c)
		}
		for _, again := range []string{c, strings.ToUpper(c), strings.ToLower(c)} {
			if got, msg := ComuneOf(again); got != c || msg != "" {
				t.Fatalf("%q (from %q) gave %q, %q", again, s, got, msg)
			}
		}
	})
}

func FuzzNormalizeCAP(f *testing.F) {
	for _, s := range []string{"26013", " 26 013 ", "٢٦٠١٣", "", "2601", "26O13"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cap, msg := NormalizeCAP(s)
		if msg != "" {
			if cap != "" {
				t.Fatalf("%q: message %q with value %q", s, msg, cap)
			}
			return
		}
		if len(cap) != 5 || !allDigits(cap) {
			t.Fatalf("%q accepted as %q", s, cap)
		}
		if again, msg := NormalizeCAP(cap); again != cap || msg != "" {
			t.Fatalf("%q re-normalized to %q, %q", cap, again, msg)
		}
	})
}
