package testenv

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPSink is a real SMTP server (go-smtp) on loopback that keeps what it receives.
type SMTPSink struct {
	srv        *smtp.Server
	addr       string
	user, pass string // when set, AUTH PLAIN is required

	mu    sync.Mutex
	msgs  []Mail
	auths int
}

type Mail struct {
	From string
	To   []string
	Raw  []byte
}

// StartSMTPSink starts an SMTP server on addr ("127.0.0.1:0" for any port); it stops at cleanup.
func StartSMTPSink(t *testing.T, addr, user, pass string) *SMTPSink {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("smtp sink: %v", err)
	}
	s := &SMTPSink{addr: ln.Addr().String(), user: user, pass: pass}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{s: s}, nil }))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true // loopback only
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	go s.srv.Serve(ln) //nolint:errcheck // ends with Close
	t.Cleanup(s.Close)
	return s
}

func (s *SMTPSink) Close() { s.srv.Close() }

// Addr is the host:port the server listens on.
func (s *SMTPSink) Addr() string { return s.addr }

func (s *SMTPSink) URL() string {
	if s.user != "" {
		return "smtp://" + s.user + ":" + s.pass + "@" + s.addr
	}
	return "smtp://" + s.addr
}

func (s *SMTPSink) AuthCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

func (s *SMTPSink) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.msgs...)
}

type smtpSession struct {
	s      *SMTPSink
	authed bool
	from   string
	to     []string
}

func (se *smtpSession) AuthMechanisms() []string {
	if se.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (se *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != se.s.user || pass != se.s.pass {
			return errors.New("bad credentials")
		}
		se.authed = true
		se.s.mu.Lock()
		se.s.auths++
		se.s.mu.Unlock()
		return nil
	}), nil
}

func (se *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.user != "" && !se.authed {
		return smtp.ErrAuthRequired
	}
	se.from = from
	return nil
}

func (se *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "nobody@") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user " + to}
	}
	se.to = append(se.to, to)
	return nil
}

func (se *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	se.s.mu.Lock()
	se.s.msgs = append(se.s.msgs, Mail{From: se.from, To: se.to, Raw: b})
	se.s.mu.Unlock()
	return nil
}

func (se *smtpSession) Reset()        { se.from, se.to = "", nil }
func (se *smtpSession) Logout() error { return nil }

// ParsedMail is a received e-mail, decoded.
type ParsedMail struct {
	Header  netmail.Header
	Subject string
	Text    string
	HTML    string
}

func ParseMail(t *testing.T, raw []byte) ParsedMail {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse mail: %v", err)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject: %v", err)
	}
	p := ParsedMail{Header: m.Header, Subject: subject}
	var walk func(ct string, cte string, body io.Reader)
	walk = func(ct, cte string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Fatalf("content type %q: %v", ct, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				part, err := mr.NextPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part)
			}
		}
		if strings.EqualFold(cte, "base64") {
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		switch mt {
		case "text/plain":
			p.Text = string(b)
		case "text/html":
			p.HTML = string(b)
		}
	}
	walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)
	return p
}
