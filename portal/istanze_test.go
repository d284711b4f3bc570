package portal_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// Fiscal codes of the people in these tests (valid check characters).
const (
	cfAnna   = "BNCLRA80A41D142V" // applies for her father
	cfMario  = "RSSMRA85T10A562S" // the beneficiary, born 10/12/1985
	cfGiusy  = "VRDGPP75C12D142Z" // a stranger
	cfElena  = "NRELSN90E50D142A"
	applyFNA = "/misure/fna-misura-b2/domanda"
)

// journeyNow is inside the demo FNA B2 call (seeded 2026-11-20, open from 14 days before for two months).
var journeyNow = time.Date(2026, 11, 23, 10, 0, 0, 0, i18n.Rome)

// fnaSteps are the answers of an adult's FNA B2 application, step by step: Anna applies for her son Mario.
func fnaSteps() []struct {
	step   string
	values url.Values
} {
	return []struct {
		step   string
		values url.Values
	}{
		{"applicant", url.Values{"on_behalf": {"yes"}, "relationship": {"parent"}}},
		{"beneficiary", url.Values{"first_name": {"Mario"}, "last_name": {"Rossi"}, "beneficiary_cf": {strings.ToLower(cfMario)}, "birth_date": {"10/12/1985"}}},
		{"residence", url.Values{"comune": {"rivolta d adda"}, "address": {"Via Roma 1"}, "cap": {"26027"}, "lives_at_home": {"yes"}}},
		{"category", url.Values{"category": {"disabili_adulti"}, "certification": {"l104_art3_c3"}}},
		{"isee", url.Values{"isee_type": {"socio_sanitario"}, "isee": {"12.345,67"}, "dsu_date": {"15/01/2026"}}},
		{"intervention", url.Values{"intervention": {"caregiver_familiare"}}},
		{"payment", url.Values{"iban": {"IT60 X054 2811 1010 0000 0123 456"}, "account_holder": {"Anna Bianchi"}}},
		{"declarations", url.Values{"self_declaration": {"yes"}, "privacy": {"yes"}}},
	}
}

// citizen signs a resident in with an e-mail code on a new client (first sign-in: the fiscal code is asked once).
func (e *env) citizen(t *testing.T, email, cf string) *client {
	t.Helper()
	c := e.client(t)
	code := requestCode(t, e, c, email, 1)
	resp, _ := c.do("POST", "/accesso/email/codice", url.Values{"code": {code}})
	wantRedirect(t, resp, "/accesso/codice-fiscale")
	name := strings.Split(email, "@")[0]
	resp, _ = c.post("/accesso/codice-fiscale", "fiscal_code", cf, "given_name", strings.ToUpper(name[:1])+name[1:],
		"family_name", "Test", "privacy", "yes")
	wantStatus(t, resp, http.StatusSeeOther)
	return c
}

// mailContaining waits for an e-mail to addr whose text contains want, and returns it decoded.
func (e *env) mailContaining(t *testing.T, addr, want string) testenv.ParsedMail {
	t.Helper()
	var found testenv.ParsedMail
	testenv.WaitFor(t, 15*time.Second, "an e-mail to "+addr+" about "+want, func() error {
		for _, m := range e.mail.Messages() {
			if len(m.To) == 1 && m.To[0] == addr {
				if pm := testenv.ParseMail(t, m.Raw); strings.Contains(pm.Text, want) {
					found = pm
					return nil
				}
			}
		}
		return fmt.Errorf("%d e-mails so far", len(e.mail.Messages()))
	})
	return found
}

var startKeyRe = regexp.MustCompile(`name="key" value="([A-Z2-7]{26})"`)

// startDraft opens a new FNA B2 draft and returns its path (/pratiche/N).
func startDraft(t *testing.T, c *client) string {
	t.Helper()
	resp, body := c.get(applyFNA)
	wantStatus(t, resp, http.StatusOK)
	m := startKeyRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the apply page has no start form")
	}
	resp, _ = c.post(applyFNA, "key", m[1])
	wantStatus(t, resp, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	if !strings.HasSuffix(loc, "/passo/applicant") {
		t.Fatalf("start went to %q", loc)
	}
	// a double click (the same key again) opens the same draft
	resp, _ = c.post(applyFNA, "key", m[1])
	if resp.Header.Get("Location") != loc {
		t.Fatalf("the same start key opened %q, then %q", loc, resp.Header.Get("Location"))
	}
	return strings.TrimSuffix(loc, "/passo/applicant")
}

