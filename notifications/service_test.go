package notifications

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

var bundle = func() *i18n.Bundle {
	b, err := i18n.New()
	if err != nil {
		panic(err)
	}
	return b
}()

const baseURL = "https://servizi.example.it"

type harness struct {
	t   *testing.T
	db  *storage.DB
	svc *Service
}

// newHarness gives the test a database of its own and a running worker with a short retry policy. channels
// are the senders (nil: from cfg).
func newHarness(t *testing.T, cfg Config, channels map[Channel]Sender) *harness {
	t.Helper()
	db := testenv.Shared(t).DB(t)
	base, _ := url.Parse(baseURL)
	cfg.BaseURL = base
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.SMTPFrom == "" {
		cfg.SMTPFrom = "CSC Smart Services <noreply@localhost>"
	}
	svc, err := NewService(Deps{
		Pool: db.Pool, Config: cfg, I18n: bundle, Log: testenv.Logger(t), Channels: channels,
		RetryDelay:   func(int) time.Duration { return 20 * time.Millisecond },
		PollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return &harness{t: t, db: db, svc: svc}
}

// enqueue writes msgs in a transaction of its own, committed or rolled back.
func (h *harness) enqueue(commit bool, msgs ...Message) {
	h.t.Helper()
	ctx := context.Background()
	tx, err := h.db.Pool.Begin(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if err := h.svc.Outbox().Enqueue(ctx, tx, msgs...); err != nil {
		h.t.Fatal(err)
	}
	if commit {
		if err := tx.Commit(ctx); err != nil {
			h.t.Fatal(err)
		}
	}
}

type status struct {
	ID        int64
	Status    string
	Attempts  int
	LastError string
	Data      map[string]string
	JobState  string
}

// rows returns the notifications of one channel with their River job's state, oldest first.
func (h *harness) rows(ch Channel) []status {
	h.t.Helper()
	rows, err := h.db.Pool.Query(context.Background(), `
		SELECT n.id, n.status, n.attempts, coalesce(n.last_error, ''), n.data, coalesce(j.state::text, '')
		FROM notifications n LEFT JOIN river_job j ON j.id = n.job_id
		WHERE n.channel = $1 ORDER BY n.id`, string(ch))
	if err != nil {
		h.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (status, error) {
		var s status
		err := r.Scan(&s.ID, &s.Status, &s.Attempts, &s.LastError, &s.Data, &s.JobState)
		return s, err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

func (h *harness) count(sql string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

func waitMessages(t *testing.T, s *testenv.SMTPSink, n int) []testenv.Mail {
	t.Helper()
	testenv.WaitFor(t, 10*time.Second, fmt.Sprintf("%d e-mails", n), func() error {
		if got := len(s.Messages()); got < n {
			return fmt.Errorf("%d received", got)
		}
		return nil
	})
	return s.Messages()
}

func (h *harness) waitStatus(ch Channel, what string, cond func(status) bool) status {
	h.t.Helper()
	var last status
	testenv.WaitFor(h.t, 15*time.Second, what, func() error {
		rows := h.rows(ch)
		if len(rows) == 0 {
			return errors.New("no row")
		}
		last = rows[len(rows)-1]
		if !cond(last) {
			return fmt.Errorf("row is %+v", last)
		}
		return nil
	})
	return last
}

func signinCode(email, lang, code string) Message {
	return Message{Kind: KindSigninCode, To: Recipient{Email: email, Lang: lang}, Channels: []Channel{Email},
		Data: map[string]string{"Code": code, "Minutes": "10"}}
}

// A message enqueued in a transaction that rolls back is never sent; one that commits arrives at the real SMTP
// server within moments, in the recipient's language, and its code is wiped from the database once sent.
func TestOutboxFollowsTheTransaction(t *testing.T) {
	t.Parallel()
	smtp := testenv.StartSMTPSink(t, "127.0.0.1:0", "portal", "s3cret pass")
	u := url.URL{Scheme: "smtp", User: url.UserPassword("portal", "s3cret pass"), Host: smtp.Addr()}
	h := newHarness(t, Config{SMTPURL: u.String()}, nil)

	h.enqueue(false, signinCode("rolled.back@example.it", "it", "111111"))
	if n := h.count("SELECT count(*) FROM notifications"); n != 0 {
		t.Fatalf("%d rows after rollback", n)
	}
	if n := h.count("SELECT count(*) FROM river_job WHERE kind = 'notification_deliver'"); n != 0 {
		t.Fatalf("%d jobs after rollback", n)
	}
	start := time.Now()
	h.enqueue(true, signinCode("maria.rossi@example.it", "it", "222222"), signinCode("amina@example.it", "ar", "333333"))
	msgs := waitMessages(t, smtp, 2)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("sign-in codes took %s to arrive", d)
	}
	testenv.WaitFor(t, 10*time.Second, "both rows recorded as sent", func() error {
		for _, r := range h.rows(Email) {
			if r.Status != "sent" || r.JobState != "completed" {
				return fmt.Errorf("row %+v", r)
			}
		}
		return nil
	})
	if len(msgs) != 2 {
		t.Fatalf("%d e-mails, want 2", len(msgs))
	}
	byTo := map[string]testenv.ParsedMail{}
	for _, m := range msgs {
		if len(m.To) != 1 || m.From != "noreply@localhost" {
			t.Errorf("envelope from %q to %v", m.From, m.To)
		}
		byTo[m.To[0]] = testenv.ParseMail(t, m.Raw)
	}
	if _, ok := byTo["rolled.back@example.it"]; ok {
		t.Fatal("the rolled-back message was sent")
	}
	it, ar := byTo["maria.rossi@example.it"], byTo["amina@example.it"]
	z := bundle.Localizer("it")
	if it.Subject != z.T("email.signin_code.subject") || !strings.Contains(it.Text, "222222") ||
		!strings.Contains(it.Text, "10 minuti") || !strings.Contains(it.HTML, `<html lang="it" dir="ltr">`) {
		t.Errorf("italian e-mail: %q\n%s\n%s", it.Subject, it.Text, it.HTML)
	}
	if it.Header.Get("Content-Language") != "it" || it.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("headers: %v", it.Header)
	}
	if ar.Subject != bundle.Localizer("ar").T("email.signin_code.subject") || !strings.Contains(ar.Text, "333333") ||
		!strings.Contains(ar.HTML, `<html lang="ar" dir="rtl">`) || !strings.Contains(ar.HTML, "333333") {
		t.Errorf("arabic e-mail: %q\n%s\n%s", ar.Subject, ar.Text, ar.HTML)
	}
	if smtp.AuthCount() == 0 {
		t.Error("the portal did not authenticate")
	}
	for _, r := range h.rows(Email) {
		if r.Status != "sent" || r.Attempts != 1 || r.JobState != "completed" {
			t.Errorf("row %+v", r)
		}
		if _, ok := r.Data["Code"]; ok {
			t.Errorf("the sign-in code stays in the database after sending: %v", r.Data)
		}
	}
}

// Enqueuing the same UniqueKey twice (a retried request) sends one e-mail.
func TestUniqueKeySendsOnce(t *testing.T) {
	t.Parallel()
	smtp := testenv.StartSMTPSink(t, "127.0.0.1:0", "", "")
	h := newHarness(t, Config{SMTPURL: smtp.URL()}, nil)
	m := Message{Kind: KindCaseNews, To: Recipient{PersonID: 7, Email: "luca@example.it", Lang: "en"},
		Channels: []Channel{Email, Inbox}, Data: map[string]string{"Protocol": "CSC-2026-000123"},
		UniqueKey: "case:123:status:5"}
	h.enqueue(true, m)
	h.enqueue(true, m)
	h.enqueue(true, m, m)
	waitMessages(t, smtp, 1)
	h.waitStatus(Email, "sent", func(s status) bool { return s.Status == "sent" && s.JobState == "completed" })
	h.enqueue(true, m) // after delivery too
	if n := h.count("SELECT count(*) FROM notifications WHERE channel = 'email'"); n != 1 {
		t.Errorf("%d e-mail rows", n)
	}
	if n := h.count("SELECT count(*) FROM notifications WHERE channel = 'inbox'"); n != 1 {
		t.Errorf("%d inbox rows", n)
	}
	if n := h.count("SELECT count(*) FROM river_job WHERE kind = 'notification_deliver'"); n != 1 {
		t.Errorf("%d jobs", n)
	}
	msgs := smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d e-mails", len(msgs))
	}
	got := testenv.ParseMail(t, msgs[0].Raw)
	if got.Subject != "News about application CSC-2026-000123" || !strings.Contains(got.Text, baseURL+PersonalAreaPath) {
		t.Errorf("case news: %q\n%s", got.Subject, got.Text)
	}
}

// freePort returns a loopback address where nothing listens (yet).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// With the mail server down the message is retried, attempts growing; when the server comes back it is
// delivered, exactly once.
func TestSMTPDownThenBack(t *testing.T) {
	t.Parallel()
	addr := freePort(t)
	h := newHarness(t, Config{SMTPURL: "smtp://" + addr, MaxAttempts: 50}, nil)
	h.enqueue(true, signinCode("maria.rossi@example.it", "it", "424242"))
	failed := h.waitStatus(Email, "two failed attempts", func(s status) bool { return s.Attempts >= 2 })
	if failed.Status != "failed" || failed.LastError != "smtp_connect" {
		t.Errorf("while down: %+v", failed)
	}
	if failed.Data["Code"] != "424242" {
		t.Error("the code must stay until the message is sent")
	}
	smtp := testenv.StartSMTPSink(t, addr, "", "")
	msgs := waitMessages(t, smtp, 1)
	sent := h.waitStatus(Email, "sent", func(s status) bool { return s.Status == "sent" && s.JobState == "completed" })
	if sent.Attempts < 3 || sent.LastError != "" {
		t.Errorf("after recovery: %+v", sent)
	}
	if !strings.Contains(testenv.ParseMail(t, msgs[0].Raw).Text, "424242") {
		t.Error("wrong message")
	}
	if n := len(smtp.Messages()); n != 1 {
		t.Errorf("%d e-mails, want exactly 1", n)
	}
	// River holds no personal data: the job carries the row's ID, its errors the class only.
	var args, errs string
	if err := h.db.Pool.QueryRow(context.Background(), "SELECT args::text, coalesce(errors::text, '') FROM river_job WHERE kind = 'notification_deliver'").Scan(&args, &errs); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(args+errs, "maria") || strings.Contains(args+errs, "424242") || strings.Contains(errs, "127.0.0.1") {
		t.Errorf("personal data in river_job: %s %s", args, errs)
	}
}

// After NOTIFY_MAX_ATTEMPTS the message is dead, listed for administrators (masked), and an administrator can
// send it again once the server is back.
func TestDeadAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	addr := freePort(t)
	h := newHarness(t, Config{SMTPURL: "smtp://" + addr, MaxAttempts: 3}, nil)
	h.enqueue(true, Message{Kind: KindWelcome, To: Recipient{PersonID: 9, Email: "giulia.bianchi@example.it", Lang: "fr"},
		Channels: []Channel{Email}})
	dead := h.waitStatus(Email, "dead", func(s status) bool { return s.Status == "dead" && s.JobState == "discarded" })
	if dead.Attempts != 3 || dead.LastError != "smtp_connect" {
		t.Errorf("dead row: %+v", dead)
	}
	list, err := FailedDeliveries(context.Background(), h.db.Pool, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != dead.ID || list[0].Status != "dead" || list[0].Kind != KindWelcome ||
		list[0].Recipient != "g***@example.it" || list[0].Attempts != 3 || list[0].AttemptedAt == nil {
		t.Fatalf("failed deliveries: %+v", list)
	}

	smtp := testenv.StartSMTPSink(t, addr, "", "")
	if err := h.svc.Retry(context.Background(), dead.ID); err != nil {
		t.Fatal(err)
	}
	msgs := waitMessages(t, smtp, 1)
	h.waitStatus(Email, "sent after retry", func(s status) bool { return s.Status == "sent" })
	if got := testenv.ParseMail(t, msgs[0].Raw); !strings.Contains(got.HTML, `<html lang="fr" dir="ltr">`) || !strings.Contains(got.Text, baseURL+PersonalAreaPath) {
		t.Errorf("welcome: %s", got.Text)
	}
	if list, _ := FailedDeliveries(context.Background(), h.db.Pool, 10); len(list) != 0 {
		t.Errorf("still listed: %+v", list)
	}
	if err := h.svc.Retry(context.Background(), dead.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("retrying a sent message: %v", err)
	}

	// A dead message whose River job was cleaned away long ago gets a new job.
	h.enqueue(true, Message{Kind: KindWelcome, To: Recipient{Email: "nobody@example.it", Lang: "it"}, Channels: []Channel{Email}})
	gone := h.waitStatus(Email, "refused", func(s status) bool { return s.Status == "dead" && s.JobState == "cancelled" })
	if _, err := h.db.Pool.Exec(context.Background(), "DELETE FROM river_job WHERE id = (SELECT job_id FROM notifications WHERE id = $1)", gone.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Retry(context.Background(), gone.ID); err != nil {
		t.Fatal(err)
	}
	h.waitStatus(Email, "dead again with a new job", func(s status) bool { return s.ID == gone.ID && s.Status == "dead" && s.JobState == "cancelled" })
}

// A refused address is not retried: dead at once.
func TestRefusedAddressIsDeadAtOnce(t *testing.T) {
	t.Parallel()
	smtp := testenv.StartSMTPSink(t, "127.0.0.1:0", "", "")
	h := newHarness(t, Config{SMTPURL: smtp.URL(), MaxAttempts: 8}, nil)
	h.enqueue(true, signinCode("nobody@example.it", "it", "999999"))
	dead := h.waitStatus(Email, "dead", func(s status) bool { return s.Status == "dead" && s.JobState == "cancelled" })
	if dead.Attempts != 1 || dead.LastError != "smtp_recipient_rejected" {
		t.Errorf("%+v", dead)
	}
	if _, ok := dead.Data["Code"]; ok {
		t.Error("a dead sign-in code must be wiped")
	}
	// Retried by an administrator, it cannot be sent without its code: dead again, nothing sent.
	if err := h.svc.Retry(context.Background(), dead.ID); err != nil {
		t.Fatal(err)
	}
	again := h.waitStatus(Email, "dead again", func(s status) bool { return s.LastError == "bad_data" && s.JobState == "cancelled" })
	if again.Status != "dead" || len(smtp.Messages()) != 0 {
		t.Errorf("%+v, %d e-mails", again, len(smtp.Messages()))
	}
}

// A sign-in code that could not go out in time dies instead of arriving late.
func TestExpiredCodeIsNotSent(t *testing.T) {
	t.Parallel()
	smtp := testenv.StartSMTPSink(t, "127.0.0.1:0", "", "")
	h := newHarness(t, Config{SMTPURL: smtp.URL()}, nil)
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, h.db.Pool, func(tx pgx.Tx) error {
		if err := h.svc.Outbox().Enqueue(ctx, tx, signinCode("late@example.it", "it", "555555")); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE notifications SET created_at = now() - interval '11 minutes'")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	dead := h.waitStatus(Email, "expired", func(s status) bool { return s.Status == "dead" })
	if dead.LastError != "expired" || len(smtp.Messages()) != 0 {
		t.Errorf("%+v, %d e-mails", dead, len(smtp.Messages()))
	}
}

// A message for later waits as a scheduled River job (no sleeping: the job's state says it), and goes out when
// its time comes.
func TestScheduledSend(t *testing.T) {
	t.Parallel()
	smtp := testenv.StartSMTPSink(t, "127.0.0.1:0", "", "")
	h := newHarness(t, Config{SMTPURL: smtp.URL()}, nil)
	at := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	m := Message{Kind: KindCaseNews, To: Recipient{PersonID: 5, Email: "ion@example.it", Lang: "ro"},
		Channels: []Channel{Email, Inbox}, Data: map[string]string{"Protocol": "CSC-2026-000777"}, SendAt: at}
	h.enqueue(true, m)
	rows := h.rows(Email)
	if len(rows) != 1 || rows[0].Status != "pending" || rows[0].JobState != "scheduled" {
		t.Fatalf("scheduled: %+v", rows)
	}
	var scheduledAt time.Time
	if err := h.db.Pool.QueryRow(context.Background(), "SELECT scheduled_at FROM river_job WHERE kind = 'notification_deliver'").Scan(&scheduledAt); err != nil {
		t.Fatal(err)
	}
	if !scheduledAt.Equal(at) {
		t.Errorf("job scheduled at %s, want %s", scheduledAt, at)
	}
	if items, _ := ListInbox(context.Background(), h.db.Pool, 5, 10); len(items) != 0 {
		t.Errorf("a future inbox message is already visible: %+v", items)
	}
	// Time passes: the job falls due.
	var jobID int64
	if err := h.db.Pool.QueryRow(context.Background(), "SELECT job_id FROM notifications WHERE channel = 'email'").Scan(&jobID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.river.JobRetry(context.Background(), jobID); err != nil {
		t.Fatal(err)
	}
	msgs := waitMessages(t, smtp, 1)
	if got := testenv.ParseMail(t, msgs[0].Raw); got.Subject != "Noutăți despre dosarul CSC-2026-000777" {
		t.Errorf("subject %q", got.Subject)
	}
}

// The in-portal inbox: visible at once after commit, counted until read, and only to its owner.
func TestInbox(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{}, map[Channel]Sender{})
	ctx := context.Background()
	h.enqueue(true,
		Message{Kind: KindWelcome, To: Recipient{PersonID: 42, Lang: "uk"}, Channels: []Channel{Inbox}},
		Message{Kind: KindCaseNews, To: Recipient{PersonID: 42, Lang: "uk"}, Channels: []Channel{Inbox},
			Data: map[string]string{"Protocol": "CSC-2026-000042", "Link": "/area-personale/pratiche/42"}},
		Message{Kind: KindWelcome, To: Recipient{PersonID: 43, Lang: "it"}, Channels: []Channel{Inbox}})
	items, err := ListInbox(ctx, h.db.Pool, 42, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Kind != KindCaseNews || items[0].Data["Protocol"] != "CSC-2026-000042" || items[0].ReadAt != nil {
		t.Fatalf("inbox: %+v", items)
	}
	if n, _ := UnreadCount(ctx, h.db.Pool, 42); n != 2 {
		t.Errorf("unread = %d", n)
	}
	if err := MarkRead(ctx, h.db.Pool, 43, items[0].ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("another person marked it read: %v", err)
	}
	if err := MarkRead(ctx, h.db.Pool, 42, items[0].ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := UnreadCount(ctx, h.db.Pool, 42); n != 1 {
		t.Errorf("unread after reading = %d", n)
	}
	c, err := h.svc.Templates().Render("uk", items[0].Kind, items[0].Data)
	if err != nil || c.Subject != "Новини щодо справи CSC-2026-000042" || !strings.Contains(c.Inbox, "CSC-2026-000042") {
		t.Errorf("inbox rendering: %q %q %v", c.Subject, c.Inbox, err)
	}
	if n := h.count("SELECT count(*) FROM river_job WHERE kind = 'notification_deliver'"); n != 0 {
		t.Errorf("inbox messages need no job, %d made", n)
	}
}

// Enqueue refuses what it cannot deliver or must not carry, and the caller's transaction decides the rest.
func TestEnqueueRefuses(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{}, map[Channel]Sender{})
	cases := []Message{
		{Kind: "diagnosis", To: Recipient{Email: "a@example.it"}, Channels: []Channel{Email}},
		{Kind: KindCaseNews, To: Recipient{Email: "a@example.it"}, Channels: []Channel{Email},
			Data: map[string]string{"Protocol": "CSC-2026-000001", "Detail": "invalidità 100%"}},
		{Kind: KindSigninCode, To: Recipient{PersonID: 1, Email: "a@example.it"}, Channels: []Channel{Inbox},
			Data: map[string]string{"Code": "123456"}},
		{Kind: KindWelcome, To: Recipient{Email: "not an address"}, Channels: []Channel{Email}},
		{Kind: KindWelcome, To: Recipient{Email: "Maria <a@example.it>"}, Channels: []Channel{Email}},
		{Kind: KindWelcome, To: Recipient{Phone: "12"}, Channels: []Channel{SMS}},
		{Kind: KindWelcome, To: Recipient{Email: "a@example.it"}, Channels: []Channel{Inbox}},
		{Kind: KindWelcome, To: Recipient{Email: "a@example.it"}},
		{Kind: KindWelcome, To: Recipient{Email: "a@example.it"}, Channels: []Channel{"fax"}},
	}
	ctx := context.Background()
	for i, m := range cases {
		tx, err := h.db.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.svc.Outbox().Enqueue(ctx, tx, m); err == nil {
			t.Errorf("case %d accepted: %+v", i, m)
		} else if strings.Contains(err.Error(), "invalidità") {
			t.Errorf("case %d: the error echoes the data: %v", i, err)
		}
		tx.Rollback(ctx) //nolint:errcheck
	}
}

// smsProvider is a real HTTP server on loopback standing in for the SMS gateway; status decides its answer.
type smsProvider struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	got    []smsCall
}

type smsCall struct {
	Auth, ContentType string
	Body              smsRequest
}

func startSMSProvider(t *testing.T, status int) *smsProvider {
	p := &smsProvider{status: status}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body smsRequest
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil || r.Method != http.MethodPost {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.got = append(p.got, smsCall{Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"), Body: body})
		st := p.status
		p.mu.Unlock()
		w.WriteHeader(st)
		io.WriteString(w, `{"id":"x"}`) //nolint:errcheck
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *smsProvider) calls() []smsCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]smsCall(nil), p.got...)
}

func (p *smsProvider) setStatus(s int) {
	p.mu.Lock()
	p.status = s
	p.mu.Unlock()
}

func TestSMSProvider(t *testing.T) {
	t.Parallel()
	prov := startSMSProvider(t, http.StatusServiceUnavailable)
	h := newHarness(t, Config{SMSURL: prov.URL + "/send", SMSToken: "tok-123"}, nil)
	h.enqueue(true, Message{Kind: KindCaseNews, To: Recipient{PersonID: 3, Phone: "333 123 4567", Lang: "uk"},
		Channels: []Channel{SMS}, Data: map[string]string{"Protocol": "CSC-2026-000321"}})
	failed := h.waitStatus(SMS, "a failed attempt", func(s status) bool { return s.Attempts >= 1 })
	if failed.LastError != "sms_http_503" {
		t.Errorf("while the provider is down: %+v", failed)
	}
	prov.setStatus(http.StatusAccepted)
	sent := h.waitStatus(SMS, "sent", func(s status) bool { return s.Status == "sent" })
	calls := prov.calls()
	if len(calls) != sent.Attempts {
		t.Errorf("%d calls for %d attempts", len(calls), sent.Attempts)
	}
	c := calls[len(calls)-1]
	want := bundle.Localizer("uk").T("sms.case_news", map[string]any{"Portal": PortalName, "Protocol": "CSC-2026-000321",
		"Link": baseURL + PersonalAreaPath})
	if c.Auth != "Bearer tok-123" || c.ContentType != "application/json" || c.Body.To != "+393331234567" ||
		c.Body.Text != want || c.Body.Reference != fmt.Sprint(sent.ID) {
		t.Errorf("provider got %+v, want text %q", c, want)
	}

	// A request the provider refuses for good is not retried.
	prov.setStatus(http.StatusUnprocessableEntity)
	h.enqueue(true, Message{Kind: KindWelcome, To: Recipient{Phone: "+39 333 000 0000", Lang: "it"}, Channels: []Channel{SMS}})
	dead := h.waitStatus(SMS, "dead", func(s status) bool { return s.Status == "dead" && s.JobState == "cancelled" })
	if dead.Attempts != 1 || dead.LastError != "sms_http_422" || dead.JobState != "cancelled" {
		t.Errorf("refused SMS: %+v", dead)
	}
}

// Without SMS_URL and SMTP_URL (make run), messages go to the log: an SMS with its number masked, an e-mail with
// its kind and domain only.
func TestLogChannels(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	ch, err := NewChannels(Config{}, log) // what the service builds from an empty configuration, logging where we read
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{}, ch)
	h.enqueue(true,
		Message{Kind: KindSigninCode, To: Recipient{Email: "maria.rossi@example.it", Phone: "+39 333 123 4567", Lang: "it"},
			Channels: []Channel{Email, SMS}, Data: map[string]string{"Code": "246810"}})
	h.waitStatus(Email, "e-mail logged", func(s status) bool { return s.Status == "sent" })
	h.waitStatus(SMS, "SMS logged", func(s status) bool { return s.Status == "sent" })
	out := buf.String()
	if !strings.Contains(out, "to=*********567") || strings.Contains(out, "3331234567") || !strings.Contains(out, "246810") {
		t.Errorf("SMS log line: %s", out)
	}
	var emailLine string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "e-mail not sent") {
			emailLine = l
		}
	}
	if !strings.Contains(emailLine, "recipient_domain=example.it") || strings.Contains(emailLine, "maria") ||
		strings.Contains(emailLine, "246810") || !strings.Contains(emailLine, "kind=signin_code") {
		t.Errorf("e-mail log line: %q", emailLine)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A statement that writes a swept message itself (a submission) gets rows identical to Enqueue's, with the fields
// it assigns merged in; kinds that need River jobs in the transaction cannot be written that way.
func TestPreparedMessagesAreInsertedLikeEnqueued(t *testing.T) {
	h := newHarness(t, Config{}, nil)
	ctx := context.Background()
	o := h.svc.Outbox()
	if _, err := o.Prepare(signinCode("a@example.it", "it", "123456")); err == nil {
		t.Error("a sign-in code (not swept) was prepared")
	}
	var person int64
	if err := h.db.Pool.QueryRow(ctx, `INSERT INTO people (fiscal_code, email) VALUES ('PRPMSG80A01H501X', 'p@example.it') RETURNING id`).Scan(&person); err != nil {
		t.Fatal(err)
	}
	m := Message{Kind: KindApplicationReceived, To: Recipient{PersonID: person, Email: "p@example.it", Lang: "ar"},
		Channels: []Channel{Inbox, Email}, Data: map[string]string{"Protocol": "CSC-0000-000000", "Link": "/pratiche/7"},
		UniqueKey: "prepared:7"}
	if _, err := o.Prepare(Message{Kind: m.Kind, To: Recipient{Email: "not an address"}, Channels: []Channel{Email},
		Data: m.Data}); err == nil {
		t.Error("a bad address was prepared")
	}
	p, err := o.Prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second time, the unique key skips every row
		if _, err := h.db.Pool.Exec(ctx, `WITH got AS (SELECT 'CSC-2026-000042' AS protocol) `+
			InsertSQL(1, "jsonb_build_object('Protocol', got.protocol)", ", got"), p.Args()...); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	var protocol, lang string
	if err := h.db.Pool.QueryRow(ctx, `SELECT count(*), min(data->>'Protocol'), min(lang) FROM notifications
		WHERE unique_key = 'prepared:7' AND status IN ('sent', 'pending')`).Scan(&n, &protocol, &lang); err != nil {
		t.Fatal(err)
	}
	if n != 2 || protocol != "CSC-2026-000042" || lang != "ar" {
		t.Errorf("%d rows, protocol %q, lang %q", n, protocol, lang)
	}
}
