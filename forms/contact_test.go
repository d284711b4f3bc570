package forms

import "testing"

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
	f.Fuzz(func(t *testing.T, email, phone string) {
		if e, msg := NormalizeEmail(email); msg == "" {
			if again, msg := NormalizeEmail(e); msg != "" || again != e {
				t.Fatalf("email %q not stable: %q %q", email, again, msg)
			}
		}
		if p, msg := NormalizePhone(phone); msg == "" && p != "" {
			if again, msg := NormalizePhone(p); msg != "" || again != p {
				t.Fatalf("phone %q not stable: %q %q", phone, again, msg)
			}
		}
	})
}
