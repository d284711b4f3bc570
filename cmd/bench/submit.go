package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
)

// The submission benchmark: residents who have filled in their FNA B2 application press "Invia" at once, as on a
// click day. Every request goes through the whole HTTP path — session, ownership, validation of every answer
// against the call, the check of the documents, the transaction with the protocol number and the outbox rows.
const (
	submitClients   = 200
	draftsPerClient = 60 // enough for 10 s at 1,200 submissions/s
	submitDuration  = 10 * time.Second
)

type submitResult struct {
	ok, failed     int
	rps, p99ms     float64
	lost, dup, gap int
	resubmitSame   bool
}

// benchClient is one resident's browser: a session cookie and a client address of its own (the portal trusts
// X-Forwarded-For from loopback in this run, so per-address limits apply per resident, as in production).
type benchClient struct {
	cookie, addr string
	personID     int64
	drafts       []int64
}

var noRedirect = &http.Client{
	Transport:     &http.Transport{MaxIdleConnsPerHost: submitClients + 10, MaxConnsPerHost: submitClients + 10},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       30 * time.Second,
}

func (b *benchClient) do(method, base, path string, form url.Values) (*http.Response, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("X-Forwarded-For", b.addr)
	req.Header.Set("Accept-Language", "it")
	if b.cookie != "" {
		req.Header.Set("Cookie", b.cookie)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.Name == "csc_session" {
			b.cookie = c.Name + "=" + c.Value
		}
	}
	return resp, string(data), err
}

// signIn goes through the real e-mail sign-in: the code is read from the outbox row (no worker runs in this
// benchmark, so it is still there), then the fiscal code is given once.
func (b *benchClient) signIn(ctx context.Context, base string, pool *pgxpool.Pool, email, cf string) error {
	if _, _, err := b.do("GET", base, "/accesso", nil); err != nil {
		return err
	}
	if resp, _, err := b.do("POST", base, "/accesso/email", url.Values{"email": {email}}); err != nil || resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("sign-in code for %s: %v %v", email, err, status(resp))
	}
	var code string
	if err := pool.QueryRow(ctx, `SELECT data->>'Code' FROM notifications WHERE recipient = $1 AND kind = 'signin_code'
		ORDER BY id DESC LIMIT 1`, email).Scan(&code); err != nil {
		return fmt.Errorf("sign-in code for %s: %w", email, err)
	}
	if resp, _, err := b.do("POST", base, "/accesso/email/codice", url.Values{"code": {code}}); err != nil || resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("code for %s: %v %v", email, err, status(resp))
	}
	resp, _, err := b.do("POST", base, "/accesso/codice-fiscale", url.Values{"fiscal_code": {cf}, "given_name": {"Bench"},
		"family_name": {"Resident"}, "privacy": {"yes"}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("fiscal code for %s: %v %v", email, err, status(resp))
	}
	return pool.QueryRow(ctx, `SELECT id FROM people WHERE email = $1`, email).Scan(&b.personID)
}

func status(resp *http.Response) any {
	if resp == nil {
		return "no response"
	}
	return resp.StatusCode
}

// validCF turns 15 characters into a fiscal code by finding the check character the forms package accepts.
func validCF(first15 string, today time.Time) string {
	for c := 'A'; c <= 'Z'; c++ {
		if cf, msg := forms.ParseCodiceFiscale(first15+string(c), today); msg == "" {
			return cf.Code
		}
	}
	panic("bench: no check character for " + first15)
}

// cfFor makes the i-th distinct fiscal code of a man born on 10 December 1985 in Crema (D142).
func cfFor(i int, today time.Time) string {
	const letters = "BCDFGHLMNPRSTVZ"
	name := []byte("XXXXXX")
	for j := 5; j >= 0; j-- {
		name[j] = letters[i%len(letters)]
		i /= len(letters)
	}
	return validCF(string(name)+"85T10D142", today)
}

var draftRe = regexp.MustCompile(`/pratiche/(\d+)/passo/`)
var keyRe = regexp.MustCompile(`name="key" value="([A-Z2-7]{26})"`)

