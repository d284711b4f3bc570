// Package testenv gives integration tests the real servers they run against: one PostgreSQL and one Redis per
// test package, a fresh database per test (cloned from a migrated, seeded template) and a Redis key prefix per
// test, so tests own their data and can run in parallel. Tests that stop a server start their own with Own.
package testenv

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"os"
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
	if err := exec(ctx, pg.URL("postgres"), "CREATE DATABASE "+templateDB); err != nil {
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

func exec(ctx context.Context, url, sql string) error {
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
	err := exec(ctx, s.PG.URL("postgres"), "CREATE DATABASE "+name+" TEMPLATE "+templateDB)
	shared.mu.Unlock()
	if err != nil {
		t.Fatalf("testenv: create database: %v", err)
	}
	t.Cleanup(func() {
		exec(context.Background(), s.PG.URL("postgres"), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") //nolint:errcheck
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
