// Package testenv gives integration tests the real servers they run against: one PostgreSQL and one Redis per
// test package, a fresh database per test (cloned from a migrated, seeded template) and a Redis key prefix per
// test, so tests own their data and can run in parallel. Tests that stop a server start their own with Own.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/auth"
	"github.com/comunitasocialecremasca/smartservices/portal/devstack"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

const templateDB = "portal_template"

// SeedTime is the "now" the template database is seeded with; tests that depend on call windows use it.
var SeedTime = time.Date(2026, 11, 20, 10, 0, 0, 0, i18n.Rome)

var shared struct {
	pg    *devstack.Postgres
	redis *devstack.Redis
	mu    sync.Mutex // CREATE DATABASE ... TEMPLATE needs the template unused: one clone at a time
}

// Main starts the package's servers, runs the tests and stops the servers. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
func Main(m *testing.M) int {
	redis.SetLogger(quietRedis{}) // outage tests make go-redis log every failed dial
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "portal-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	pg, rd, err := start(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	shared.pg, shared.redis = pg, rd
	code := m.Run()
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer stopCancel()
	pg.Stop(stopCtx) //nolint:errcheck // the temp dir goes anyway
	rd.Stop(stopCtx) //nolint:errcheck
	return code
}

func start(ctx context.Context, dir string) (*devstack.Postgres, *devstack.Redis, error) {
	// Temporary directories are private (0700); the unprivileged PostgreSQL user must be able to enter this one.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, nil, err
	}
	pg, err := devstack.StartPostgres(ctx, devstack.PostgresOptions{DataDir: dir + "/pg", Fast: true, Log: io.Discard})
	if err != nil {
		return nil, nil, err
	}
	rd, err := devstack.StartRedis(ctx, devstack.RedisOptions{DataDir: dir + "/redis", Log: io.Discard})
	if err != nil {
		pg.Stop(ctx) //nolint:errcheck
		return nil, nil, err
	}
	if err := prepareTemplate(ctx, pg); err != nil {
		pg.Stop(ctx) //nolint:errcheck
		rd.Stop(ctx) //nolint:errcheck
		return nil, nil, err
	}
	return pg, rd, nil
}

// prepareTemplate creates the migrated, seeded database every test database is cloned from.
func prepareTemplate(ctx context.Context, pg *devstack.Postgres) error {
	if err := execSQL(ctx, pg.URL("postgres"), "CREATE DATABASE "+templateDB); err != nil {
		return err
	}
	db, err := storage.Open(ctx, pg.URL(templateDB), 2)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	_, err = db.Seed(ctx, SeedTime, auth.HashPassword)
	return err
}

func execSQL(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// Servers are a PostgreSQL and a Redis server.
type Servers struct {
	PG    *devstack.Postgres
	Redis *devstack.Redis
}

// Shared returns the package's servers.
func Shared(t testing.TB) Servers {
	t.Helper()
	if shared.pg == nil {
		t.Fatal("testenv: servers not started: call testenv.Main from TestMain")
	}
	return Servers{PG: shared.pg, Redis: shared.redis}
}

// Own starts servers for this test alone, for tests that stop and restart them; stopped at cleanup.
func Own(t testing.TB) Servers {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "portal-own-") // not t.TempDir: its parent is private to root
	if err != nil {
		t.Fatal(err)
	}
	pg, rd, err := start(ctx, dir)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer os.RemoveAll(dir)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pg.Stop(ctx) //nolint:errcheck
		rd.Stop(ctx) //nolint:errcheck
	})
	return Servers{PG: pg, Redis: rd}
}

// DatabaseURL creates a database for this test, a copy of the seeded template, dropped at cleanup.
func (s Servers) DatabaseURL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	name := "t_" + strings.ToLower(rand.Text()[:16])
	shared.mu.Lock()
	err := execSQL(ctx, s.PG.URL("postgres"), "CREATE DATABASE "+name+" TEMPLATE "+templateDB)
	shared.mu.Unlock()
	if err != nil {
		t.Fatalf("testenv: create database: %v", err)
	}
	t.Cleanup(func() {
		execSQL(context.Background(), s.PG.URL("postgres"), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") //nolint:errcheck
	})
	return s.PG.URL(name)
}

// DB opens a pool on a fresh database for this test.
func (s Servers) DB(t testing.TB) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), s.DatabaseURL(t), 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// RedisClient returns a client and a key prefix of this test's own.
func (s Servers) RedisClient(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	opt, err := redis.ParseURL(s.Redis.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c, "test:" + strings.ToLower(rand.Text()[:12]) + ":"
}

// Logger writes the portal's log lines through t.Log, so a failing test shows them.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// WaitFor polls cond until it returns nil or the timeout passes; tests wait for conditions, never for luck.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	delay := 10 * time.Millisecond
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s: %v", timeout, what, err)
		}
		time.Sleep(delay)
		if delay < 200*time.Millisecond {
			delay *= 2
		}
	}
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// OIDCClient is a relying party registered at the test OpenID provider.
type OIDCClient struct {
	ID          string   `json:"client_id"`
	Secret      string   `json:"client_secret"`
	RedirectURI []string `json:"redirect_uris"`
}

// StartOIDCProvider starts a real OpenID provider (the oidc-provider library, .ci/oidc/provider.mjs) on a
// loopback port for this test, with the given clients, and returns its issuer URL once discovery answers.
func StartOIDCProvider(t testing.TB, clients ...OIDCClient) string {
	t.Helper()
	script, err := findUp(".ci/oidc/provider.mjs")
	if err != nil {
		t.Fatalf("testenv: %v (run make test, which installs the test tools)", err)
	}
	port, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cj, _ := json.Marshal(clients)
	cmd := exec.Command("node", script)
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port), "CLIENTS="+string(cj))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: start OpenID provider: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() }) //nolint:errcheck
	issuer := fmt.Sprintf("http://127.0.0.1:%d", port)
	WaitFor(t, 30*time.Second, "OpenID provider discovery", func() error {
		resp, err := http.Get(issuer + "/.well-known/openid-configuration")
		if err != nil {
			if cmd.ProcessState != nil {
				return fmt.Errorf("provider exited: %s", out.String())
			}
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("discovery: %d", resp.StatusCode)
		}
		return nil
	})
	return issuer
}

// findUp looks for rel in the working directory and its parents (tests run in their package's folder).
func findUp(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not found above the working directory", rel)
		}
		dir = parent
	}
}

// IdPLogin plays the resident at the test OpenID provider without a browser: it follows the authorization URL,
// signs in as login (a fiscal code) at the given SPID level, and returns the URL the provider redirects back to
// (the relying party's callback with code and state), without requesting it.
func IdPLogin(t testing.TB, authURL, login, level string) *url.URL {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	issuer, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	next, _ := url.Parse(authURL)
	for range 10 {
		if next.Host != issuer.Host {
			return next // back to the relying party
		}
		resp, err := client.Get(next.String())
		if err != nil {
			t.Fatalf("idp: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && strings.Contains(string(body), `name="login"`) {
			resp, err = client.PostForm(next.String(), url.Values{"login": {login}, "level": {level}})
			if err != nil {
				t.Fatalf("idp login: %v", err)
			}
			resp.Body.Close()
		}
		loc := resp.Header.Get("Location")
		if loc == "" {
			t.Fatalf("idp: no redirect from %s (status %d): %s", next, resp.StatusCode, body)
		}
		if next, err = next.Parse(loc); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("idp: too many redirects")
	return nil
}
