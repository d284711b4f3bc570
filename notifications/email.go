package notifications

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/wneessen/go-mail"
)

// NewEmailSender returns the e-mail channel for SMTP_URL: smtp://user:pass@host:port (STARTTLS when the server
// offers it; go-mail sends credentials only over TLS or to this machine) or smtps://… (TLS from the start).
// An empty URL gives a sender that only logs the kind and the recipient's domain: `make run` without a mail server.
func NewEmailSender(smtpURL, from string, log *slog.Logger) (Sender, error) {
	if smtpURL == "" {
		return logEmail{log: log}, nil
	}
	u, err := url.Parse(smtpURL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, errors.New("notifications: SMTP_URL must be smtp://… or smtps://…")
	}
	port := 587
	opts := []mail.Option{mail.WithTimeout(15 * time.Second), mail.WithTLSPolicy(mail.TLSOpportunistic)}
	if u.Scheme == "smtps" {
		port = 465
		opts = append(opts, mail.WithSSL())
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, errors.New("notifications: SMTP_URL has a bad port")
		}
	}
	opts = append(opts, mail.WithPort(port))
	if u.User != nil {
		pass, _ := u.User.Password()
		// Auto-discovery picks the best mechanism the server offers, and over a connection without TLS only those
		// that never reveal the password. A relay on this very machine gets PLAIN, which go-mail allows to
		// localhost only.
		auth := mail.SMTPAuthAutoDiscover
		if h := u.Hostname(); h == "localhost" || h == "127.0.0.1" || h == "::1" {
			auth = mail.SMTPAuthPlain
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(u.User.Username()), mail.WithPassword(pass))
	}
	// A client built now checks the options once; each Send dials with a client of its own, so concurrent
	// deliveries share no connection state.
	if _, err := mail.NewClient(u.Hostname(), opts...); err != nil {
		return nil, fmt.Errorf("notifications: SMTP_URL: %w", err)
	}
	return &smtpSender{host: u.Hostname(), opts: opts, from: from}, nil
}

type smtpSender struct {
	host string
	opts []mail.Option
	from string
}

func (s *smtpSender) Send(ctx context.Context, d Delivery) error {
	m := mail.NewMsg()
	if err := m.From(s.from); err != nil {
		return &SendError{Class: "smtp_bad_sender", Err: err}
	}
	if err := m.To(d.To); err != nil {
		return &SendError{Class: "bad_address", Permanent: true, Err: err}
	}
	m.Subject(d.Content.Subject)
	m.SetMessageID()
	m.SetDate()
	m.SetGenHeader(mail.HeaderContentLang, d.Lang)
	m.SetGenHeader("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies, please
	m.SetBodyString(mail.TypeTextPlain, d.Content.Text)
	m.AddAlternativeString(mail.TypeTextHTML, d.Content.HTML)
	for _, a := range d.Attachments {
		if err := m.AttachReader(a.Name, bytes.NewReader(a.Data), mail.WithFileContentType(mail.ContentType(a.ContentType))); err != nil {
			return &SendError{Class: "attachment", Err: err}
		}
	}

	c, err := mail.NewClient(s.host, s.opts...)
	if err != nil {
		return &SendError{Class: "smtp_config", Err: err}
	}
	client, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
			return &SendError{Class: "smtp_connect", Err: err}
		}
		return &SendError{Class: "smtp_handshake", Err: err} // TLS or authentication
	}
	sendErr := c.SendWithSMTPClient(client, m)
	closeErr := c.CloseWithSMTPClient(client)
	if sendErr != nil {
		var me *mail.SendError
		if errors.As(sendErr, &me) {
			permanent := !me.IsTemp() && me.ErrorCode() >= 500 && me.ErrorCode() < 600 && me.Reason == mail.ErrSMTPRcptTo
			if permanent {
				return &SendError{Class: "smtp_recipient_rejected", Permanent: true, Err: sendErr}
			}
			return &SendError{Class: "smtp_" + strconv.Itoa(me.ErrorCode()), Err: sendErr}
		}
		return &SendError{Class: "smtp_send", Err: sendErr}
	}
	_ = closeErr // the message was accepted: a failed QUIT loses nothing
	return nil
}

// logEmail stands in for a mail server in `make run`: it records that an e-mail would go out, never to whom
// exactly nor what it says.
type logEmail struct{ log *slog.Logger }

func (l logEmail) Send(ctx context.Context, d Delivery) error {
	l.log.InfoContext(ctx, "e-mail not sent: SMTP_URL is empty", "kind", d.Kind, "notification", d.ID,
		"recipient_domain", emailDomain(d.To), "lang", d.Lang)
	return nil
}

// consoleEmail prints e-mails in full: `make run` only (see Config.ConsoleMail).
type consoleEmail struct{ w io.Writer }

func (c consoleEmail) Send(_ context.Context, d Delivery) error {
	_, err := fmt.Fprintf(c.w, "\n----- e-mail (make run: not sent, shown here) -----\nTo: %s\nSubject: %s\n\n%s\n---------------------------------------------------\n\n",
		d.To, d.Content.Subject, d.Content.Text)
	return err
}