// fillSteps posts every step with valid answers, checking each goes on to the next page.
func fillSteps(t *testing.T, c *client, app string) {
	t.Helper()
	for _, s := range fnaSteps() {
		v := s.values
		v.Set("action", "next")
		v.Set("shown", strings.Join(keys(v), " "))
		resp, body := c.do("POST", app+"/passo/"+s.step, v)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("step %s: status %d\n%s", s.step, resp.StatusCode, body)
		}
	}
}

func keys(v url.Values) []string {
	var out []string
	for k := range v {
		out = append(out, k)
	}
	return out
}

// upload posts a file for a document type.
func (c *client) upload(app, docType, name string, content []byte) (*http.Response, string) {
	c.t.Helper()
	return c.uploadTo(app+"/documenti", docType, name, content)
}

// uploadTo posts a file (and a document type, when given) as a multipart form to path.
func (c *client) uploadTo(path, docType, name string, content []byte) (*http.Response, string) {
	c.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if docType != "" {
		w.WriteField("doc_type", docType) //nolint:errcheck
	}
	fw, _ := w.CreateFormFile("file", name)
	fw.Write(content) //nolint:errcheck
	w.Close()
	req, _ := http.NewRequest("POST", "http://127.0.0.1:8080"+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	for _, ck := range c.jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	return c.send(req)
}

// pdf is a small, real PDF document.
func pdf(text string) []byte {
	return []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n% " +
		text + "\ntrailer<</Root 1 0 R>>\n%%EOF\n")
}

// fnaDocuments are the documents Anna's answers call for.
var fnaDocuments = []string{"identity_document", "beneficiary_identity_document", "isee_attestation", "disability_certificate"}

func uploadAll(t *testing.T, c *client, app string) {
	t.Helper()
	for _, d := range fnaDocuments {
		resp, body := c.upload(app, d, d+".pdf", pdf(d))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("upload %s: status %d\n%s", d, resp.StatusCode, body)
		}
	}
}

var protocolRe = regexp.MustCompile(`CSC-2026-\d{6}`)

