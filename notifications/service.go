package notifications

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/comunitasocialecremasca/smartservices/i18n"
)

// Config is what the notifications read from the portal's configuration (cmd/ copies it from config.Config).
type Config struct {
	BaseURL     *url.URL // BASE_URL: links in messages are absolute on it
	SMTPURL     string   // SMTP_URL; empty: e-mails are logged (kind and domain only)
	SMTPFrom    string   // SMTP_FROM
	SMSURL      string   // SMS_URL; empty: SMS are logged with the number masked
	SMSToken    string   // SMS_TOKEN
	MaxAttempts int      // NOTIFY_MAX_ATTEMPTS
	// ConsoleMail, set only by `portal dev` (make run) and never read from the environment, prints e-mails in
	// full to the terminal when SMTP_URL is empty, so a developer can read a sign-in code on their own machine.
	ConsoleMail io.Writer
}

// NewChannels builds the e-mail and SMS senders from the configuration.
func NewChannels(cfg Config, log *slog.Logger) (map[Channel]Sender, error) {
	email, err := NewEmailSender(cfg.SMTPURL, cfg.SMTPFrom, log)
	if cfg.SMTPURL == "" && cfg.ConsoleMail != nil {
		email = consoleEmail{w: cfg.ConsoleMail}
	}
	if err != nil {
		return nil, err
	}
	return map[Channel]Sender{Email: email, SMS: NewSMSSender(cfg.SMSURL, cfg.SMSToken, nil, log)}, nil
}

// Deps is what the worker needs; cmd/ builds it.
type Deps struct {
	Pool     *pgxpool.Pool
	Config   Config
	I18n     *i18n.Bundle
	Log      *slog.Logger
	Channels map[Channel]Sender // nil: NewChannels(Config, Log)
	// Attachments, when set, makes the files an e-mail of kind in lang with data carries (an appointment's .ics, built
	// from the booking as it is when the e-mail goes out). It lives outside this package, which reads no
	// bookings; an error is retried like a failed send.
	Attachments func(ctx context.Context, kind, lang string, data map[string]string) ([]Attachment, error)

	// RetryDelay, when set, replaces River's back-off (attempt⁴ seconds with jitter: 1 s, 16 s, 81 s, 4 min…);
	// tests make it short.
	RetryDelay func(attempt int) time.Duration
	// PollInterval is how often the worker looks for due jobs besides LISTEN/NOTIFY, which brings new ones at
	// once (zero: one second).
	PollInterval time.Duration
	// Workers is how many deliveries run at once (zero: 10).
	Workers int
}

// Service is the delivery worker: a River client working the notifications queue.
type Service struct {
	d         Deps
	templates *Templates
	river     *river.Client[pgx.Tx]
	outbox    *PGOutbox
}

