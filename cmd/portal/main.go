// Command portal is the CSC Smart Services portal: one binary with subcommands.
//
//	portal serve     serve the web portal (configuration from the environment; see README)
//	portal migrate   apply database migrations
//	portal seed      load the demo data (idempotent)
//	portal dev       what `make run` does: provision local PostgreSQL and Redis, migrate, seed, serve
//	portal worker    deliver notifications (e-mail, SMS) from the outbox, with retries
//	portal config    check the configuration and print the variables it reads
//	portal staff     create a back-office account (prints a one-time password)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // Europe/Rome must resolve on machines without system time zone data

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal"
	"github.com/comunitasocialecremasca/smartservices/portal/auth"
	"github.com/comunitasocialecremasca/smartservices/portal/config"
	"github.com/comunitasocialecremasca/smartservices/portal/documents"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

const usage = `usage: portal <command>

commands:
  serve     serve the web portal
  migrate   apply database migrations
  seed      load the demo data (idempotent)
  dev       provision local PostgreSQL and Redis under .data/, migrate, seed and serve (make run)
  worker    deliver notifications (e-mail, SMS) with retries
  config    check the configuration from the environment
  staff     create a back-office account: staff create -username … -name … -role … [-scope crema,soncino]
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(ctx, os.Getenv, serveOptions{})
	case "migrate":
		err = withDB(ctx, func(cfg *config.Config, db *storage.DB) error {
			n, err := db.Migrate(ctx)
			fmt.Printf("%d migrations applied\n", n)
			return err
		})
	case "seed":
		err = withDB(ctx, func(cfg *config.Config, db *storage.DB) error {
			creds, err := db.Seed(ctx, time.Now().In(i18n.Rome), auth.HashPassword)
			printCredentials(os.Stdout, creds)
			return err
		})
	case "dev":
		err = dev(ctx)
	case "worker":
		err = runWorker(ctx)
	case "staff":
		err = staffCommand(ctx, os.Args[2:])
	case "config":
		var cfg *config.Config
		if cfg, err = config.Load(nil); err == nil {
			fmt.Printf("configuration is valid; portal listens on %s, public address %s\n", cfg.ListenAddr, cfg.BaseURL)
		}
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "portal: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "portal:", err)
		os.Exit(1)
	}
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[cfg.LogLevel]
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// openRedis builds a UniversalClient: one server from REDIS_URL, or Sentinel (REDIS_MASTER_NAME) or Cluster from
// REDIS_ADDRS.
func openRedis(cfg *config.Config) (redis.UniversalClient, error) {
	if cfg.RedisURL != "" {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		return redis.NewClient(opt), nil
	}
	return redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs: cfg.RedisAddrs, MasterName: cfg.RedisMasterName, Password: cfg.RedisPassword,
	}), nil
}

func withDB(ctx context.Context, f func(*config.Config, *storage.DB) error) error {
	cfg, err := config.Load(nil)
	if err != nil {
		return err
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return err
	}
	defer db.Close()
	return f(cfg, db)
}

// serveOptions are what `portal dev` adds to a plain `portal serve`.
type serveOptions struct {
	ready       func(addr string) // told the listening address once the portal accepts connections
	worker      bool              // run the notification worker in this process too
	consoleMail io.Writer         // with worker and no SMTP_URL: print e-mails here (make run only)
}

// serve runs the portal until ctx ends (SIGINT/SIGTERM), then drains.
func serve(ctx context.Context, getenv func(string) string, opt serveOptions) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, os.Stderr)
	db, err := storage.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return err
	}
	defer db.Close()
	rdb, err := openRedis(cfg)
	if err != nil {
		return err
	}
	defer rdb.Close()
	bundle, err := i18n.New()
	if err != nil {
		return err
	}
	outbox, err := newOutbox(cfg, db.Pool, log)
	if err != nil {
		return err
	}
	if opt.worker {
		stop, err := startWorker(ctx, cfg, db.Pool, log, opt.consoleMail)
		if err != nil {
			return err
		}
		defer stop()
	}
	store, err := documents.Open(ctx, cfg.Documents, cfg.SessionSecret)
	if err != nil {
		return err
	}
	srv, err := portal.New(portal.Deps{Config: cfg, DB: db, Redis: rdb, I18n: bundle, Log: log,
		Registry: prometheus.NewRegistry(), Outbox: outbox, Documents: store,
		Scanner: documents.NewScanner(cfg.Documents.ClamdAddress)})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("portal listening", "addr", ln.Addr().String(), "public", cfg.BaseURL.String())
	if opt.ready != nil {
		opt.ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownDrain+cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx, cfg.ShutdownDrain); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

func printCredentials(w io.Writer, creds []storage.StaffCredential) {
	for _, c := range creds {
		fmt.Fprintf(w, "  %-16s %-13s password: %s\n", c.Username, c.Role, c.Password)
	}
}
