package forms

import (
	"strings"
	"time"
)

// CodiceFiscale is a parsed Italian fiscal code.
type CodiceFiscale struct {
	Code      string    // normalized: upper case, no spaces; omocodia letters kept as issued
	BirthDate time.Time // as encoded; the century is the most recent one not in the future
	Female    bool
	Place     string // Belfiore code of the comune or foreign country of birth, omocodia undone
}

// Message IDs of fiscal code errors.
const (
	ErrCFRequired = "form.error.cf_required"
	ErrCFLength   = "form.error.cf_length"
	ErrCFFormat   = "form.error.cf_format"
	ErrCFChecksum = "form.error.cf_checksum"
	ErrCFDate     = "form.error.cf_date"
)

// omocodia: when two people would get the same code, digits from the right are replaced by these letters.
const omocodiaLetters = "LMNPQRSTUV"

// positions that hold digits, possibly replaced by omocodia letters.
var digitPositions = []int{6, 7, 9, 10, 12, 13, 14}

const monthLetters = "ABCDEHLMPRST"

// oddValues are the check-character weights of characters in odd positions (1st, 3rd, …), for 0-9 then A-Z.
var oddValues = [36]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23} // A-Z

// ParseCodiceFiscale validates a fiscal code: shape, omocodia, a real birth date and the check character. It
// returns a message ID (one of the ErrCF… constants) when the code is not valid. today fixes the century.
func ParseCodiceFiscale(s string, today time.Time) (CodiceFiscale, string) {
	code := strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if code == "" {
		return CodiceFiscale{}, ErrCFRequired
	}
	if len(code) != 16 {
		return CodiceFiscale{}, ErrCFLength
	}
	plain := []byte(code)
	for i := 0; i < 16; i++ {
		c := code[i]
		isDigitPos := contains(digitPositions, i)
		switch {
		case isDigitPos && c >= '0' && c <= '9':
		case isDigitPos && strings.IndexByte(omocodiaLetters, c) >= 0:
			plain[i] = byte('0' + strings.IndexByte(omocodiaLetters, c))
		case !isDigitPos && c >= 'A' && c <= 'Z':
		default:
			return CodiceFiscale{}, ErrCFFormat
		}
	}
	if strings.IndexByte(monthLetters, code[8]) < 0 {
		return CodiceFiscale{}, ErrCFFormat
	}
	if checkChar(code[:15]) != code[15] {
		return CodiceFiscale{}, ErrCFChecksum
	}
	yy := int(plain[6]-'0')*10 + int(plain[7]-'0')
	month := time.Month(strings.IndexByte(monthLetters, code[8]) + 1)
	day := int(plain[9]-'0')*10 + int(plain[10]-'0')
	female := day > 40
	if female {
		day -= 40
	}
	year := today.Year()/100*100 + yy
	birth := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	if day < 1 || birth.Month() != month || birth.Day() != day {
		return CodiceFiscale{}, ErrCFDate
	}
	if birth.After(today) {
		birth = birth.AddDate(-100, 0, 0)
		if birth.Month() != month || birth.Day() != day { // 29 February of a century that had none
			return CodiceFiscale{}, ErrCFDate
		}
	}
	return CodiceFiscale{Code: code, BirthDate: birth, Female: female, Place: string(plain[11:15])}, ""
}

// checkChar computes the control character of the first 15 characters.
func checkChar(s string) byte {
	sum := 0
	for i := 0; i < 15; i++ {
		c := s[i]
		idx := int(c - '0')
		if c >= 'A' {
			idx = int(c-'A') + 10
		}
		if i%2 == 0 { // 1st, 3rd, … (odd in the 1-based numbering of the rule)
			sum += oddValues[idx]
		} else if c >= 'A' {
			sum += int(c - 'A')
		} else {
			sum += int(c - '0')
		}
	}
	return byte('A' + sum%26)
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
