package notifications

import (
	"context"
	"errors"
	"strings"
)

// Delivery is one rendered message on its way through one channel.
type Delivery struct {
	ID      int64  // the notifications row: a reference for providers, never shown to anyone
	Kind    string // for logs
	To      string // e-mail address or phone number
	Lang    string
	Content Content
	// Attachments go with e-mails only (an appointment's .ics); Deps.Attachments makes them when sending.
	Attachments []Attachment
}

// Attachment is a file attached to an e-mail.
type Attachment struct {
	Name        string // e.g. "appuntamento.ics"
	ContentType string // e.g. "text/calendar; charset=utf-8; method=PUBLISH"
	Data        []byte
}

// Sender delivers through one channel: SMTP, the SMS provider, or the log when none is configured. The inbox
// needs none: its rows are written in the outbox transaction, and the commit is the delivery.
type Sender interface {
	Send(ctx context.Context, d Delivery) error
}

// SendError is a failed delivery, reduced to a class that is safe to store and log: servers' own words often
// quote the address they refused. Permanent errors (an address rejected, a request the provider will never
// accept) are not retried.
type SendError struct {
	Class     string // e.g. smtp_connect, smtp_rejected, sms_http_503
	Permanent bool
	Err       error // the cause, for tests and debugging; never stored
}

func (e *SendError) Error() string { return e.Class }
func (e *SendError) Unwrap() error { return e.Err }

// errorClass reduces any error to a storable class.
func errorClass(err error) (class string, permanent bool) {
	var se *SendError
	switch {
	case errors.As(err, &se):
		return se.Class, se.Permanent
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout", false
	case errors.Is(err, context.Canceled):
		return "canceled", false
	default:
		return "error", false
	}
}

// maskPhone keeps the last three digits: enough to tell two numbers apart in a log, not to call anyone.
func maskPhone(p string) string {
	digits := 0
	for _, r := range p {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	var b strings.Builder
	seen := 0
	for _, r := range p {
		if r < '0' || r > '9' {
			continue
		}
		seen++
		if seen > digits-3 {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// maskEmail keeps the first character and the domain: m***@example.it.
func maskEmail(a string) string {
	local, domain, ok := strings.Cut(a, "@")
	if !ok || local == "" {
		return "***"
	}
	return string([]rune(local)[:1]) + "***@" + domain
}

// emailDomain is the part of an address a log may keep.
func emailDomain(a string) string {
	if _, d, ok := strings.Cut(a, "@"); ok {
		return d
	}
	return "?"
}
