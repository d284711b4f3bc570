package portal_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/comunitasocialecremasca/smartservices/portal"
	"github.com/comunitasocialecremasca/smartservices/portal/auth"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// clock is the portal's settable time in staff tests: TOTP steps, back-off and lockout follow it, so tests assert
// counts and states, never wait.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }
func (c *clock) option() option      { return withNow(c.now) }

func totpAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// staffAccount is a test account with what its owner knows.
type staffAccount struct {
	id                 int64
	username, password string
	secret             string   // after enrolment
	codes              []string // recovery codes shown at enrolment
}

func (e *env) newStaff(t *testing.T, username, role string, scopes ...string) *staffAccount {
	t.Helper()
	a := &staffAccount{username: username, password: "una frase abbastanza lunga " + username}
	hash, err := auth.HashPassword(a.password)
	if err != nil {
		t.Fatal(err)
	}
	a.id, err = e.db.CreateStaff(context.Background(), storage.NewStaff{Username: username, FullName: "Persona " + username,
		Role: role, Scopes: scopes, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func wantRedirect(t *testing.T, resp *http.Response, to string) {
	t.Helper()
	wantStatus(t, resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != to {
		t.Fatalf("%s %s: redirect to %q, want %q", resp.Request.Method, resp.Request.URL.Path, loc, to)
	}
}

func (c *client) post(path string, kv ...string) (*http.Response, string) {
	c.t.Helper()
	form := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Add(kv[i], kv[i+1])
	}
	return c.do("POST", path, form)
}

var secretOnPage = regexp.MustCompile(`id="totp-secret" dir="ltr">([A-Z2-7 ]+)<`)
var codesOnPage = regexp.MustCompile(`<code class="fs-5" dir="ltr">([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</code>`)

// signIn signs a staff member in on a new client: password, then enrolment the first time (keeping the secret
// and recovery codes) or a code from the app, half a minute after the previous one.
func (e *env) signIn(t *testing.T, clk *clock, a *staffAccount) *client {
	t.Helper()
	c := e.client(t)
	resp, _ := c.post("/backoffice/accesso", "username", a.username, "password", a.password)
	wantStatus(t, resp, http.StatusSeeOther)
	if resp.Header.Get("Location") == "/backoffice/accesso/attivazione" {
		_, body := c.get("/backoffice/accesso/attivazione")
		m := secretOnPage.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("enrolment page shows no secret")
		}
		a.secret = strings.ReplaceAll(m[1], " ", "")
		resp, _ = c.post("/backoffice/accesso/attivazione", "code", totpAt(t, a.secret, clk.now()))
		wantRedirect(t, resp, "/backoffice/codici-recupero")
		_, body = c.get("/backoffice/codici-recupero")
		a.codes = nil
		for _, m := range codesOnPage.FindAllStringSubmatch(body, -1) {
			a.codes = append(a.codes, m[1])
		}
		return c
	}
	wantRedirect(t, resp, "/backoffice/accesso/codice")
	clk.add(30 * time.Second)
	resp, _ = c.post("/backoffice/accesso/codice", "code", totpAt(t, a.secret, clk.now()))
	wantRedirect(t, resp, "/backoffice")
	return c
}

func newStaffEnv(t *testing.T, opts ...option) (*env, *clock) {
	clk := newClock()
	return newEnv(t, append([]option{clk.option(), withVar("FORM_RATE_LIMIT", "100000")}, opts...)...), clk
}

func (e *env) attempts(t *testing.T, id int64) (int, *time.Time) {
	t.Helper()
	var n int
	var locked *time.Time
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT failed_count, locked_until FROM staff_users WHERE id = $1`, id).Scan(&n, &locked); err != nil {
		t.Fatal(err)
	}
	return n, locked
}

// The first sign-in: password, enrolment with a QR code and one valid code, ten recovery codes shown once; the
// session ID changes at each step up; signing out deletes the session server-side.
func TestStaffEnrolmentAndSignIn(t *testing.T) {
	e, clk := newStaffEnv(t)
	a := e.newStaff(t, "mario.rossi", "operatore", "crema")
	c := e.client(t)

	resp, _ := c.get("/backoffice")
	wantRedirect(t, resp, "/backoffice/accesso")
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on a staff redirect", cc)
	}
	resp, body := c.get("/backoffice/accesso")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Accesso al back office", `autocomplete="current-password"`)
	anonymous := c.cookie(portal.StaffSessionCookie)
	if anonymous == "" || c.cookie(portal.SessionCookie) != "" {
		t.Fatal("the staff pages must use the staff cookie only")
	}

	resp, _ = c.post("/backoffice/accesso", "username", "Mario.Rossi ", "password", a.password)
	wantRedirect(t, resp, "/backoffice/accesso/attivazione")
	halfway := c.cookie(portal.StaffSessionCookie)
	if halfway == anonymous {
		t.Error("session ID unchanged after the password")
	}
	resp, _ = c.get("/backoffice")
	wantRedirect(t, resp, "/backoffice/accesso") // a password alone does not sign in

	resp, body = c.get("/backoffice/accesso/attivazione")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `src="data:image/png;base64,`, `alt="Codice QR`)
	m := secretOnPage.FindStringSubmatch(body)
	if m == nil || len(strings.Fields(m[1])) != 8 {
		t.Fatalf("secret not shown in groups of four: %v", m)
	}
	a.secret = strings.ReplaceAll(m[1], " ", "")
	_, again := c.get("/backoffice/accesso/attivazione")
	if !strings.Contains(again, m[1]) {
		t.Error("reloading the enrolment page changed the secret")
	}

	resp, body = c.post("/backoffice/accesso/attivazione", "code", "12345")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Il codice è fatto di 6 cifre", `aria-invalid="true"`, `src="data:image/png;base64,`)
	wrong := "000000"
	if totpAt(t, a.secret, clk.now()) == wrong {
		wrong = "111111"
	}
	resp, body = c.post("/backoffice/accesso/attivazione", "code", wrong)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Il codice non è corretto")

	code := totpAt(t, a.secret, clk.now())
	resp, _ = c.post("/backoffice/accesso/attivazione", "code", code[:3]+" "+code[3:])
	wantRedirect(t, resp, "/backoffice/codici-recupero")
	signedIn := c.cookie(portal.StaffSessionCookie)
	if signedIn == halfway || signedIn == "" {
		t.Error("session ID unchanged at sign-in")
	}
	if n, _ := e.srv.Redis.Exists(context.Background(), e.prefix+"staff:"+halfway).Result(); n != 0 {
		t.Error("the pre-sign-in session still exists")
	}
	resp, body = c.get("/backoffice/codici-recupero")
	wantStatus(t, resp, http.StatusOK)
	if n := len(codesOnPage.FindAllString(body, -1)); n != 10 {
		t.Errorf("%d recovery codes shown, want 10", n)
	}
	resp, _ = c.get("/backoffice/codici-recupero")
	wantRedirect(t, resp, "/backoffice") // shown once
	var stored int
	e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM staff_recovery_codes WHERE staff_id = $1 AND used_at IS NULL`, a.id).Scan(&stored)
	if stored != 10 {
		t.Errorf("%d recovery code hashes stored", stored)
	}

	resp, body = c.get("/backoffice")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Persona mario.rossi", "Operatore", "Crema", `action="/backoffice/esci"`)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	if strings.Contains(body, "staff.") {
		t.Error("a message ID leaked into the page")
	}

	// Sign out: the session is gone from Redis and the old cookie opens nothing.
	resp, _ = c.post("/backoffice/esci")
	wantRedirect(t, resp, "/backoffice/accesso")
	if n, _ := e.srv.Redis.Exists(context.Background(), e.prefix+"staff:"+signedIn).Result(); n != 0 {
		t.Error("signed-out session still stored")
	}
	old := e.client(t)
	old.jar.SetCookies(base, []*http.Cookie{{Name: portal.StaffSessionCookie, Value: signedIn}})
	resp, _ = old.get("/backoffice")
	wantRedirect(t, resp, "/backoffice/accesso")

	// Next sign-in: the code from the app; the code used at enrolment, in the same period, is refused.
	resp, _ = c.post("/backoffice/accesso", "username", a.username, "password", a.password)
	wantRedirect(t, resp, "/backoffice/accesso/codice")
	resp, body = c.post("/backoffice/accesso/codice", "code", code)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "già stato usato")
	clk.add(30 * time.Second)
	resp, _ = c.post("/backoffice/accesso/codice", "code", totpAt(t, a.secret, clk.now()))
	wantRedirect(t, resp, "/backoffice")
	if n, _ := e.attempts(t, a.id); n != 0 {
		t.Errorf("failures not cleared by a sign-in: %d", n)
	}
}

// One time step of clock drift either way is accepted, two are not; a code is never accepted twice, nor one older
// than the last accepted.
func TestStaffTOTPWindowAndReplay(t *testing.T) {
	e, clk := newStaffEnv(t)
	a := e.newStaff(t, "anna.bianchi", "coordinatore")
	e.signIn(t, clk, a)
	clk.add(10 * time.Minute)

	c := e.client(t)
	password := func() {
		t.Helper()
		resp, _ := c.post("/backoffice/accesso", "username", a.username, "password", a.password)
		wantRedirect(t, resp, "/backoffice/accesso/codice")
	}
	codeAt := func(d time.Duration, want int) {
		t.Helper()
		resp, _ := c.post("/backoffice/accesso/codice", "code", totpAt(t, a.secret, clk.now().Add(d)))
		wantStatus(t, resp, want)
	}
	password()
	codeAt(-60*time.Second, http.StatusUnprocessableEntity)
	codeAt(+60*time.Second, http.StatusUnprocessableEntity)
	codeAt(-30*time.Second, http.StatusSeeOther)
	c.post("/backoffice/esci")
	password()
	codeAt(-30*time.Second, http.StatusUnprocessableEntity) // replay
	codeAt(+30*time.Second, http.StatusSeeOther)
	c.post("/backoffice/esci")
	password()
	codeAt(0, http.StatusUnprocessableEntity) // older than the last accepted step
	codeAt(+30*time.Second, http.StatusUnprocessableEntity)
	clk.add(60 * time.Second)
	codeAt(0, http.StatusSeeOther)
	if n, _ := e.attempts(t, a.id); n != 0 {
		t.Errorf("failures after sign-in: %d", n)
	}
}

func TestStaffWrongPasswordAndUnknownUser(t *testing.T) {
	e, _ := newStaffEnv(t)
	a := e.newStaff(t, "luca.verdi", "operatore", "soncino")
	c := e.client(t)
	resp, body := c.post("/backoffice/accesso", "username", a.username, "password", "sbagliata")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Nome utente o password non corretti", `value="luca.verdi"`)
	resp, body = c.post("/backoffice/accesso", "username", "nessuno", "password", "sbagliata")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Nome utente o password non corretti", `value="nessuno"`)
	resp, body = c.post("/backoffice/accesso", "username", "", "password", "")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Scrivi il nome utente.", "Scrivi la password.", `aria-describedby="username-error"`)
	if n, _ := e.attempts(t, a.id); n != 1 {
		t.Errorf("failures = %d, want 1", n)
	}
	// Arabic: the messages follow the language.
	c.headers["Accept-Language"] = "ar"
	resp, body = c.post("/backoffice/accesso", "username", a.username, "password", "sbagliata")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `<html lang="ar" dir="rtl">`)
	if strings.Contains(body, "Nome utente o password non corretti") {
		t.Error("Arabic page shows the Italian message")
	}
}

// Repeated failures: five free, then a growing wait (refused attempts are not even checked), then a lock for an
// hour at the tenth; a continuous attack gets at most ten guesses checked per hour.
func TestStaffBruteForceBackoffThenLockout(t *testing.T) {
	e, clk := newStaffEnv(t)
	a := e.newStaff(t, "bersaglio", "admin")
	c := e.client(t)
	try := func(password string, want int) string {
		t.Helper()
		resp, body := c.post("/backoffice/accesso", "username", a.username, "password", password)
		wantStatus(t, resp, want)
		if want == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
		return body
	}
	for i := 1; i <= 5; i++ {
		try("sbagliata", http.StatusUnprocessableEntity)
	}
	body := try("sbagliata", http.StatusTooManyRequests)
	wantContains(t, body, "Troppi tentativi non riusciti. Per sicurezza puoi riprovare dalle 10:00:30") // 09:00 UTC = 10:00 in Rome
	try(a.password, http.StatusTooManyRequests)                                                         // even the right password waits
	if n, _ := e.attempts(t, a.id); n != 5 {
		t.Fatalf("failures = %d after the back-off started, want 5", n)
	}
	for i, wait := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute} {
		clk.add(wait - time.Second)
		try("sbagliata", http.StatusTooManyRequests)
		clk.add(time.Second)
		try("sbagliata", http.StatusUnprocessableEntity)
		if n, _ := e.attempts(t, a.id); n != 6+i {
			t.Fatalf("failures = %d, want %d", n, 6+i)
		}
	}
	n, locked := e.attempts(t, a.id)
	if n != 10 || locked == nil || !locked.Equal(clk.now().Add(time.Hour)) {
		t.Fatalf("after 10 failures: %d failures, locked until %v", n, locked)
	}
	body = try(a.password, http.StatusTooManyRequests)
	wantContains(t, body, "l&#39;account è bloccato fino alle")
	clk.add(59 * time.Minute)
	try(a.password, http.StatusTooManyRequests)
	if n, _ := e.attempts(t, a.id); n != 10 {
		t.Errorf("attempts during the lock were counted: %d", n)
	}
	clk.add(time.Minute)
	resp, _ := c.post("/backoffice/accesso", "username", a.username, "password", a.password)
	wantRedirect(t, resp, "/backoffice/accesso/attivazione")

	// A bot trying every 20 seconds for three hours: count the guesses actually checked in every hour.
	var checked []time.Time
	for end := clk.now().Add(3 * time.Hour); clk.now().Before(end); clk.add(20 * time.Second) {
		resp, _ := c.post("/backoffice/accesso", "username", a.username, "password", "indovina")
		switch resp.StatusCode {
		case http.StatusUnprocessableEntity:
			checked = append(checked, clk.now())
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("status %d", resp.StatusCode)
		}
		if n, _ := e.attempts(t, a.id); n > 10 {
			t.Fatalf("%d failures recorded", n)
		}
	}
	for i := range checked {
		inHour := 0
		for _, at := range checked[i:] {
			if at.Sub(checked[i]) < time.Hour {
				inHour++
			}
		}
		if inHour > 10 {
			t.Fatalf("%d guesses checked within an hour from %v", inHour, checked[i])
		}
	}
	if len(checked) < 20 {
		t.Errorf("only %d guesses checked in three hours: the lock should lift after an hour", len(checked))
	}
}

func TestStaffRecoveryCodeWorksOnce(t *testing.T) {
	e, clk := newStaffEnv(t)
	a := e.newStaff(t, "giulia.neri", "operatore", "pandino")
	e.signIn(t, clk, a)
	if len(a.codes) != 10 {
		t.Fatalf("%d codes", len(a.codes))
	}
	c := e.client(t)
	c.post("/backoffice/accesso", "username", a.username, "password", a.password)
	resp, body := c.get("/backoffice/accesso/recupero")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Codice di recupero")
	resp, body = c.post("/backoffice/accesso/recupero", "code", "ABC")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "16 lettere e cifre", `value="ABC"`)
	// Typed in lower case without dashes: still the code.
	resp, _ = c.post("/backoffice/accesso/recupero", "code", strings.ToLower(strings.ReplaceAll(a.codes[0], "-", " ")))
	wantRedirect(t, resp, "/backoffice")
	_, body = c.get("/backoffice")
	wantContains(t, body, "<dd>9</dd>")
	c.post("/backoffice/esci")

	c.post("/backoffice/accesso", "username", a.username, "password", a.password)
	resp, body = c.post("/backoffice/accesso/recupero", "code", a.codes[0])
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "non è corretto oppure è già stato usato")
	resp, _ = c.post("/backoffice/accesso/recupero", "code", a.codes[1])
	wantRedirect(t, resp, "/backoffice")
	// Another account's code does not work here.
	b := e.newStaff(t, "altro.utente", "operatore", "pandino")
	e.signIn(t, clk, b)
	c.post("/backoffice/esci")
	c.post("/backoffice/accesso", "username", a.username, "password", a.password)
	resp, _ = c.post("/backoffice/accesso/recupero", "code", b.codes[0])
	wantStatus(t, resp, http.StatusUnprocessableEntity)
}

func TestStaffSessionIdleExpiryIsTheRedisTTL(t *testing.T) {
	e, clk := newStaffEnv(t)
	c := e.signIn(t, clk, e.newStaff(t, "sara.gialli", "coordinatore"))
	ttl, err := e.srv.Redis.TTL(context.Background(), e.prefix+"staff:"+c.cookie(portal.StaffSessionCookie)).Result()
	if err != nil || ttl <= 29*time.Minute || ttl > 30*time.Minute {
		t.Fatalf("staff session TTL %v (%v), want 30 minutes", ttl, err)
	}
}

// A resident signed in on the citizens' side who opens a back-office address is refused, not sent to sign in.
func TestStaffPagesRefuseCitizenSessions(t *testing.T) {
	e, _ := newStaffEnv(t)
	citizenSession := func(user string) *client {
		var buf bytes.Buffer
		data := map[string]any{"created": time.Now().Unix(), "user": user}
		if err := gob.NewEncoder(&buf).Encode(&data); err != nil {
			t.Fatal(err)
		}
		id := strings.Repeat("C", 26)
		if user == "" {
			id = strings.Repeat("D", 26)
		}
		if err := e.srv.Redis.Set(context.Background(), e.prefix+"sess:"+id, buf.Bytes(), time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		c := e.client(t)
		c.jar.SetCookies(base, []*http.Cookie{{Name: portal.SessionCookie, Value: id}})
		return c
	}
	resp, body := citizenSession("p:1").get("/backoffice/sedi")
	wantStatus(t, resp, http.StatusForbidden)
	wantContains(t, body, "Accesso non consentito")
	resp, _ = citizenSession("").get("/backoffice/sedi") // an anonymous citizen session: just not signed in
	wantRedirect(t, resp, "/backoffice/accesso")
}

// Scope lives in the queries: an operatore sees and edits only the sportelli of their sub-ambiti, and one outside
// is "not found" for reading and writing alike; a coordinatore works on the whole district.
func TestStaffOfficeScope(t *testing.T) {
	e, clk := newStaffEnv(t)
	op := e.signIn(t, clk, e.newStaff(t, "op.crema", "operatore", "crema"))
	resp, body := op.get("/backoffice/sedi")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Sportello sociale di Crema", "da completare")
	if strings.Contains(body, "Soncino") {
		t.Error("operatore of Crema sees Soncino's sportello")
	}
	resp, _ = op.get("/backoffice/sedi/sportello-soncino")
	wantStatus(t, resp, http.StatusNotFound)
	resp, _ = op.post("/backoffice/sedi/sportello-soncino", "phone", "0373 1", "email", "x@y.it")
	wantStatus(t, resp, http.StatusNotFound)
	var phone string
	e.db.Pool.QueryRow(context.Background(), `SELECT phone FROM offices WHERE code = 'sportello-soncino'`).Scan(&phone)
	if phone != "" {
		t.Fatal("an operatore changed an office outside their scope")
	}

	resp, body = op.get("/backoffice/sedi/sportello-crema")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `name="hours-1-1-from" value="09:00"`, `name="hours-3-2-from" value="14:00"`, `name="hours-6-1-from" value=""`)
	form := url.Values{"phone": {"0373  218600"}, "email": {"crema@comunitasocialecremasca.it"},
		"hours-1-1-from": {"09:00"}, "hours-1-1-to": {"12:30"}, "hours-2-1-from": {"09:00"}, "hours-2-1-to": {"12:30"},
		"hours-2-2-from": {"14:00"}, "hours-2-2-to": {"16:00"}, "hours-4-1-from": {"9:00"}, "hours-4-1-to": {"12:30"}}
	resp, _ = op.do("POST", "/backoffice/sedi/sportello-crema", form)
	wantRedirect(t, resp, "/backoffice/sedi")
	_, body = op.get("/backoffice/sedi")
	wantContains(t, body, "Modifiche salvate.", `<span dir="ltr">0373 218600</span>`)
	_, body = e.client(t).get("/sedi")
	wantContains(t, body, "0373 218600", "crema@comunitasocialecremasca.it", "lunedì, martedì, giovedì: <span dir=\"ltr\">09:00–12:30", "martedì: <span dir=\"ltr\">14:00–16:00")

	co := e.signIn(t, clk, e.newStaff(t, "coord", "coordinatore"))
	_, body = co.get("/backoffice/sedi")
	if n := strings.Count(body, `href="/backoffice/sedi/sportello-`); n != 6 {
		t.Errorf("coordinatore sees %d sportelli, want 6", n)
	}
	resp, _ = co.post("/backoffice/sedi/sportello-soncino", "phone", "0374 85000")
	wantRedirect(t, resp, "/backoffice/sedi")

	// Admin pages refuse an operatore, for reading and for writing.
	resp, body = op.get("/backoffice/utenti")
	wantStatus(t, resp, http.StatusForbidden)
	wantContains(t, body, "Accesso non consentito")
	resp, _ = op.post("/backoffice/utenti/nuovo", "username", "intruso", "full_name", "Intruso", "role", "admin")
	wantStatus(t, resp, http.StatusForbidden)
	resp, _ = co.get("/backoffice/utenti")
	wantStatus(t, resp, http.StatusForbidden)
}

// Bad input comes back with 422, a message next to each wrong field, and everything that was typed.
func TestStaffOfficeValidation(t *testing.T) {
	e, clk := newStaffEnv(t)
	c := e.signIn(t, clk, e.newStaff(t, "op.castelleone", "operatore", "castelleone"))
	form := url.Values{"phone": {"chiamaci"}, "email": {"sportello@comune"},
		"hours-1-1-from": {"12:00"}, "hours-1-1-to": {"09:00"}, // closes before it opens
		"hours-2-1-from": {"09:00"},                                                                                    // no closing time
		"hours-3-1-from": {"09:00"}, "hours-3-1-to": {"12:00"}, "hours-3-2-from": {"11:00"}, "hours-3-2-to": {"13:00"}, // overlap
		"hours-4-1-from": {"25:00"}, "hours-4-1-to": {"26:00"}}
	resp, body := c.do("POST", "/backoffice/sedi/sportello-castelleone", form)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Alcuni dati non vanno bene", `value="chiamaci"`, `value="sportello@comune"`,
		"Scrivi un numero di telefono valido", "Scrivi un indirizzo e-mail valido",
		"L&#39;ora di chiusura deve venire dopo", "Indica sia l&#39;ora di apertura", "La seconda fascia deve cominciare",
		"Scrivi l&#39;ora nel formato", `id="phone" name="phone"`, `aria-describedby="phone-hint phone-error" aria-invalid="true"`,
		`aria-describedby="hours-3-2-error"`, `name="hours-1-1-from" value="12:00"`)
	var phone string
	e.db.Pool.QueryRow(context.Background(), `SELECT phone FROM offices WHERE code = 'sportello-castelleone'`).Scan(&phone)
	if phone != "" {
		t.Error("invalid form was saved")
	}
	// Empty contacts and no hours are allowed ("by appointment only").
	resp, _ = c.post("/backoffice/sedi/sportello-castelleone", "phone", "", "email", "")
	wantRedirect(t, resp, "/backoffice/sedi")
	_, body = e.client(t).get("/sedi")
	wantContains(t, body, "Solo su appuntamento")
}

