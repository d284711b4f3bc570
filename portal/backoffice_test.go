package portal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// submitted has Anna submit her FNA B2 application for Mario (Rivolta d'Adda: sub-ambito Pandino) and returns
// its path (/pratiche/N) and protocol number.
func submitted(t *testing.T, e *env, anna *client) (string, string) {
	t.Helper()
	app := startDraft(t, anna)
	fillSteps(t, anna, app)
	uploadAll(t, anna, app)
	resp, _ := anna.do("POST", app+"/invia", url.Values{})
	wantRedirect(t, resp, app+"?inviata=1")
	var protocol string
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT protocol FROM applications WHERE id = $1`,
		strings.TrimPrefix(app, "/pratiche/")).Scan(&protocol); err != nil {
		t.Fatal(err)
	}
	return app, protocol
}

// staffCase is the back office's address of a resident's application.
func staffCase(app string) string {
	return "/backoffice/pratiche/" + strings.TrimPrefix(app, "/pratiche/")
}

// countRows counts rows with a query of the test's database.
func (e *env) countRows(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(t.Context(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The whole loop: the operator takes the next application, asks for a document; the resident follows the
// notification's link, is told what is missing, uploads it and answers; the application is back in the queue,
// flagged; the operator admits it. The resident is notified at every step, in their language, and reads the
// date taken in charge, the deadline (moved on by the days the office waited) and the decision.
func TestBackOfficeTakeRequestAnswerDecide(t *testing.T) {
	e, clk := newStaffEnv(t, withMail(), withVar("SESSION_MAX", "240h")) // the resident stays signed in for days
	anna := e.citizen(t, "anna@example.org", cfAnna)
	app, protocol := submitted(t, e, anna)
	acct := e.newStaff(t, "op.pandino", "operatore", "pandino")
	op := e.signIn(t, clk, acct)
	kase := staffCase(app)

	// the queue lists it, unassigned, with the count per status
	resp, body := op.get("/backoffice/pratiche")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, protocol, "Non assegnata", `href="`+kase+`"`)

	// take next: assigned, in review, deadline 30 days on; the resident is told
	resp, _ = op.post("/backoffice/pratiche/prossima")
	wantRedirect(t, resp, kase)
	resp, body = op.get(kase)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "In istruttoria", "Persona op.pandino", "23 dicembre 2026", "Chiedi documenti o informazioni")
	if n := e.countRows(t, `SELECT count(*) FROM notifications WHERE kind = 'case_news' AND channel = 'inbox'`); n != 1 {
		t.Fatalf("%d case_news after taking in charge, want 1", n)
	}
	_, body = anna.get(app)
	wantContains(t, body, "Presa in carico dall&#39;ufficio", "23 dicembre 2026")

	// nothing else is waiting
	resp, _ = op.post("/backoffice/pratiche/prossima")
	wantRedirect(t, resp, "/backoffice/pratiche")

	// a request without a message is explained, the ticked document kept
	resp, body = op.post(kase+"/richiesta", "doc_type", "isee_attestation")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `id="req-isee_attestation" name="doc_type" value="isee_attestation" checked`, `id="request-message-error"`)
	clk.add(3 * 24 * time.Hour) // three days later the request goes out (a new day, a new session)
	op = e.signIn(t, clk, acct)
	resp, _ = op.post(kase+"/richiesta", "doc_type", "isee_attestation", "message", "Serve l'ISEE aggiornato al 2026.")
	wantRedirect(t, resp, kase)

	// the resident's notification links straight to the answer page
	mail := e.mailContaining(t, "anna@example.org", "/pratiche/"+strings.TrimPrefix(app, "/pratiche/")+"/richiesta")
	if strings.Contains(mail.Text, "ISEE aggiornato") {
		t.Error("the e-mail carries the office's message: it must only say there is news")
	}
	_, body = anna.get(app)
	wantContains(t, body, "In attesa di tue integrazioni", "Serve l&#39;ISEE aggiornato al 2026.", `href="`+app+`/richiesta"`)
	resp, body = anna.get(app + "/richiesta")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Serve l&#39;ISEE aggiornato al 2026.", `id="file-isee_attestation"`)

	// answering without the document: told which one, the typed answer kept
	resp, body = anna.post(app+"/richiesta", "answer", "Eccolo")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `id="file-isee_attestation-error"`, ">Eccolo</textarea>")
	// a file of the wrong kind is refused; a document type not requested is a bad request
	resp, body = anna.uploadTo(app+"/richiesta/documenti", "isee_attestation", "isee.pdf", []byte("MZ\x90\x00 not a pdf"))
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `id="file-isee_attestation-error"`)
	resp, _ = anna.uploadTo(app+"/richiesta/documenti", "identity_document", "id.pdf", pdf("id"))
	wantStatus(t, resp, http.StatusBadRequest)
	resp, _ = anna.uploadTo(app+"/richiesta/documenti", "isee_attestation", "isee-2026.pdf", pdf("isee 2026"))
	wantRedirect(t, resp, app+"/richiesta#doc-isee_attestation")
	clk.add(2 * 24 * time.Hour) // two days later she answers
	resp, _ = anna.post(app+"/richiesta", "answer", "Eccolo")
	wantRedirect(t, resp, app+"?risposta=1")
	_, body = anna.get(app + "?risposta=1")
	wantContains(t, body, "la pratica è tornata all&#39;ufficio", "In istruttoria", "isee-2026.pdf")
	// the request is answered: its page sends her back, uploads are closed
	resp, _ = anna.get(app + "/richiesta")
	wantRedirect(t, resp, app)

	// back in the queue, flagged; the deadline moved on by the two days the request stayed open
	op = e.signIn(t, clk, acct)
	_, body = op.get("/backoffice/pratiche?risposte=1&assegnata=me")
	wantContains(t, body, protocol, "Risposta del cittadino", "Risposte dei cittadini da leggere: 1")
	resp, body = op.get(kase)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Eccolo", "isee-2026.pdf", "inviato su richiesta", "25 dicembre 2026")
	_, body = op.get("/backoffice/pratiche?risposte=1&assegnata=me")
	wantContains(t, body, "Nessuna pratica con questi filtri.")

	// the staff download of the new file is audited
	var fileID string
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT id::text FROM attachments WHERE file_name = 'isee-2026.pdf'`).Scan(&fileID); err != nil {
		t.Fatal(err)
	}
	resp, body = op.get(kase + "/allegati/" + fileID)
	wantStatus(t, resp, http.StatusOK)
	if !strings.HasPrefix(body, "%PDF-") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("the staff download is not the file, as an attachment")
	}

	// decisions: not admitted needs a reason; admitted takes the amount the call grants
	resp, body = op.post(kase+"/decisione", "outcome", "not_admitted", "reason", "")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `id="reason-error"`, `id="outcome-not_admitted" name="outcome" value="not_admitted" checked`)
	resp, body = op.post(kase+"/decisione", "outcome", "admitted", "amount", "quattrocento", "period", "month", "months", "12")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `id="amount-error"`, `value="quattrocento"`)
	resp, _ = op.post(kase+"/decisione", "outcome", "admitted", "amount", "400,00", "period", "month", "months", "12",
		"reason", "Requisiti verificati.")
	wantRedirect(t, resp, kase)
	// deciding again is refused with a clear message, and changes nothing
	resp, body = op.post(kase+"/decisione", "outcome", "not_admitted", "reason", "ripensamento")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "Questa azione non è possibile nello stato attuale della pratica")
	resp, body = op.post(kase + "/pagata")
	wantStatus(t, resp, http.StatusConflict)

	_, body = anna.get(app)
	wantContains(t, body, "Ammessa, in attesa di graduatoria", "Requisiti verificati.", "400,00", "12 mesi")
	// every step wrote its line in the audit log, reads included
	for _, action := range []string{"application.read", "application.status", "document.read"} {
		if n := e.countRows(t, `SELECT count(*) FROM audit_log WHERE action = $1 AND staff_id IS NOT NULL AND ip IS NOT NULL`, action); n == 0 {
			t.Errorf("no audit line for %s", action)
		}
	}
	if n := e.countRows(t, `SELECT count(*) FROM notifications WHERE kind = 'case_news' AND channel = 'inbox'`); n != 4 {
		t.Errorf("%d case_news messages, want 4 (taken, request, answer, decision; none for the refused steps)", n)
	}
}

