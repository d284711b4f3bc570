package forms

import (
	"strings"
	"unicode"
)

// Message IDs of IBAN errors.
const (
	ErrIBANRequired = "form.error.iban_required"
	ErrIBANChars    = "form.error.iban_chars"    // something other than letters and digits
	ErrIBANCountry  = "form.error.iban_country"  // does not start with the code of a SEPA country
	ErrIBANLength   = "form.error.iban_length"   // too long or too short for its country
	ErrIBANFormat   = "form.error.iban_format"   // letters and digits in the wrong places
	ErrIBANChecksum = "form.error.iban_checksum" // check digits (or the Italian CIN) do not match: a typo
)

// ibanLengths is the IBAN length of each country whose accounts CSC can pay by SEPA credit transfer: the SEPA
// scheme's countries (EU, EEA, CH, GB, the microstates, and since 2024–2026 AL, MD, ME, MK, RS), as in the ISO 13616
// registry. Overseas territories that belong to SEPA (French DOM, Azores, Canaries, Åland, …) use their parent
// country's code. Countries outside SEPA are refused on purpose: CSC pays contributions by SEPA transfer only.
var ibanLengths = map[string]int{
	"AD": 24, "AL": 28, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
	"EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22,
	"IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
	"MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "RS": 22, "SE": 24, "SI": 19, "SK": 24,
	"SM": 27, "VA": 22,
}

// NormalizeIBAN validates a bank account number as residents copy it from a card, a statement or a home-banking
// page: spaces, dashes and dots are dropped, letters are upper-cased and a leading "IBAN" or "IBAN:" is ignored.
// It returns the IBAN in its electronic form (no spaces), or a message ID (one of the ErrIBAN… constants). Italian
// and San Marino IBANs must also have the national shape (CIN letter, ABI, CAB, account) and a matching CIN.
func NormalizeIBAN(s string) (string, string) {
	s = strings.TrimSpace(foldDigits(s))
	if len(s) >= 4 && strings.EqualFold(s[:4], "IBAN") { // no country code starts with IB
		s = strings.TrimLeftFunc(s[4:], func(r rune) bool { return r == ':' || isSpace(r) })
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		case r == '-' || r == '.' || isSpace(r):
		default:
			return "", ErrIBANChars
		}
	}
	iban := b.String()
	if iban == "" {
		return "", ErrIBANRequired
	}
	if len(iban) < 2 {
		return "", ErrIBANCountry
	}
	want, ok := ibanLengths[iban[:2]]
	if !ok {
		return "", ErrIBANCountry
	}
	if len(iban) != want {
		return "", ErrIBANLength
	}
	if !isDigit(iban[2]) || !isDigit(iban[3]) {
		return "", ErrIBANFormat
	}
	if cc := iban[:2]; cc == "IT" || cc == "SM" {
		// CIN (1 letter) + ABI (5 digits) + CAB (5 digits) + account number (12 letters or digits).
		if iban[4] < 'A' || iban[4] > 'Z' || !allDigits(iban[5:15]) {
			return "", ErrIBANFormat
		}
	}
	// ISO 13616: check digits run from 02 to 98; 00, 01 and 99 are never issued.
	if check := int(iban[2]-'0')*10 + int(iban[3]-'0'); check < 2 || check > 98 || ibanMod97(iban) != 1 {
		return "", ErrIBANChecksum
	}
	if cc := iban[:2]; (cc == "IT" || cc == "SM") && italianCIN(iban[5:]) != iban[4] {
		return "", ErrIBANChecksum
	}
	return iban, ""
}

// FormatIBAN writes an IBAN in the printed form, groups of four characters separated by spaces, as on bank cards
// and statements: "IT60 X054 2811 1010 0000 0123 456". Spaces already in s are dropped first.
func FormatIBAN(s string) string {
	s = strings.Join(strings.Fields(s), "")
	var b strings.Builder
	for i, r := range []rune(s) {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ibanMod97 is ISO 7064 MOD 97-10 over the IBAN with its first four characters moved to the end and letters
// replaced by 10…35, computed digit by digit so no big numbers are needed. s holds only A-Z and 0-9.
func ibanMod97(s string) int {
	r := 0
	for _, c := range []byte(s[4:] + s[:4]) {
		if c >= 'A' {
			v := int(c-'A') + 10
			r = (r*100 + v) % 97
		} else {
			r = (r*10 + int(c-'0')) % 97
		}
	}
	return r
}

// italianCIN is the control letter of an Italian BBAN (ABI + CAB + account, 22 characters): the same weighting as
// the fiscal code's check character, over 22 characters instead of 15.
func italianCIN(bban string) byte {
	sum := 0
	for i := 0; i < len(bban); i++ {
		c := bban[i]
		idx := int(c - '0')
		if c >= 'A' {
			idx = int(c-'A') + 10
		}
		if i%2 == 0 {
			sum += oddValues[idx]
		} else if c >= 'A' {
			sum += int(c - 'A')
		} else {
			sum += int(c - '0')
		}
	}
	return byte('A' + sum%26)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// isSpace reports white space as phones and copy-paste produce it, no-break and narrow no-break spaces included.
func isSpace(r rune) bool { return unicode.IsSpace(r) }
