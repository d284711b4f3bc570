package main

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/comunitasocialecremasca/smartservices/notifications"
	"github.com/comunitasocialecremasca/smartservices/portal/config"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// `portal worker` delivers what the web server's outbox recorded (here to the log: no SMTP_URL, as in make run)
// and stops cleanly on SIGTERM.
func TestWorkerDeliversTheOutbox(t *testing.T) {
	s := testenv.Shared(t)
	dbURL := s.DatabaseURL(t)
	env := []string{"DATABASE_URL=" + dbURL, "REDIS_URL=" + s.Redis.URL(), "SESSION_SECRET=" + strings.Repeat("w", 32),
		"LOG_FORMAT=text", "SMTP_URL=", "SMS_URL="}
	cmd, out := portalProcess(t, "worker", env...)
	var seen []string
	waitLine(t, out, regexp.MustCompile(`notification worker running.*email=logged`), &seen)

	cfg, err := config.Load(func(k string) string {
		return map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": s.Redis.URL(), "SESSION_SECRET": strings.Repeat("w", 32)}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ob, err := newOutbox(cfg, pool, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		return ob.Enqueue(ctx, tx, notifications.Message{Kind: notifications.KindSigninCode,
			To:       notifications.Recipient{Email: "maria.rossi@example.it", Lang: "it"},
			Channels: []notifications.Channel{notifications.Email}, Data: map[string]string{"Code": "135790"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	line := waitLine(t, out, regexp.MustCompile(`e-mail not sent.*`), &seen)[0]
	if !strings.Contains(line, "recipient_domain=example.it") || strings.Contains(line, "maria") || strings.Contains(line, "135790") {
		t.Errorf("log line: %s", line)
	}
	testenv.WaitFor(t, 5*time.Second, "row sent", func() error {
		var st string
		if err := pool.QueryRow(ctx, "SELECT status FROM notifications").Scan(&st); err != nil {
			return err
		}
		if st != "sent" {
			return errors.New(st)
		}
		return nil
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	drain(out, &seen)
	if !cmd.ProcessState.Success() {
		t.Errorf("worker exited with %v:\n%s", cmd.ProcessState, strings.Join(seen, "\n"))
	}
}
