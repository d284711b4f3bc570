package i18n

import "testing"

func TestDecimal(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		lang string
		f    float64
		want string
	}{
		{"it", 3.5, "3,5"}, {"it", 16.26, "16,3"}, {"it", 15, "15"}, {"it", 1234.5, "1.234,5"},
		{"en", 3.5, "3.5"}, {"en", 1234.5, "1,234.5"}, {"ar", 3.5, "3.5"}, {"fr", 3.5, "3,5"},
	} {
		if got := b.Localizer(c.lang).Decimal(c.f, 1); got != c.want {
			t.Errorf("%s Decimal(%v) = %q, want %q", c.lang, c.f, got, c.want)
		}
	}
}