// NewService prepares the worker; Start runs it.
func NewService(d Deps) (*Service, error) {
	if d.Pool == nil || d.I18n == nil || d.Log == nil || d.Config.BaseURL == nil {
		return nil, errors.New("notifications: the service needs a pool, the i18n bundle, a logger and BASE_URL")
	}
	if d.Config.MaxAttempts < 1 {
		return nil, errors.New("notifications: NOTIFY_MAX_ATTEMPTS must be at least 1")
	}
	if d.Channels == nil {
		ch, err := NewChannels(d.Config, d.Log)
		if err != nil {
			return nil, err
		}
		d.Channels = ch
	}
	tpl, err := NewTemplates(d.I18n, d.Config.BaseURL)
	if err != nil {
		return nil, err
	}
	s := &Service{d: d, templates: tpl}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deliverWorker{s: s}); err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &dispatchWorker{s: s}); err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	cfg := &river.Config{
		Logger:            d.Log,
		MaxAttempts:       d.Config.MaxAttempts,
		Queues:            map[string]river.QueueConfig{QueueName: {MaxWorkers: cmpOr(d.Workers, 10)}},
		Workers:           workers,
		FetchPollInterval: cmpOr(d.PollInterval, time.Second),
		JobTimeout:        time.Minute,
		// Completed deliveries are in the notifications table; River's rows are only the mechanism.
		CompletedJobRetentionPeriod: 24 * time.Hour,
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(dispatchEvery),
			func() (river.JobArgs, *river.InsertOpts) {
				return dispatchArgs{}, &river.InsertOpts{Queue: QueueName, MaxAttempts: 1}
			}, &river.PeriodicJobOpts{RunOnStart: true})},
	}
	if cfg.FetchPollInterval < river.FetchCooldownDefault {
		cfg.FetchCooldown = cfg.FetchPollInterval // River wants the cooldown no longer than the poll interval
	}
	if d.RetryDelay != nil {
		cfg.RetryPolicy = retryFunc(d.RetryDelay)
	}
	s.river, err = river.NewClient(riverpgxv5.New(d.Pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	s.outbox = &PGOutbox{river: s.river, maxAttempts: d.Config.MaxAttempts}
	return s, nil
}

// Start begins delivering; it returns at once. Stop ends it.
func (s *Service) Start(ctx context.Context) error {
	if err := s.river.Start(ctx); err != nil {
		return fmt.Errorf("notifications: start worker: %w", err)
	}
	return nil
}

// Stop waits for deliveries in flight (until ctx ends) and stops the worker.
func (s *Service) Stop(ctx context.Context) error {
	if err := s.river.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("notifications: stop worker: %w", err)
	}
	return nil
}

// Outbox returns an outbox sharing the worker's River client.
func (s *Service) Outbox() *PGOutbox { return s.outbox }

// Templates returns the renderer (the inbox pages need it).
func (s *Service) Templates() *Templates { return s.templates }

// Retry puts a failed or dead e-mail or SMS back in the queue now, for the administrators' page. An expired
// sign-in code dies again at once: a late code is useless.
func (s *Service) Retry(ctx context.Context, id int64) error {
	return pgx.BeginFunc(ctx, s.d.Pool, func(tx pgx.Tx) error {
		var jobID *int64
		err := tx.QueryRow(ctx, `
			UPDATE notifications SET status = 'pending' WHERE id = $1 AND status IN ('failed', 'dead')
			RETURNING job_id`, id).Scan(&jobID)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && jobID == nil) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("notifications: retry: %w", err)
		}
		_, err = s.river.JobRetryTx(ctx, tx, *jobID)
		if errors.Is(err, river.ErrNotFound) {
			// River has cleaned the old job away (discarded jobs are kept a week): queue a new one.
			res, err := s.river.InsertTx(ctx, tx, deliverArgs{NotificationID: id}, &river.InsertOpts{
				Queue: QueueName, MaxAttempts: s.d.Config.MaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}})
			if err != nil {
				return fmt.Errorf("notifications: retry: %w", err)
			}
			_, err = tx.Exec(ctx, "UPDATE notifications SET job_id = $1 WHERE id = $2", res.Job.ID, id)
			return err
		}
		if err != nil {
			return fmt.Errorf("notifications: retry: %w", err)
		}
		return nil
	})
}

type retryFunc func(attempt int) time.Duration

func (f retryFunc) NextRetry(job *rivertype.JobRow) time.Time { return time.Now().Add(f(job.Attempt)) }

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// deliverWorker renders and sends one notifications row.
type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	s *Service
}

