package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/auth"
	"github.com/comunitasocialecremasca/smartservices/portal/devstack"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// dev is `make run`: it provisions a project-local PostgreSQL and Redis under .data/ (or uses DATABASE_URL and
// REDIS_URL when both are set), migrates, seeds, prints the demo staff accounts and serves until Ctrl-C, then
// stops everything it started. A second run reuses the data.
func dev(ctx context.Context) error {
	env := map[string]string{"LOG_FORMAT": "text", "SHUTDOWN_DRAIN": "0s"}
	dataDir, err := devDataDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	fmt.Printf("data folder: %s\n", dataDir)

	if os.Getenv("DATABASE_URL") == "" || os.Getenv("REDIS_URL") == "" {
		if err := devstack.EnsureInstalled(ctx, os.Stdout); err != nil {
			return err
		}
		logf, err := os.OpenFile(filepath.Join(dataDir, "servers.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer logf.Close()
		pg, err := devstack.StartPostgres(ctx, devstack.PostgresOptions{DataDir: filepath.Join(dataDir, "pg"),
			Port: envInt("DEV_PG_PORT", 54329), Log: logf})
		if err != nil {
			return err
		}
		defer stopQuietly("PostgreSQL", pg.Stop)
		rd, err := devstack.StartRedis(ctx, devstack.RedisOptions{DataDir: filepath.Join(dataDir, "redis"),
			Port: envInt("DEV_REDIS_PORT", 63799), Persist: true, Log: logf})
		if err != nil {
			return err
		}
		defer stopQuietly("Redis", rd.Stop)
		if err := createDatabase(ctx, pg.URL("postgres"), "portal"); err != nil {
			return err
		}
		env["DATABASE_URL"], env["REDIS_URL"] = pg.URL("portal"), rd.URL()
		fmt.Printf("PostgreSQL on 127.0.0.1:%d, Redis on %s (logs in %s)\n", pg.Port(), rd.URL(), logf.Name())
	} else {
		fmt.Println("using DATABASE_URL and REDIS_URL from the environment; starting no servers")
	}
	secret, err := devSecret(filepath.Join(dataDir, "session-secret"))
	if err != nil {
		return err
	}
	env["SESSION_SECRET"] = secret
	// uploaded files stay with the demo data, encrypted with a key derived from the session secret
	env["DOCUMENTS_DIR"] = filepath.Join(dataDir, "documents")
	getenv := func(k string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return env[k]
	}

	db, err := storage.Open(ctx, getenv("DATABASE_URL"), 4)
	if err != nil {
		return err
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return err
	}
	creds, err := db.Seed(ctx, time.Now().In(i18n.Rome), auth.HashPassword)
	db.Close()
	if err != nil {
		return err
	}
	fmt.Printf("%d migrations applied, demo data loaded\n", n)
	credFile := filepath.Join(dataDir, "demo-staff.txt")
	if len(creds) > 0 {
		f, err := os.OpenFile(credFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		printCredentials(f, creds)
		f.Close()
	}
	if b, err := os.ReadFile(credFile); err == nil {
		fmt.Printf("demo staff accounts (back office; also in %s):\n%s", credFile, b)
	}
	return serve(ctx, getenv, serveOptions{worker: true, consoleMail: os.Stdout, ready: func(addr string) {
		fmt.Printf("\nportal ready: http://%s  (Ctrl-C stops the portal and the servers it started)\n", addr)
		fmt.Printf("sign in with any e-mail address: the code is printed here, since make run sends no e-mail\n\n")
	}})
}

// devDataDir is .data in the working directory, unless DEV_DATA_DIR says otherwise. PostgreSQL runs as an
// unprivileged user, who cannot enter /root: there the data goes under /var/lib instead, named after the project.
func devDataDir() (string, error) {
	if d := os.Getenv("DEV_DATA_DIR"); d != "" {
		return filepath.Abs(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	if os.Geteuid() == 0 && (wd == "/root" || strings.HasPrefix(wd, "/root/")) {
		sum := sha256.Sum256([]byte(wd))
		return filepath.Join("/var/lib/csc-portal", hex.EncodeToString(sum[:6])), nil
	}
	return filepath.Join(wd, ".data"), nil
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// devSecret reads the session secret kept in the data folder, creating it on the first run.
func devSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	s := hex.EncodeToString(b)
	return s, os.WriteFile(path, []byte(s+"\n"), 0o600)
}

// createDatabase creates dbname unless it exists.
func createDatabase(ctx context.Context, adminURL, dbname string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", dbname).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{dbname}.Sanitize())
	return err
}

func stopQuietly(name string, stop func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(os.Stderr, "stopping %s: %v\n", name, err)
	}
}
