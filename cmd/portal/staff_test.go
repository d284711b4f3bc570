package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal"
	"github.com/comunitasocialecremasca/smartservices/portal/config"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// `portal staff create` makes an account whose printed one-time password signs in: enrolment of the app, then a
// password of the person's own.
func TestStaffCreateMakesAnAccountThatSignsIn(t *testing.T) {
	s := testenv.Shared(t)
	rdb, prefix := s.RedisClient(t)
	vars := map[string]string{"DATABASE_URL": s.DatabaseURL(t), "REDIS_URL": s.Redis.URL(), "REDIS_PREFIX": prefix,
		"SESSION_SECRET": strings.Repeat("k", 32)}
	var env []string
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	cmd, out := portalProcess(t, "staff create -username prima.admin -name Amministratrice -role operatore -scope crema,soncino", env...)
	var seen []string
	m := waitLine(t, out, regexp.MustCompile(`one-time password: ([A-Z2-7]{26})$`), &seen)
	drain(out, &seen)
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, strings.Join(seen, "\n"))
	}

	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(context.Background(), cfg.DatabaseURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.StaffUserByUsername(context.Background(), "prima.admin")
	if err != nil || u.Role != "operatore" || strings.Join(u.Scopes, ",") != "crema,soncino" || !u.MustChangePassword {
		t.Fatalf("account %+v (%v)", u, err)
	}

	c := newWebClient(t, cfg, db, rdb)
	resp, _ := c.post("/backoffice/accesso", url.Values{"username": {"prima.admin"}, "password": {m[1]}})
	if loc := resp.Header.Get("Location"); loc != "/backoffice/accesso/attivazione" {
		t.Fatalf("after the password: %d %s", resp.StatusCode, loc)
	}
	_, body := c.get("/backoffice/accesso/attivazione")
	sm := regexp.MustCompile(`id="totp-secret" dir="ltr">([A-Z2-7 ]+)<`).FindStringSubmatch(body)
	if sm == nil {
		t.Fatal("no secret on the enrolment page")
	}
	code, _ := totp.GenerateCodeCustom(strings.ReplaceAll(sm[1], " ", ""), time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	resp, _ = c.post("/backoffice/accesso/attivazione", url.Values{"code": {code}})
	if loc := resp.Header.Get("Location"); loc != "/backoffice/codici-recupero" {
		t.Fatalf("after the code: %d %s", resp.StatusCode, loc)
	}
	resp, _ = c.get("/backoffice")
	if loc := resp.Header.Get("Location"); loc != "/backoffice/password" {
		t.Fatalf("a one-time password must be changed first: %d %s", resp.StatusCode, loc)
	}
}

func TestStaffCreateRefusesBadArguments(t *testing.T) {
	s := testenv.Shared(t)
	vars := map[string]string{"DATABASE_URL": s.DatabaseURL(t), "REDIS_URL": s.Redis.URL(), "SESSION_SECRET": strings.Repeat("k", 32)}
	run := func(args string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		err := runStaff(context.Background(), strings.Fields(args), func(k string) string { return vars[k] }, &stdout, &stderr)
		if err == nil {
			t.Fatalf("%q accepted:\n%s", args, stdout.String())
		}
		return err.Error()
	}
	for args, want := range map[string]string{
		"": "missing subcommand",
		"create -username x -name X -role operatore":                   "-username must be",
		"create -username ab.cd -role root":                            "-role must be one of",
		"create -username ab.cd -name X -role operatore":               "-scope is required",
		"create -username ab.cd -name X -role admin -scope crema":      "-scope is only for an operatore",
		"create -username ab.cd -name X -role operatore -scope milano": "unknown sub-ambito",
		"create -username admin -name X -role admin":                   `username "admin" is taken`,
	} {
		if got := run(args); !strings.Contains(got, want) {
			t.Errorf("%q: %s, want %q", args, got, want)
		}
	}
}

// webClient drives a portal in-process with a cookie jar.
type webClient struct {
	t   *testing.T
	app interface {
		Test(*http.Request, ...int) (*http.Response, error)
	}
	jar *cookiejar.Jar
}

func newWebClient(t *testing.T, cfg *config.Config, db *storage.DB, rdb redis.UniversalClient) *webClient {
	t.Helper()
	bundle, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := portal.New(portal.Deps{Config: cfg, DB: db, Redis: rdb, I18n: bundle, Log: testenv.Logger(t), Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	return &webClient{t: t, app: srv.App(), jar: jar}
}

func (c *webClient) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	for _, ck := range c.jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	resp, err := c.app.Test(req, 30_000)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	c.jar.SetCookies(req.URL, resp.Cookies())
	return resp, string(b)
}

func (c *webClient) get(path string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", "http://127.0.0.1:8080"+path, nil)
	return c.do(req)
}

func (c *webClient) post(path string, form url.Values) (*http.Response, string) {
	req, _ := http.NewRequest("POST", "http://127.0.0.1:8080"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}