// Messages go both ways; internal notes never reach the resident; staff of another sub-ambito reach nothing,
// not even by guessing addresses; the beneficiary can read but not act; the resident can withdraw before the
// decision only.
func TestBackOfficeMessagesScopeAndWithdrawal(t *testing.T) {
	e, clk := newStaffEnv(t, withMail())
	anna := e.citizen(t, "anna@example.org", cfAnna)
	app, protocol := submitted(t, e, anna)
	kase := staffCase(app)
	op := e.signIn(t, clk, e.newStaff(t, "op.pandino", "operatore", "pandino"))
	other := e.signIn(t, clk, e.newStaff(t, "op.crema", "operatore", "crema"))
	coord := e.signIn(t, clk, e.newStaff(t, "coord", "coordinatore"))

	// outside the scope: not in the queue, nothing to take, every address 404
	_, body := other.get("/backoffice/pratiche")
	if strings.Contains(body, protocol) {
		t.Error("an operatore of Crema sees an application of Pandino in the queue")
	}
	resp, _ := other.post("/backoffice/pratiche/prossima")
	wantRedirect(t, resp, "/backoffice/pratiche")
	var fileID string
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT min(id)::text FROM attachments`).Scan(&fileID); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{kase, kase + "/allegati/" + fileID} {
		resp, _ = other.get(path)
		wantStatus(t, resp, http.StatusNotFound)
	}
	for _, path := range []string{"/presa-in-carico", "/richiesta", "/decisione", "/pagata", "/messaggi", "/riprendi"} {
		resp, _ = other.post(kase+path, "message", "x", "body", "x", "outcome", "not_admitted", "reason", "x")
		wantStatus(t, resp, http.StatusNotFound)
	}
	if n := e.countRows(t, `SELECT count(*) FROM applications WHERE status <> 'submitted' AND protocol IS NOT NULL`); n != 0 {
		t.Fatal("a request out of scope changed the application")
	}

	// a coordinator assigns it to the Pandino operator (not to the Crema one, who cannot work it)
	resp, body = coord.post(kase+"/assegna", "assignee", "999999")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `id="assignee-error"`)
	var opID, otherID string
	e.db.Pool.QueryRow(t.Context(), `SELECT (SELECT id::text FROM staff_users WHERE username = 'op.pandino'),
		(SELECT id::text FROM staff_users WHERE username = 'op.crema')`).Scan(&opID, &otherID) //nolint:errcheck
	resp, _ = coord.post(kase+"/assegna", "assignee", otherID)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	resp, _ = coord.post(kase+"/assegna", "assignee", opID)
	wantRedirect(t, resp, kase)
	resp, _ = op.post(kase + "/presa-in-carico")
	wantRedirect(t, resp, kase)

	// messages: an empty one is explained; a note stays internal; the resident reads the message and answers
	resp, body = op.post(kase+"/messaggi", "body", " ")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `id="message-error"`)
	resp, _ = op.post(kase+"/messaggi", "body", "Nota: parlato con la figlia", "internal", "1")
	wantRedirect(t, resp, kase+"#messaggi")
	resp, _ = op.post(kase+"/messaggi", "body", "Buongiorno, la pratica è in lavorazione.")
	wantRedirect(t, resp, kase+"#messaggi")
	_, body = anna.get(app)
	wantContains(t, body, "Buongiorno, la pratica è in lavorazione.")
	if strings.Contains(body, "parlato con la figlia") {
		t.Fatal("the resident reads an internal note")
	}
	resp, body = anna.post(app+"/messaggi", "body", "")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `id="message-body-error"`)
	resp, _ = anna.post(app+"/messaggi", "body", "Grazie, resto in attesa.")
	wantRedirect(t, resp, app+"?messaggio=1#messaggi")
	_, body = op.get("/backoffice/pratiche?risposte=1")
	wantContains(t, body, protocol)
	_, body = op.get(kase)
	wantContains(t, body, "Grazie, resto in attesa.", "parlato con la figlia", "nota interna")

	// the office shares a letter; a renamed executable is refused
	resp, body = op.uploadTo(kase+"/documenti", "", "lettera.pdf", []byte("MZ\x90\x00"))
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `id="share-file-error"`)
	resp, _ = op.uploadTo(kase+"/documenti", "", "lettera.pdf", pdf("lettera"))
	wantStatus(t, resp, http.StatusSeeOther)
	_, body = anna.get(app)
	wantContains(t, body, "Documenti inviati dall&#39;ufficio", "lettera.pdf")

	// the beneficiary reads the application and the office's messages but cannot write or withdraw
	mario := e.citizen(t, "mario@example.org", cfMario)
	_, body = mario.get(app)
	wantContains(t, body, "Buongiorno, la pratica è in lavorazione.")
	for _, path := range []string{"/messaggi", "/ritira"} {
		resp, _ = mario.post(app+path, "body", "x", "confirm", "1")
		wantStatus(t, resp, http.StatusNotFound)
	}
	// a stranger reaches nothing
	giusy := e.citizen(t, "giusy@example.org", cfGiusy)
	for _, path := range []string{"", "/richiesta"} {
		resp, _ = giusy.get(app + path)
		wantStatus(t, resp, http.StatusNotFound)
	}
	resp, _ = giusy.post(app+"/messaggi", "body", "x")
	wantStatus(t, resp, http.StatusNotFound)

	// withdrawing needs the confirmation; then the application is withdrawn, and the office can no longer act
	resp, body = anna.post(app + "/ritira")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "spunta la casella di conferma")
	resp, _ = anna.post(app+"/ritira", "confirm", "1")
	wantRedirect(t, resp, app+"?ritirata=1")
	_, body = anna.get(app)
	wantContains(t, body, "Ritirata", "Domanda ritirata")
	resp, body = op.post(kase+"/decisione", "outcome", "admitted", "amount", "400", "period", "once")
	wantStatus(t, resp, http.StatusConflict)
	resp, body = anna.post(app+"/ritira", "confirm", "1")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "non si può più ritirare")
}

// The queue's filters are checked, and what was typed stays in the form.
func TestBackOfficeQueueFilters(t *testing.T) {
	e, clk := newStaffEnv(t, withMail())
	op := e.signIn(t, clk, e.newStaff(t, "coord.filters", "coordinatore"))
	resp, body := op.get("/backoffice/pratiche?dal=31/02/2026&stato=boh&ordine=x&assegnata=abc")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `id="dal-error"`, `id="stato-error"`, `id="ordine-error"`, `id="assegnata-error"`, `value="31/02/2026"`)
	resp, _ = op.get("/backoffice/pratiche?dopo=!!!")
	wantStatus(t, resp, http.StatusBadRequest)
	resp, body = op.get("/backoffice/pratiche?dal=01/12/2026&al=01/11/2026")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `id="al-error"`)
	resp, _ = op.get("/backoffice/pratiche?dal=2026-11-01&al=2026-11-30&scadute=1&ordine=due&stato=in_review")
	wantStatus(t, resp, http.StatusOK)
	// residents never reach the queue
	anna := e.citizen(t, "anna@example.org", cfAnna)
	resp, _ = anna.get("/backoffice/pratiche")
	wantStatus(t, resp, http.StatusForbidden)
}
