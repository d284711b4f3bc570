package forms

import (
	"net/mail"
	"strings"
)

// Message IDs of contact field errors.
const (
	ErrEmailRequired = "form.error.email_required"
	ErrEmailInvalid  = "form.error.email_invalid"
	ErrPhoneInvalid  = "form.error.phone_invalid"
)

// NormalizeEmail validates an e-mail address as residents type it and returns it trimmed and lower-cased, or a
// message ID. It accepts only a bare address (no display name) with a dotted domain.
func NormalizeEmail(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ErrEmailRequired
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || len(s) > 254 {
		return "", ErrEmailInvalid
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if at < 1 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.ContainsAny(s, " ()<>[]\\,;:\"") {
		return "", ErrEmailInvalid
	}
	return strings.ToLower(s), ""
}

// NormalizePhone accepts a phone number with spaces, dots, dashes or brackets and an optional leading + or 00,
// and returns it as + and digits (Italian numbers without a prefix get +39), or a message ID. Empty is allowed.
func NormalizePhone(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ""
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
		case strings.ContainsRune(" .-/()", r):
		default:
			return "", ErrPhoneInvalid
		}
	}
	digits := b.String()
	switch {
	case strings.HasPrefix(s, "+"):
	case strings.HasPrefix(digits, "00"):
		digits = digits[2:]
	default:
		digits = "39" + digits
	}
	if len(digits) < 8 || len(digits) > 15 {
		return "", ErrPhoneInvalid
	}
	return "+" + digits, ""
}

// CleanName trims a person's name and folds inner runs of white space; it keeps letters of every script.
func CleanName(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