type row struct {
	Kind      string            `db:"kind"`
	Channel   Channel           `db:"channel"`
	Recipient string            `db:"recipient"`
	Lang      string            `db:"lang"`
	Data      map[string]string `db:"data"`
	Status    string            `db:"status"`
	Due       time.Time         `db:"due"`
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	s := w.s
	id := job.Args.NotificationID
	rows, err := s.d.Pool.Query(ctx, `
		SELECT kind, channel, recipient, lang, data, status, coalesce(send_at, created_at) AS due
		FROM notifications WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("load notification: %w", err)
	}
	n, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[row])
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(errors.New("notification row gone"))
	}
	if err != nil {
		return fmt.Errorf("load notification: %w", err)
	}
	if n.Status == "sent" {
		return nil // delivered by an earlier attempt whose completion was lost
	}
	log := s.d.Log.With("notification", id, "kind", n.Kind, "channel", string(n.Channel), "attempt", job.Attempt)
	if valid := validity(n.Data); valid > 0 && time.Since(n.Due) > valid {
		return w.fail(ctx, log, id, n.Kind, job, &SendError{Class: "expired", Permanent: true})
	}
	if _, err := checkData(n.Kind, n.Data); err != nil {
		// an unknown kind, or a secret already wiped (an administrator retried a dead sign-in code)
		return w.fail(ctx, log, id, n.Kind, job, &SendError{Class: "bad_data", Permanent: true, Err: err})
	}
	sender := s.d.Channels[n.Channel]
	if sender == nil {
		return w.fail(ctx, log, id, n.Kind, job, &SendError{Class: "no_channel", Permanent: true})
	}
	content, err := s.templates.Render(n.Lang, n.Kind, n.Data)
	if err != nil {
		return w.fail(ctx, log, id, n.Kind, job, &SendError{Class: "render", Permanent: true, Err: err})
	}
	var files []Attachment
	if n.Channel == Email && s.d.Attachments != nil {
		if files, err = s.d.Attachments(ctx, n.Kind, n.Lang, n.Data); err != nil {
			return w.fail(ctx, log, id, n.Kind, job, &SendError{Class: "attachment", Err: err})
		}
	}
	if err := sender.Send(ctx, Delivery{ID: id, Kind: n.Kind, To: n.Recipient, Lang: n.Lang, Content: content,
		Attachments: files}); err != nil {
		return w.fail(ctx, log, id, n.Kind, job, err)
	}
	// The row and the job complete together: a crash in between retries the job, which finds the row sent.
	err = pgx.BeginFunc(ctx, s.d.Pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			UPDATE notifications SET status = 'sent', sent_at = now(), attempted_at = now(), attempts = $2,
			       last_error = NULL, data = data - $3::text[]
			WHERE id = $1`, id, job.Attempt, secretFields(n.Kind))
		if err != nil {
			return err
		}
		_, err = river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
	if err != nil {
		log.ErrorContext(ctx, "notification sent but not recorded", "err", err)
		return fmt.Errorf("record delivery: %w", err)
	}
	log.DebugContext(ctx, "notification sent")
	return nil
}

// fail records a failed attempt and tells River what to do next: retry later, or give up now.
func (w *deliverWorker) fail(ctx context.Context, log *slog.Logger, id int64, kind string, job *river.Job[deliverArgs], err error) error {
	class, permanent := errorClass(err)
	dead := permanent || job.Attempt >= job.MaxAttempts
	status := "failed"
	if dead {
		status = "dead"
	}
	_, dbErr := w.s.d.Pool.Exec(ctx, `
		UPDATE notifications SET status = $2, attempts = $3, last_error = $4, attempted_at = now(),
		       data = CASE WHEN $2 = 'dead' THEN data - $5::text[] ELSE data END
		WHERE id = $1 AND status <> 'sent'`, id, status, job.Attempt, class, secretFields(kind))
	if dbErr != nil {
		log.ErrorContext(ctx, "recording a failed delivery", "err", dbErr)
	}
	log.WarnContext(ctx, "notification not delivered", "error", class, "dead", dead)
	// River stores and logs the error text: the class only, never the server's words.
	if permanent {
		return river.JobCancel(errors.New(class))
	}
	return errors.New(class)
}

// validity is how long a message with a time limit (a sign-in code's Minutes) is worth delivering: after that
// it dies instead of arriving late.
func validity(data map[string]string) time.Duration {
	if m, err := strconv.Atoi(data["Minutes"]); err == nil && m > 0 {
		return time.Duration(m) * time.Minute
	}
	return 0
}

func secretFields(kind string) []string {
	if s := kinds[kind].secret; s != nil {
		return s
	}
	return []string{}
}