func TestApplicationJourneyFromStartToReceipt(t *testing.T) {
	e := newEnv(t, withMail(), withNow(func() time.Time { return journeyNow }))
	anna := e.citizen(t, "anna@example.org", cfAnna)

	// the measure's page offers to apply while the call is open
	_, body := anna.get("/misure/fna-misura-b2")
	wantContains(t, body, `href="`+applyFNA+`"`)
	app := startDraft(t, anna)

	// A question that depends on an answer on the same page appears without being called a mistake.
	resp, body := anna.do("POST", app+"/passo/applicant", url.Values{"on_behalf": {"yes"}, "shown": {"on_behalf"}, "action": {"next"}})
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `name="relationship"`)
	if strings.Contains(body, "is-invalid") {
		t.Error("the newly shown question is marked as an error")
	}

	// Bad input: every problem explained, every value kept; going back keeps what was typed.
	resp, body = anna.do("POST", app+"/passo/payment", url.Values{"iban": {"IT60 X054 2811 1010 0000 0123 457"}, "account_holder": {""},
		"shown": {"iban account_holder"}, "action": {"next"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `value="IT60 X054 2811 1010 0000 0123 457"`, "L&#39;IBAN non è corretto", `aria-invalid="true"`)
	resp, _ = anna.do("POST", app+"/passo/payment", url.Values{"iban": {"IT60 X054 2811 1010 0000 0123 457"}, "action": {"back"}})
	wantRedirect(t, resp, app+"/passo/intervention")
	_, body = anna.get(app + "/passo/payment")
	wantContains(t, body, `value="IT60 X054 2811 1010 0000 0123 457"`)

	// Leave and resume: the draft is listed in "Le mie pratiche" and keeps the answers.
	fillSteps(t, anna, app)
	// the draft keeps its comune and sub-ambito from the residence step on (submitting leaves them as they are)
	if n := e.countRows(t, `SELECT count(*) FROM applications WHERE id = $1 AND comune = 'rivolta-d-adda' AND sub_ambito IS NOT NULL`,
		strings.TrimPrefix(app, "/pratiche/")); n != 1 {
		t.Errorf("the draft has no comune after the residence step")
	}
	_, body = anna.get("/pratiche")
	wantContains(t, body, `href="`+app+`"`, "Bozze da completare")
	_, body = anna.get(app + "/passo/beneficiary")
	wantContains(t, body, `value="Mario"`, `value="10/12/1985"`)

	// The summary lists what is missing, with links, and cannot be submitted yet.
	_, body = anna.get(app + "/riepilogo")
	wantContains(t, body, "manca il documento", "Rivolta d&#39;Adda", "Adulti con disabilità grave", app+"/passo/isee?ritorno=riepilogo")
	resp, _ = anna.do("POST", app+"/invia", url.Values{})
	wantStatus(t, resp, http.StatusUnprocessableEntity)

	uploadAll(t, anna, app)
	_, body = anna.get(app + "/riepilogo")
	wantContains(t, body, `action="`+app+`/invia"`, "12.345,67")

	// Submit twice (a double click): one application, one protocol number, one confirmation.
	resp, _ = anna.do("POST", app+"/invia", url.Values{})
	wantRedirect(t, resp, app+"?inviata=1")
	resp, _ = anna.do("POST", app+"/invia", url.Values{})
	wantRedirect(t, resp, app)
	_, body = anna.get(app + "?inviata=1")
	protocol := protocolRe.FindString(body)
	if protocol == "" {
		t.Fatalf("no protocol number on the application's page:\n%s", body)
	}
	wantContains(t, body, "Domanda inviata", "Domanda ricevuta", app+"/ricevuta", "Come è andata?")
	var n int
	e.db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM applications WHERE protocol IS NOT NULL`).Scan(&n) //nolint:errcheck
	if n != 1 {
		t.Errorf("%d submitted applications, want 1", n)
	}
	mail := e.mailContaining(t, "anna@example.org", protocol)
	wantContains(t, mail.Subject, "Domanda ricevuta")

	// The receipt is a PDF download.
	resp, body = anna.get(app + "/ricevuta")
	wantStatus(t, resp, http.StatusOK)
	if !strings.HasPrefix(body, "%PDF-") || resp.Header.Get("Content-Type") != "application/pdf" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("receipt: %q %q %q", resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), body[:min(8, len(body))])
	}

	// A submitted application can no longer be changed.
	resp, _ = anna.do("POST", app+"/passo/payment", url.Values{"iban": {"IT60X0542811101000000123456"}, "action": {"next"}})
	wantRedirect(t, resp, app)

	// Satisfaction rating: a missing score is explained and the comment kept; then it is recorded.
	resp, body = anna.post(app+"/valutazione", "comment", "Chiaro")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Scegli un punteggio", ">Chiaro</textarea>")
	resp, _ = anna.post(app+"/valutazione", "score", "5", "comment", "Chiaro")
	wantRedirect(t, resp, app+"?valutata=1#valutazione")
	_, body = anna.get(app)
	wantContains(t, body, `value="5" checked`)

	// The beneficiary, signing in with his own fiscal code, sees it too — but cannot change it.
	mario := e.citizen(t, "mario@example.org", cfMario)
	_, body = mario.get("/pratiche")
	wantContains(t, body, protocol, "presentata per te da")
	resp, _ = mario.get(app)
	wantStatus(t, resp, http.StatusOK)
	resp, _ = mario.get(app + "/ricevuta")
	wantStatus(t, resp, http.StatusOK)
	resp, _ = mario.post(app + "/invia")
	wantStatus(t, resp, http.StatusNotFound)
}

func TestOthersCannotReachAnApplication(t *testing.T) {
	e := newEnv(t, withMail(), withNow(func() time.Time { return journeyNow }))
	anna := e.citizen(t, "anna@example.org", cfAnna)
	app := startDraft(t, anna)
	fillSteps(t, anna, app)
	uploadAll(t, anna, app)
	var fileID int64
	e.db.Pool.QueryRow(t.Context(), `SELECT min(id) FROM attachments`).Scan(&fileID) //nolint:errcheck
	file := fmt.Sprintf("%s/documenti/%d", app, fileID)
	resp, body := anna.get(file)
	wantStatus(t, resp, http.StatusOK)
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
		!strings.HasPrefix(body, "%PDF-") {
		t.Errorf("download headers: %v", resp.Header)
	}

	giusy := e.citizen(t, "giusy@example.org", cfGiusy)
	// The draft: not the beneficiary's either while it is a draft.
	mario := e.citizen(t, "mario@example.org", cfMario)
	for _, who := range []*client{giusy, mario} {
		for _, path := range []string{app, app + "/passo/applicant", app + "/documenti", file, app + "/riepilogo", app + "/ricevuta"} {
			resp, _ := who.get(path)
			wantStatus(t, resp, http.StatusNotFound)
		}
		for _, path := range []string{app + "/passo/applicant", app + "/invia", app + "/elimina", file + "/elimina", app + "/valutazione"} {
			resp, _ := who.post(path, "score", "1")
			wantStatus(t, resp, http.StatusNotFound)
		}
		resp, _ := who.upload(app, "identity_document", "x.pdf", pdf("intruder"))
		wantStatus(t, resp, http.StatusNotFound)
	}
	resp, _ = anna.post(app + "/invia")
	wantStatus(t, resp, http.StatusSeeOther)
	// Submitted: still nothing for a stranger.
	for _, path := range []string{app, file, app + "/ricevuta"} {
		resp, _ := giusy.get(path)
		wantStatus(t, resp, http.StatusNotFound)
	}
	_, body = giusy.get("/pratiche")
	if protocolRe.MatchString(body) {
		t.Error("a stranger's list shows someone else's application")
	}
	// A file of another application is not reachable through one's own application's URL.
	elena := e.citizen(t, "elena@example.org", cfElena)
	own := startDraft(t, elena)
	resp, _ = elena.get(fmt.Sprintf("%s/documenti/%d", own, fileID))
	wantStatus(t, resp, http.StatusNotFound)
}

func TestUploadsAreCheckedAndExplained(t *testing.T) {
	e := newEnv(t, withMail(), withNow(func() time.Time { return journeyNow }),
		withVar("DOCUMENTS_MAX_FILE", "64KB"), withVar("DOCUMENTS_MAX_APPLICATION", "100KB"))
	anna := e.citizen(t, "anna@example.org", cfAnna)
	app := startDraft(t, anna)
	fillSteps(t, anna, app)
	cases := []struct {
		name, file string
		content    []byte
		want       string
	}{
		{"empty file", "vuoto.pdf", nil, "vuoto"},
		{"executable renamed to .pdf", "fattura.pdf", append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), make([]byte, 2000)...), "PDF"},
		{"oversize", "grande.pdf", append(pdf("big"), bytes.Repeat([]byte("x"), 70<<10)...), "64 KB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := anna.upload(app, "isee_attestation", tc.file, tc.content)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, body, tc.want, `id="file-isee_attestation-error"`)
		})
	}
	// per application: 60 KB + 60 KB is over 100 KB
	chunk := append(pdf("a"), bytes.Repeat([]byte("y"), 60<<10)...)
	resp, _ := anna.upload(app, "isee_attestation", "a.pdf", chunk)
	wantStatus(t, resp, http.StatusSeeOther)
	resp, body := anna.upload(app, "identity_document", "b.pdf", chunk)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "100 KB")
	var n int
	e.db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM attachments`).Scan(&n) //nolint:errcheck
	if n != 1 {
		t.Errorf("%d attachments stored, want 1", n)
	}
	// The same page in Arabic explains it in Arabic.
	anna.headers["Accept-Language"] = "ar"
	anna.post("/lingua", "lang", "ar")
	resp, body = anna.upload(app, "identity_document", "vuoto.pdf", nil)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `dir="rtl"`)
}

