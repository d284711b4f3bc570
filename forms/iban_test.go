package forms

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// withCheckDigits builds an IBAN from a country and a BBAN, computing the ISO 13616 check digits independently of
// the code under test (big-number arithmetic by string, as the standard describes it).
func withCheckDigits(cc, bban string) string {
	var digits strings.Builder
	for _, c := range bban + cc + "00" {
		if c >= 'A' && c <= 'Z' {
			digits.WriteString(strconv.Itoa(int(c-'A') + 10))
		} else {
			digits.WriteRune(c)
		}
	}
	r := 0
	for _, c := range digits.String() {
		r = (r*10 + int(c-'0')) % 97
	}
	check := 98 - r
	return cc + string(rune('0'+check/10)) + string(rune('0'+check%10)) + bban
}

func TestNormalizeIBANValid(t *testing.T) {
	italian := "0306909606100000063611" // ABI 03069, CAB 09606, account 100000063611
	cases := []struct{ name, in, want string }{
		{"italian published example", "IT60X0542811101000000123456", "IT60X0542811101000000123456"},
		{"as printed, lower case", "it60 x054 2811 1010 0000 0123 456", "IT60X0542811101000000123456"},
		{"dashes and a label", "IBAN: IT60-X054-2811-1010-0000-0123-456", "IT60X0542811101000000123456"},
		{"label without colon", "iban IT60X0542811101000000123456", "IT60X0542811101000000123456"},
		{"no-break spaces", "IT60\u00a0X054\u202f2811 1010 0000 0123 456", "IT60X0542811101000000123456"},
		{"arabic-indic digits", "IT٦٠X٠٥٤٢٨١١١٠١٠٠٠٠٠٠١٢٣٤٥٦", "IT60X0542811101000000123456"},
		{"italian built here", withCheckDigits("IT", "L"+italian), withCheckDigits("IT", "L"+italian)},
		{"san marino", "SM86U0322509800000000270100", "SM86U0322509800000000270100"},
		{"germany", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000"},
		{"france", "FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606"},
		{"spain", "ES91 2100 0418 4502 0005 1332", "ES9121000418450200051332"},
		{"romania", "RO49 AAAA 1B31 0075 9384 0000", "RO49AAAA1B31007593840000"},
		{"albania", "AL47 2121 1009 0000 0002 3569 8741", "AL47212110090000000235698741"},
		{"united kingdom", "GB29 NWBK 6016 1331 9268 19", "GB29NWBK60161331926819"},
		{"norway, shortest", "NO93 8601 1117 947", "NO9386011117947"},
		{"malta, longest", "MT84 MALT 0110 0001 2345 MTLC AST0 01S", "MT84MALT011000012345MTLCAST001S"},
		{"switzerland", "CH93 0076 2011 6238 5295 7", "CH9300762011623852957"},
	}
	for _, c := range cases {
		got, msg := NormalizeIBAN(c.in)
		if msg != "" || got != c.want {
			t.Errorf("%s: NormalizeIBAN(%q) = %q, %q; want %q", c.name, c.in, got, msg, c.want)
		}
	}
	// The CIN of the bank's own example is the one the Italian rule computes.
	if italianCIN("0542811101000000123456") != 'X' || italianCIN(italian) != 'L' {
		t.Error("italianCIN disagrees with published IBANs")
	}
}

// ibanWithCheck finds a German IBAN whose computed check digits are check, by varying the account number.
func ibanWithCheck(t *testing.T, check string) string {
	t.Helper()
	for n := 0; n < 100000; n++ {
		iban := withCheckDigits("DE", "37040044"+strings.Repeat("0", 10-len(strconv.Itoa(n)))+strconv.Itoa(n))
		if iban[2:4] == check {
			return iban
		}
	}
	t.Fatalf("no IBAN with check digits %s", check)
	return ""
}

func TestNormalizeIBANInvalid(t *testing.T) {
	valid := "IT60X0542811101000000123456"
	wrongCIN := withCheckDigits("IT", "A0542811101000000123456") // mod 97 right, CIN wrong
	cases := []struct{ name, in, want string }{
		{"empty", "", ErrIBANRequired},
		{"blank", "   ", ErrIBANRequired},
		{"only the label", "IBAN:", ErrIBANRequired},
		{"euro sign", "IT60X054281110100000012345€", ErrIBANChars},
		{"underscore", "IT60_X0542811101000000123456", ErrIBANChars},
		{"colon inside", "IT60:X0542811101000000123456", ErrIBANChars},
		{"accented letter", "ÌT60X0542811101000000123456", ErrIBANChars},
		{"unknown country", "XX60X0542811101000000123456", ErrIBANCountry},
		{"outside SEPA", "UA213223130000026007233566001", ErrIBANCountry},
		{"account number without country", "0542811101000000123456", ErrIBANCountry},
		{"one letter", "I", ErrIBANCountry},
		{"one character short", valid[:26], ErrIBANLength},
		{"one character more", valid + "7", ErrIBANLength},
		{"german length for italy", "IT89370400440532013000", ErrIBANLength},
		{"letter in check digits", "ITA0X0542811101000000123456", ErrIBANFormat},
		{"digit for the CIN", "IT6000542811101000000123456", ErrIBANFormat},
		{"letter in ABI", "IT60X05428A1101000000123456", ErrIBANFormat},
		{"wrong check digits", "IT61X0542811101000000123456", ErrIBANChecksum},
		{"two digits swapped", "IT60X0542811101000000123465", ErrIBANChecksum},
		{"german typo", "DE89370400440532013001", ErrIBANChecksum},
		{"CIN wrong, mod 97 right", wrongCIN, ErrIBANChecksum},
		{"check digits 00 (same remainder as 97)", "DE00" + ibanWithCheck(t, "97")[4:], ErrIBANChecksum},
		{"check digits 01 (same remainder as 98)", "DE01" + ibanWithCheck(t, "98")[4:], ErrIBANChecksum},
		{"check digits 99 (same remainder as 02)", "DE99" + ibanWithCheck(t, "02")[4:], ErrIBANChecksum},
	}
	for _, c := range cases {
		if got, msg := NormalizeIBAN(c.in); msg != c.want {
			t.Errorf("%s: NormalizeIBAN(%q) = %q, %q; want %q", c.name, c.in, got, msg, c.want)
		}
	}
	if ibanMod97(wrongCIN) != 1 {
		t.Fatal("test IBAN with a wrong CIN should pass mod 97")
	}
}

func TestFormatIBAN(t *testing.T) {
	cases := map[string]string{
		"IT60X0542811101000000123456":     "IT60 X054 2811 1010 0000 0123 456",
		"NO9386011117947":                 "NO93 8601 1117 947",
		"DE89370400440532013000":          "DE89 3704 0044 0532 0130 00",
		"DE89 3704 0044 0532 0130 00":     "DE89 3704 0044 0532 0130 00",
		"":                                "",
		"MT84MALT011000012345MTLCAST001S": "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
		" RO49 AAAA1B31007593840000 ":     "RO49 AAAA 1B31 0075 9384 0000",
		"AL47212110090000000235698741":    "AL47 2121 1009 0000 0002 3569 8741",
		"SM86U0322509800000000270100":     "SM86 U032 2509 8000 0000 0270 100",
		"FR1420041010050500013M02606":     "FR14 2004 1010 0505 0001 3M02 606",
		"ES9121000418450200051332":        "ES91 2100 0418 4502 0005 1332",
		"CH9300762011623852957":           "CH93 0076 2011 6238 5295 7",
		"GB29NWBK60161331926819":          "GB29 NWBK 6016 1331 9268 19",
	}
	for in, want := range cases {
		if got := FormatIBAN(in); got != want {
			t.Errorf("FormatIBAN(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzNormalizeIBAN(f *testing.F) {
	for _, s := range []string{"IT60X0542811101000000123456", "it60 x054 2811 1010 0000 0123 456", "IBAN: DE89370400440532013000",
		"SM86U0322509800000000270100", "NO9386011117947", "DE00370400440532013000", "", "IBAN", "I", "ÌT60", "IT٦٠X"} {
		f.Add(s, uint64(370400440532013000), uint8(5), uint8(1))
	}
	f.Fuzz(func(t *testing.T, s string, account uint64, pos, delta uint8) {
		iban, msg := NormalizeIBAN(s)
		if msg == "" {
			if n, ok := ibanLengths[iban[:2]]; !ok || len(iban) != n || ibanMod97(iban) != 1 {
				t.Fatalf("%q accepted as %q", s, iban)
			}
			// Normalizing is idempotent, and the printed form and lower case read back the same.
			for _, again := range []string{iban, FormatIBAN(iban), strings.ToLower(FormatIBAN(iban))} {
				if got, msg := NormalizeIBAN(again); msg != "" || got != iban {
					t.Fatalf("%q (from %q): re-normalized to %q, %q", again, s, got, msg)
				}
			}
		} else if iban != "" {
			t.Fatalf("%q: message %q with value %q", s, msg, iban)
		}
		_ = FormatIBAN(s)

		// Any German account with computed check digits is accepted, and changing any one digit is caught:
		// MOD 97-10 detects every single substitution.
		good := withCheckDigits("DE", fmt.Sprintf("%018d", account%1_000_000_000_000_000_000))
		if got, msg := NormalizeIBAN(FormatIBAN(good)); msg != "" || got != good {
			t.Fatalf("%s refused: %q", good, msg)
		}
		i, d := 2+int(pos)%20, 1+int(delta)%9
		typo := good[:i] + string(rune('0'+(int(good[i]-'0')+d)%10)) + good[i+1:]
		if _, msg := NormalizeIBAN(typo); msg != ErrIBANChecksum {
			t.Fatalf("%s (typo of %s) gave %q", typo, good, msg)
		}
	})
}
