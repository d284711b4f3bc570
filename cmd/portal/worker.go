package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/notifications"
	"github.com/comunitasocialecremasca/smartservices/portal"
	"github.com/comunitasocialecremasca/smartservices/portal/config"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// runWorker is `portal worker`: it delivers notifications (e-mail, SMS) until ctx ends (SIGINT/SIGTERM), then
// lets deliveries in flight finish. Run one or more next to `portal serve`; River shares the work between them.
func runWorker(ctx context.Context) error {
	return withDB(ctx, func(cfg *config.Config, db *storage.DB) error {
		stop, err := startWorker(ctx, cfg, db.Pool, newLogger(cfg, os.Stderr), nil)
		if err != nil {
			return err
		}
		<-ctx.Done()
		stop()
		return nil
	})
}

// startWorker runs the notification worker inside this process, e.g. next to the web server in `make run`.
// stop waits up to 10 seconds for deliveries in flight. The worker outlives ctx's cancellation until stop is
// called, so a Ctrl-C does not cut a delivery in half.
func startWorker(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool, log *slog.Logger, consoleMail io.Writer) (stop func(), err error) {
	bundle, err := i18n.New()
	if err != nil {
		return nil, err
	}
	nc := notifyConfig(cfg)
	nc.ConsoleMail = consoleMail
	svc, err := notifications.NewService(notifications.Deps{Pool: pool, Config: nc, I18n: bundle, Log: log,
		Attachments: portal.AppointmentAttachments(&storage.DB{Pool: pool}, bundle, cfg.BaseURL)})
	if err != nil {
		return nil, err
	}
	if err := svc.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, err
	}
	log.Info("notification worker running", "email", channelMode(cfg.Notify.SMTPURL != ""), "sms", channelMode(cfg.Notify.SMSURL != ""))
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := svc.Stop(sctx); err != nil {
			log.Warn("notification worker stop", "err", err)
		}
	}, nil
}

// newOutbox is the outbox the web server passes in portal.Deps.Outbox: it records messages in the handler's
// transaction; a worker delivers them.
func newOutbox(cfg *config.Config, pool *pgxpool.Pool, log *slog.Logger) (notifications.Outbox, error) {
	ob, err := notifications.NewOutbox(pool, cfg.Notify.MaxAttempts, log)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return ob, nil
}

func notifyConfig(cfg *config.Config) notifications.Config {
	return notifications.Config{
		BaseURL:     cfg.BaseURL,
		SMTPURL:     cfg.Notify.SMTPURL,
		SMTPFrom:    cfg.Notify.SMTPFrom,
		SMSURL:      cfg.Notify.SMSURL,
		SMSToken:    cfg.Notify.SMSToken,
		MaxAttempts: cfg.Notify.MaxAttempts,
	}
}

func channelMode(configured bool) string {
	if configured {
		return "sent"
	}
	return "logged"
}