// fillTemplate fills one application through the real steps, so the answers the benchmark submits are exactly
// what the form stores.
func fillTemplate(base string, b *benchClient) (int64, error) {
	_, body, err := b.do("GET", base, "/misure/fna-misura-b2/domanda", nil)
	if err != nil {
		return 0, err
	}
	m := keyRe.FindStringSubmatch(body)
	if m == nil {
		return 0, errors.New("no start form on the apply page (is the FNA B2 call open?)")
	}
	resp, _, err := b.do("POST", base, "/misure/fna-misura-b2/domanda", url.Values{"key": {m[1]}})
	if err != nil {
		return 0, err
	}
	loc := draftRe.FindStringSubmatch(resp.Header.Get("Location"))
	if loc == nil {
		return 0, fmt.Errorf("start went to %q", resp.Header.Get("Location"))
	}
	app := "/pratiche/" + loc[1]
	steps := []struct {
		step string
		v    url.Values
	}{
		{"applicant", url.Values{"on_behalf": {"no"}}},
		{"beneficiary", url.Values{"first_name": {"Mario"}, "last_name": {"Rossi"}, "beneficiary_cf": {"RSSMRA85T10A562S"}, "birth_date": {"10/12/1985"}}},
		{"residence", url.Values{"comune": {"Crema"}, "address": {"Via Roma 1"}, "cap": {"26013"}, "lives_at_home": {"yes"}}},
		{"category", url.Values{"category": {"disabili_adulti"}, "certification": {"l104_art3_c3"}}},
		{"isee", url.Values{"isee_type": {"socio_sanitario"}, "isee": {"12345,67"}, "dsu_date": {time.Now().In(i18n.Rome).Format("02/01/2006")}}},
		{"intervention", url.Values{"intervention": {"caregiver_familiare"}}},
		{"payment", url.Values{"iban": {"IT60X0542811101000000123456"}, "account_holder": {"Mario Rossi"}}},
		{"declarations", url.Values{"self_declaration": {"yes"}, "privacy": {"yes"}}},
	}
	for _, s := range steps {
		s.v.Set("action", "next")
		resp, body, err := b.do("POST", base, app+"/passo/"+s.step, s.v)
		if err != nil {
			return 0, err
		}
		if resp.StatusCode != http.StatusSeeOther {
			return 0, fmt.Errorf("step %s: status %d: %.300s", s.step, resp.StatusCode, body)
		}
	}
	var id int64
	fmt.Sscan(loc[1], &id) //nolint:errcheck
	return id, nil
}

// prepareDrafts copies the template into draftsPerClient drafts per resident, each for another beneficiary, with
// the documents the answers call for recorded (the bytes are not needed to submit) and the comune its steps kept.
func prepareDrafts(ctx context.Context, pool *pgxpool.Pool, template int64, clients []*benchClient, today time.Time) error {
	var answers []byte
	var callID int64
	var version string
	var comune *string // what saving the steps kept on the draft, with its sub-ambito
	if err := pool.QueryRow(ctx, `SELECT answers, call_id, form_version, comune FROM applications WHERE id = $1`, template).
		Scan(&answers, &callID, &version, &comune); err != nil {
		return err
	}
	var a forms.Answers
	if err := json.Unmarshal(answers, &a); err != nil {
		return err
	}
	d, err := forms.Load(version)
	if err != nil {
		return err
	}
	var docs []string
	for _, doc := range forms.RequiredDocuments(d, a) {
		docs = append(docs, doc.Type)
	}
	n := 0
	for _, c := range clients {
		for range draftsPerClient {
			cf := cfFor(n, today)
			a.Raw["beneficiary_cf"], a.Value["beneficiary_cf"] = []string{cf}, []string{cf}
			js, _ := json.Marshal(a)
			var id int64
			if err := pool.QueryRow(ctx, `INSERT INTO applications (call_id, applicant_id, create_key, form_version, answers, beneficiary_cf,
					comune, sub_ambito)
				VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT sub_ambito FROM comuni WHERE code = $7)) RETURNING id`,
				callID, c.personID, rand.Text(), version, js, cf, comune).Scan(&id); err != nil {
				return fmt.Errorf("draft %d: %w", n, err)
			}
			if _, err := pool.Exec(ctx, `INSERT INTO attachments (application_id, doc_type, file_name, content_type, size, sha256, storage_key)
				SELECT $1::bigint, t, t || '.pdf', 'application/pdf', 1000, repeat('0', 64), 'bench-' || $1::bigint::text || '-' || replace(t, '_', '-')
				FROM unnest($2::text[]) t`, id, docs); err != nil {
				return err
			}
			c.drafts = append(c.drafts, id)
			n++
		}
	}
	return nil
}

