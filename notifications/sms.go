package notifications

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"
)

// NewSMSSender returns the SMS channel: each SMS is a JSON POST to the provider's URL,
//
//	{"to": "+393331234567", "text": "…", "reference": "42"}
//
// with "Authorization: Bearer <token>" when a token is set; any 2xx status means accepted. Most Italian SMS
// gateways take this shape or sit behind a small adapter that does. With no URL, SMS are written to the log with
// the number masked: that is what `make run` does. client may be nil.
func NewSMSSender(providerURL, token string, client *http.Client, log *slog.Logger) Sender {
	if providerURL == "" {
		return logSMS{log: log}
	}
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	return &httpSMS{url: providerURL, token: token, client: client}
}

type httpSMS struct {
	url    string
	token  string
	client *http.Client
}

type smsRequest struct {
	To        string `json:"to"`
	Text      string `json:"text"`
	Reference string `json:"reference"`
}

func (s *httpSMS) Send(ctx context.Context, d Delivery) error {
	body, err := json.Marshal(smsRequest{To: d.To, Text: d.Content.SMS, Reference: strconv.FormatInt(d.ID, 10)})
	if err != nil {
		return &SendError{Class: "sms_encode", Permanent: true, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return &SendError{Class: "sms_config", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return &SendError{Class: "sms_timeout", Err: err}
		}
		return &SendError{Class: "sms_connect", Err: err}
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // drained for connection reuse only
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 ||
		resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		// overloaded, down, or a token an administrator can still fix: try again later
		return &SendError{Class: fmt.Sprintf("sms_http_%d", resp.StatusCode)}
	default:
		// the provider refuses this very request (a bad number): retrying cannot help
		return &SendError{Class: fmt.Sprintf("sms_http_%d", resp.StatusCode), Permanent: true}
	}
}

// logSMS stands in for a provider in `make run`: the text is logged (a developer needs the sign-in code), the
// number only masked.
type logSMS struct{ log *slog.Logger }

func (l logSMS) Send(ctx context.Context, d Delivery) error {
	l.log.InfoContext(ctx, "SMS not sent: SMS_URL is empty", "kind", d.Kind, "notification", d.ID,
		"to", maskPhone(d.To), "text", d.Content.SMS)
	return nil
}