func TestStaffCrossOriginPostsAreRefused(t *testing.T) {
	e, clk := newStaffEnv(t)
	c := e.signIn(t, clk, e.newStaff(t, "op.sergnano", "operatore", "sergnano"))
	c.headers["Sec-Fetch-Site"] = "cross-site"
	resp, body := c.post("/backoffice/sedi/sportello-sergnano", "phone", "0373 456789")
	wantStatus(t, resp, http.StatusForbidden)
	wantContains(t, body, "Richiesta non consentita")
	resp, _ = c.post("/backoffice/esci")
	wantStatus(t, resp, http.StatusForbidden)
	resp, _ = e.client(t).do("POST", "/backoffice/accesso", url.Values{"username": {"x"}}) // control: same client without the header
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	delete(c.headers, "Sec-Fetch-Site")
	resp, _ = c.get("/backoffice")
	wantStatus(t, resp, http.StatusOK) // still signed in
}

// Admins create accounts (one-time password shown once), change role and scope, reset TOTP, unlock, disable.
func TestStaffAdminManagesAccounts(t *testing.T) {
	e, clk := newStaffEnv(t)
	adminAcc := e.newStaff(t, "capo", "admin")
	admin := e.signIn(t, clk, adminAcc)

	resp, body := admin.get("/backoffice/utenti/nuovo")
	wantStatus(t, resp, http.StatusOK)
	resp, body = admin.post("/backoffice/utenti/nuovo", "username", "X", "full_name", "", "role", "operatore")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Il nome utente deve avere", "Scrivi nome e cognome", "almeno un sub-ambito", `value="x"`)
	resp, _ = admin.post("/backoffice/utenti/nuovo", "username", "capo", "full_name", "Doppione", "role", "admin")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	resp, _ = admin.post("/backoffice/utenti/nuovo", "username", "nuova.collega", "full_name", "Nuova  Collega",
		"role", "operatore", "scope", "crema", "scope", "soncino")
	wantStatus(t, resp, http.StatusSeeOther)
	userURL := resp.Header.Get("Location")
	_, body = admin.get(userURL)
	m := regexp.MustCompile(`id="one-time-password" dir="ltr">([A-Z2-7]{26})<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("one-time password not shown")
	}
	wantContains(t, body, "Utente creato.", "Nuova Collega")
	_, again := admin.get(userURL)
	if strings.Contains(again, m[1]) {
		t.Error("one-time password shown twice")
	}
	_, list := admin.get("/backoffice/utenti")
	wantContains(t, list, "nuova.collega", "Crema, Soncino", "App di autenticazione da attivare")

	// The new colleague: one-time password, enrolment, then a password of their own before anything else.
	var id int64
	e.db.Pool.QueryRow(context.Background(), `SELECT id FROM staff_users WHERE username = 'nuova.collega'`).Scan(&id)
	coll := &staffAccount{id: id, username: "nuova.collega", password: m[1]}
	cc := e.signIn(t, clk, coll)
	resp, _ = cc.get("/backoffice/sedi")
	wantRedirect(t, resp, "/backoffice/password")
	resp, body = cc.post("/backoffice/password", "current", coll.password, "new", "corta", "confirm", "corta")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "almeno 12 caratteri")
	resp, _ = cc.post("/backoffice/password", "current", coll.password, "new", "la mia frase segreta", "confirm", "la mia frase segreta")
	wantRedirect(t, resp, "/backoffice")
	coll.password = "la mia frase segreta"
	resp, _ = cc.get("/backoffice/sedi")
	wantStatus(t, resp, http.StatusOK)

	// Role and scope: takes effect on the colleague's next request.
	resp, _ = admin.post(userURL+"/ruolo", "role", "coordinatore")
	wantRedirect(t, resp, userURL)
	_, body = cc.get("/backoffice")
	wantContains(t, body, "Coordinatore", "Tutto il Distretto di Crema")

	// TOTP reset: the colleague is signed out and enrols again at the next sign-in.
	resp, _ = admin.post(userURL + "/totp")
	wantRedirect(t, resp, userURL)
	resp, _ = cc.get("/backoffice")
	wantRedirect(t, resp, "/backoffice/accesso")
	c2 := e.client(t)
	resp, _ = c2.post("/backoffice/accesso", "username", coll.username, "password", coll.password)
	wantRedirect(t, resp, "/backoffice/accesso/attivazione")

	// Unlock after failures.
	for i := 0; i < 3; i++ {
		c2.post("/backoffice/accesso", "username", coll.username, "password", "sbagliata")
	}
	_, body = admin.get(userURL)
	wantContains(t, body, "Tentativi di accesso non riusciti nell&#39;ultima ora: 3.")
	resp, _ = admin.post(userURL + "/sblocca")
	wantRedirect(t, resp, userURL)
	if n, _ := e.attempts(t, id); n != 0 {
		t.Errorf("failures after unlock: %d", n)
	}

	// Disable: sessions end and sign-in fails like a wrong password; enable again.
	c3 := e.signIn(t, clk, coll)
	resp, _ = admin.post(userURL + "/disattiva")
	wantRedirect(t, resp, userURL)
	resp, _ = c3.get("/backoffice")
	wantRedirect(t, resp, "/backoffice/accesso")
	resp, body = e.client(t).post("/backoffice/accesso", "username", coll.username, "password", coll.password)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Nome utente o password non corretti")
	resp, _ = admin.post(userURL + "/riattiva")
	wantRedirect(t, resp, userURL)
	e.signIn(t, clk, coll)

	// An admin cannot demote or disable themselves.
	self := "/backoffice/utenti/" + strconv.FormatInt(adminAcc.id, 10)
	resp, body = admin.post(self+"/ruolo", "role", "operatore", "scope", "crema")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Non puoi cambiare il ruolo")
	resp, _ = admin.post(self + "/disattiva")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	resp, _ = admin.get("/backoffice/utenti/999999")
	wantStatus(t, resp, http.StatusNotFound)
}

// Signing in as someone else from a signed-in session ends the first sign-in at the password step.
func TestStaffSignInAsAnotherEndsTheFirstSession(t *testing.T) {
	e, clk := newStaffEnv(t)
	a := e.newStaff(t, "prima.persona", "admin")
	b := e.newStaff(t, "seconda.persona", "operatore", "crema")
	c := e.signIn(t, clk, a)
	first := c.cookie(portal.StaffSessionCookie)
	resp, _ := c.post("/backoffice/accesso", "username", b.username, "password", b.password)
	wantRedirect(t, resp, "/backoffice/accesso/attivazione")
	resp, _ = c.get("/backoffice/utenti")
	wantRedirect(t, resp, "/backoffice/accesso")
	if n, _ := e.srv.Redis.Exists(context.Background(), e.prefix+"staff:"+first).Result(); n != 0 {
		t.Error("the first session still exists")
	}
}

// Admins see the notifications that could not be delivered (dead after the last attempt), masked; others cannot.
func TestStaffAdminSeesDeadDeliveries(t *testing.T) {
	e, clk := newStaffEnv(t)
	ctx := context.Background()
	if _, err := e.db.Pool.Exec(ctx, `INSERT INTO notifications (kind, channel, recipient, lang, data, status, attempts, last_error)
		VALUES ('case_news', 'email', 'giulia.verdi@example.org', 'it', '{}', 'dead', 8, 'smtp_550')`); err != nil {
		t.Fatal(err)
	}
	admin := e.signIn(t, clk, e.newStaff(t, "admin.test", "admin"))
	resp, body := admin.get("/backoffice/notifiche")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "non consegnata", "smtp_550", "case_news")
	if strings.Contains(body, "giulia.verdi@example.org") {
		t.Error("recipient shown unmasked")
	}
	op := e.signIn(t, clk, e.newStaff(t, "op.test", "operatore", "crema"))
	resp, _ = op.get("/backoffice/notifiche")
	wantStatus(t, resp, http.StatusForbidden)
}
