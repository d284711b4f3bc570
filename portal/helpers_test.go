package portal_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/notifications"
	"github.com/comunitasocialecremasca/smartservices/portal"
	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
	"github.com/comunitasocialecremasca/smartservices/portal/config"
	"github.com/comunitasocialecremasca/smartservices/portal/documents"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

var chromium browsertest.Shared

func TestMain(m *testing.M) {
	code := testenv.Main(m)
	chromium.Close()
	os.Exit(code)
}

var bundle = func() *i18n.Bundle {
	b, err := i18n.New()
	if err != nil {
		panic(err)
	}
	return b
}()

// env is one portal under test with the servers and data it uses.
type env struct {
	srv     *portal.Server
	servers testenv.Servers
	db      *storage.DB
	prefix  string
	mail    *testenv.SMTPSink // with withMail: the real SMTP server the notification worker delivers to
}

type option func(vars map[string]string, d *portal.Deps)

func withVar(k, v string) option { return func(m map[string]string, _ *portal.Deps) { m[k] = v } }

func withNow(f func() time.Time) option {
	return func(_ map[string]string, d *portal.Deps) { d.Now = f }
}

// withMail runs the notification worker for the test, delivering e-mail to a real SMTP server of its own.
func withMail() option { return withVar(mailFlag, "on") }

const mailFlag = "TEST_MAIL"

// newEnv builds a portal on the package's shared servers with a database and Redis prefix of the test's own.
func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	return newEnvOn(t, testenv.Shared(t), opts...)
}

func newEnvOn(t *testing.T, servers testenv.Servers, opts ...option) *env {
	t.Helper()
	rdb, prefix := servers.RedisClient(t)
	vars := map[string]string{
		"DATABASE_URL":   servers.DatabaseURL(t),
		"REDIS_URL":      servers.Redis.URL(),
		"REDIS_PREFIX":   prefix,
		"SESSION_SECRET": "test-secret-test-secret-test-secret-0123",
		"DOCUMENTS_DIR":  filepath.Join(t.TempDir(), "documents"),
	}
	d := portal.Deps{Redis: rdb, I18n: bundle, Log: testenv.Logger(t), Registry: prometheus.NewRegistry()}
	for _, o := range opts {
		o(vars, &d)
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(t.Context(), cfg.DatabaseURL, 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	d.Config, d.DB = cfg, db
	if d.Documents == nil {
		if d.Documents, err = documents.Open(t.Context(), cfg.Documents, cfg.SessionSecret); err != nil {
			t.Fatal(err)
		}
	}
	if d.Outbox, err = notifications.NewOutbox(db.Pool, 3, d.Log); err != nil {
		t.Fatal(err)
	}
	e := &env{servers: servers, db: db, prefix: prefix}
	if vars[mailFlag] != "" {
		e.mail = testenv.StartSMTPSink(t, "127.0.0.1:0", "", "")
		svc, err := notifications.NewService(notifications.Deps{Pool: db.Pool, I18n: bundle, Log: d.Log,
			Config:      notifications.Config{BaseURL: cfg.BaseURL, SMTPURL: e.mail.URL(), SMTPFrom: cfg.Notify.SMTPFrom, MaxAttempts: 3},
			Attachments: portal.AppointmentAttachments(db, bundle, cfg.BaseURL)})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			svc.Stop(ctx) //nolint:errcheck
		})
	}
	if e.srv, err = portal.New(d); err != nil {
		t.Fatal(err)
	}
	return e
}

// listen serves the portal on a real loopback socket (for what app.Test cannot show: transport limits, draining)
// and returns its base URL; the server stops at cleanup.
func (e *env) listen(t *testing.T) string {
	t.Helper()
	return e.listenAt(t, "127.0.0.1:0")
}

// listenAt is listen on a chosen address (when BASE_URL must match it, as for OpenID Connect redirects).
func (e *env) listenAt(t *testing.T, addr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.srv.Shutdown(ctx, 0) //nolint:errcheck // may be shut down by the test already
		<-done
	})
	return "http://" + ln.Addr().String()
}

// client drives a portal through app.Test like a browser: it keeps cookies and can follow redirects by hand.
type client struct {
	t       *testing.T
	srv     *portal.Server
	jar     *cookiejar.Jar
	headers map[string]string
}

func (e *env) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, srv: e.srv, jar: jar, headers: map[string]string{}}
}

var base, _ = url.Parse("http://127.0.0.1:8080/")

// do sends a request and returns the response with its body read.
func (c *client) do(method, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, "http://127.0.0.1:8080"+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	for _, ck := range c.jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	return c.send(req)
}

func (c *client) send(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.srv.App().Test(req, 30_000)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	c.jar.SetCookies(base, resp.Cookies())
	return resp, string(b)
}

func (c *client) get(path string) (*http.Response, string) { return c.do("GET", path, nil) }

func (c *client) cookie(name string) string {
	for _, ck := range c.jar.Cookies(base) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func wantStatus(t *testing.T, resp *http.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want)
	}
}

func wantContains(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}
