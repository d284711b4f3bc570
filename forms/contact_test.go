package forms

import (
	"slices"
	"strings"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	ok := map[string]string{"Mario.Rossi@Example.IT": "mario.rossi@example.it", "  a+b@c.it ": "a+b@c.it"}
	for in, want := range ok {
		if got, msg := NormalizeEmail(in); got != want || msg != "" {
			t.Errorf("%q: %q %q", in, got, msg)
		}
	}
	bad := map[string]string{"": ErrEmailRequired, "mario": ErrEmailInvalid, "mario@localhost": ErrEmailInvalid,
		"Mario <m@x.it>": ErrEmailInvalid, "m@x.it, n@y.it": ErrEmailInvalid, "@x.it": ErrEmailInvalid, "m@.it": ErrEmailInvalid,
		"m@x.": ErrEmailInvalid}
	for in, want := range bad {
		if _, msg := NormalizeEmail(in); msg != want {
			t.Errorf("%q: %q, want %q", in, msg, want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	ok := map[string]string{"0373 123456": "+390373123456", "+39 333 123 4567": "+393331234567", "0040 721 123 456": "+40721123456",
		"": "", "(0373) 12.34.56": "+390373123456"}
	for in, want := range ok {
		if got, msg := NormalizePhone(in); got != want || msg != "" {
			t.Errorf("%q: %q %q", in, got, msg)
		}
	}
	for _, in := range []string{"abc", "12", "+39 333 1234567890123", "333+1", "tel:333"} {
		if _, msg := NormalizePhone(in); msg != ErrPhoneInvalid {
			t.Errorf("%q accepted", in)
		}
	}
}

func FuzzContacts(f *testing.F) {
	f.Add("mario@example.it", "+39 0373 123456")
	f.Add("Mario.Rossi@Example.IT ", "0040 (721) 123-456")
	f.Add("m@x.", "tel:333")
	f.Fuzz(func(t *testing.T, email, phone string) {
		if e, msg := NormalizeEmail(email); msg == "" {
			if again, msg := NormalizeEmail(e); msg != "" || again != e {
				t.Fatalf("email %q not stable: %q %q", email, again, msg)
			}
			// one address, lower case, with a dotted domain: what the outbox can send to
			at := strings.LastIndexByte(e, '@')
			if e != strings.ToLower(e) || at < 1 || !strings.Contains(e[at:], ".") || strings.ContainsAny(e, " <>,;") {
				t.Fatalf("email %q accepted as %q", email, e)
			}
			// the case the resident typed does not matter (in ASCII: Unicode case mappings change letters)
			ascii := !strings.ContainsFunc(email, func(r rune) bool { return r >= 0x80 })
			if upper, msg := NormalizeEmail(strings.ToUpper(email)); ascii && (msg != "" || upper != e) {
				t.Fatalf("email %q: upper case gave %q, not %q", email, upper, e)
			}
		} else if e != "" || msg != ErrEmailRequired && msg != ErrEmailInvalid {
			t.Fatalf("email %q: %q with %q", email, msg, e)
		}
		p, msg := NormalizePhone(phone)
		switch {
		case msg != "":
			if p != "" || msg != ErrPhoneInvalid {
				t.Fatalf("phone %q: %q with %q", phone, msg, p)
			}
		case p == "":
			if strings.TrimSpace(phone) != "" {
				t.Fatalf("phone %q accepted as empty", phone)
			}
		default:
			// E.164: + and 8 to 15 digits, and stable
			if p[0] != '+' || len(p) < 9 || len(p) > 16 || !allDigits(p[1:]) {
				t.Fatalf("phone %q accepted as %q", phone, p)
			}
			if again, msg := NormalizePhone(p); msg != "" || again != p {
				t.Fatalf("phone %q not stable: %q %q", phone, again, msg)
			}
		}
	})
}

// CleanName keeps every word the resident typed, in order, and is idempotent.
func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"  Mario ", "Anna\tMaria  Rossi", "", "\u00a0Zoë\u2003", "محمد  علي", "王\n小明"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := CleanName(s)
		if CleanName(c) != c || strings.TrimSpace(c) != c || strings.Contains(c, "  ") {
			t.Fatalf("CleanName(%q) = %q is not clean", s, c)
		}
		if !slices.Equal(strings.Fields(c), strings.Fields(s)) {
			t.Fatalf("CleanName(%q) = %q changed the words", s, c)
		}
	})
}