// benchSubmissions signs the residents in, prepares their drafts, calls ready (the baseline measured alongside),
// then lets them all submit for submitDuration,
// and checks in PostgreSQL that every success is one stored application with its own protocol number.
func benchSubmissions(ctx context.Context, base string, pool *pgxpool.Pool, ready func() error) (submitResult, error) {
	var r submitResult
	today := time.Now().In(i18n.Rome)
	clients := make([]*benchClient, submitClients)
	var wg sync.WaitGroup
	errs := make(chan error, submitClients)
	sem := make(chan struct{}, 16)
	for i := range clients {
		clients[i] = &benchClient{addr: fmt.Sprintf("10.77.%d.%d", i/250, i%250+1)}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs <- clients[i].signIn(ctx, base, pool, fmt.Sprintf("bench%03d@example.org", i), cfFor(1_000_000+i, today))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return r, err
		}
	}
	template, err := fillTemplate(base, clients[0])
	if err != nil {
		return r, fmt.Errorf("fill the template application: %w", err)
	}
	if err := prepareDrafts(ctx, pool, template, clients, today); err != nil {
		return r, err
	}
	if err := ready(); err != nil {
		return r, err
	}

	var ok, failed atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	var succeeded []int64
	// BENCH_SUBMIT_CPUPROFILE=file profiles the submissions (portal and clients: one process), for go tool pprof.
	if path := os.Getenv("BENCH_SUBMIT_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return r, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return r, err
		}
		defer pprof.StopCPUProfile()
	}
	// BENCH_WAITS=1 samples what PostgreSQL's sessions wait for during the run, to find where the time goes.
	if os.Getenv("BENCH_WAITS") != "" {
		waits := map[string]int{}
		stop := make(chan struct{})
		var sampled sync.WaitGroup
		sampled.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
				rows, _ := pool.Query(ctx, `SELECT coalesce(wait_event_type || ':' || wait_event, state) FROM pg_stat_activity
					WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`)
				for rows.Next() {
					var w string
					rows.Scan(&w) //nolint:errcheck
					waits[w]++
				}
				rows.Close()
			}
		})
		defer func() {
			close(stop)
			sampled.Wait()
			fmt.Println("PostgreSQL sessions sampled during submissions:", waits)
		}()
	}
	deadline := time.Now().Add(submitDuration)
	start := time.Now()
	for _, c := range clients {
		wg.Go(func() {
			var mine []time.Duration
			var done []int64
			for _, id := range c.drafts {
				if time.Now().After(deadline) {
					break
				}
				t0 := time.Now()
				path := fmt.Sprintf("/pratiche/%d/invia", id)
				resp, _, err := c.do("POST", base, path, url.Values{})
				mine = append(mine, time.Since(t0))
				if err != nil || resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "?inviata=1") {
					failed.Add(1)
					continue
				}
				ok.Add(1)
				done = append(done, id)
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			succeeded = append(succeeded, done...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	r.ok, r.failed = int(ok.Load()), int(failed.Load())
	r.rps = float64(r.ok) / elapsed.Seconds()
	slices.Sort(latencies)
	if len(latencies) > 0 {
		r.p99ms = float64(latencies[len(latencies)*99/100].Microseconds()) / 1000
	}

	// Durability: every success is a submitted row with a protocol, a "submitted" event and its confirmation in
	// the outbox; protocol numbers are distinct and without gaps.
	var stored, distinct, events, outbox int
	var maxN int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT protocol), coalesce(max(substr(protocol, 10)::int), 0)
		FROM applications WHERE id = ANY($1) AND status = 'submitted'`, succeeded).Scan(&stored, &distinct, &maxN); err != nil {
		return r, err
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM application_events WHERE kind = 'submitted' AND application_id = ANY($1)`, succeeded).Scan(&events); err != nil {
		return r, err
	}
	if err := pool.QueryRow(ctx, `SELECT count(DISTINCT data->>'Protocol') FROM notifications WHERE kind = 'application_received'`).Scan(&outbox); err != nil {
		return r, err
	}
	var total int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM applications WHERE status = 'submitted'`).Scan(&total); err != nil {
		return r, err
	}
	r.lost = r.ok - min(stored, events, outbox)
	r.dup = (total - distinct) + (stored - distinct)
	r.gap = maxN - total
	// A retried submit of an application already received changes nothing and answers with the same page.
	if len(succeeded) > 0 {
		c := clients[0]
		id := c.drafts[0]
		var before string
		pool.QueryRow(ctx, `SELECT protocol FROM applications WHERE id = $1`, id).Scan(&before) //nolint:errcheck
		resp, _, err := c.do("POST", base, fmt.Sprintf("/pratiche/%d/invia", id), url.Values{})
		var after string
		pool.QueryRow(ctx, `SELECT protocol FROM applications WHERE id = $1`, id).Scan(&after) //nolint:errcheck
		r.resubmitSame = err == nil && resp.StatusCode == http.StatusSeeOther && before == after && before != ""
	}
	return r, nil
}