func TestCallClosedWhileTheFormWasOpen(t *testing.T) {
	now := journeyNow
	var mu sync.Mutex
	e := newEnv(t, withMail(), withNow(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }))
	anna := e.citizen(t, "anna@example.org", cfAnna)
	app := startDraft(t, anna)
	fillSteps(t, anna, app)
	uploadAll(t, anna, app)
	// staff close the call while Anna is on the summary
	var closes time.Time
	e.db.Pool.QueryRow(t.Context(), `UPDATE calls SET closes_at = $1 WHERE measure = 'fna-b2' RETURNING closes_at`, journeyNow.Add(time.Minute)).Scan(&closes) //nolint:errcheck
	mu.Lock()
	now = closes.Add(time.Second)
	mu.Unlock()
	resp, body := anna.post(app + "/invia")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "l&#39;avviso si è chiuso", "restano salvate")
	var status string
	e.db.Pool.QueryRow(t.Context(), `SELECT status FROM applications`).Scan(&status) //nolint:errcheck
	if status != "draft" {
		t.Errorf("status %q after a refused submission", status)
	}
	// the draft is kept and can be read
	_, body = anna.get(app + "/passo/beneficiary")
	wantContains(t, body, `value="Mario"`)
	// a new application cannot start
	_, body = anna.get(applyFNA)
	if strings.Contains(body, `name="key"`) {
		t.Error("a closed call offers to start an application")
	}
}

func TestConcurrentSubmitsMakeOneApplicationAndGaplessProtocols(t *testing.T) {
	e := newEnv(t, withMail(), withNow(func() time.Time { return journeyNow }), withVar("FORM_RATE_LIMIT", "100000"))
	anna := e.citizen(t, "anna@example.org", cfAnna)
	app := startDraft(t, anna)
	fillSteps(t, anna, app)
	uploadAll(t, anna, app)
	var wg sync.WaitGroup
	codes := make(chan int, 10)
	for range 10 {
		wg.Go(func() {
			resp, _ := anna.post(app + "/invia")
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusSeeOther {
			t.Errorf("a concurrent submit answered %d", code)
		}
	}
	var apps, events, outbox int
	var protocol string
	ctx := context.Background()
	e.db.Pool.QueryRow(ctx, `SELECT count(*), min(protocol) FROM applications WHERE status = 'submitted'`).Scan(&apps, &protocol)         //nolint:errcheck
	e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM application_events WHERE kind = 'submitted'`).Scan(&events)                             //nolint:errcheck
	e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE kind = 'application_received' AND channel = 'email'`).Scan(&outbox) //nolint:errcheck
	if apps != 1 || events != 1 || outbox != 1 || protocol != "CSC-2026-000001" {
		t.Errorf("%d applications (%s), %d events, %d confirmations; want one of each, CSC-2026-000001", apps, protocol, events, outbox)
	}
	// The next application of the year gets the next number; the same beneficiary twice in a call is refused.
	elena := e.citizen(t, "elena@example.org", cfElena)
	second := startDraft(t, elena)
	fillSteps(t, elena, second)
	uploadAll(t, elena, second)
	resp, body := elena.post(second + "/invia")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "è già stata presentata una domanda")
	elena.do("POST", second+"/passo/beneficiary", url.Values{"first_name": {"Luca"}, "last_name": {"Rossi"},
		"beneficiary_cf": {"FRRGNN40A01D142V"}, "birth_date": {"01/01/1940"}, "action": {"next"}})
	elena.do("POST", second+"/passo/category", url.Values{"category": {"anziani"}, "certification": {"accompagnamento"}, "action": {"next"}})
	resp, _ = elena.post(second + "/invia")
	wantStatus(t, resp, http.StatusSeeOther)
	_, body = elena.get(second)
	wantContains(t, body, "CSC-2026-000002")
}
