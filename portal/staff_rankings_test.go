package portal_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// rankingCall gives the seeded FNA Misura B2 call a budget for anziani (€10,000: two applications of €4,800 at
// the call's €400 a month for 12 months) and returns its ID and the graduatoria's back-office path.
func (e *env) rankingCall(t *testing.T, budget int64) (int64, string) {
	t.Helper()
	var id int64
	err := e.db.Pool.QueryRow(context.Background(), `UPDATE calls SET budgets = jsonb_build_object('anziani', $1::bigint),
			amounts = '{"all": {"cents": 40000, "period": "month", "months": 12}}'
		WHERE measure = 'fna-b2' RETURNING id`, budget).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id, "/backoffice/graduatorie/" + strconv.FormatInt(id, 10) + "/anziani"
}

// caseNewsFor returns the applications that got a "case news" message from a graduatoria run, with how many each.
func (e *env) caseNewsFor(t *testing.T) map[int64]int {
	t.Helper()
	rows, _ := e.db.Pool.Query(context.Background(), `SELECT split_part(unique_key, ':', 2)::bigint FROM notifications
		WHERE kind = 'case_news' AND channel = 'inbox' AND unique_key LIKE 'case_news:%:ranking:%'`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]int{}
	for _, id := range ids {
		out[id]++
	}
	return out
}

// A coordinator runs a graduatoria from the back office, sees it change after a new decision (only the changed
// applicants are told), cannot approve without confirming, approves it, and can no longer run it; the CSV for the
// commission is Excel's and neutralises formulas typed as names.
func TestRankingRunApproveFreeze(t *testing.T) {
	e, clk := newStaffEnv(t)
	c := e.signIn(t, clk, e.newStaff(t, "coord.grad", "coordinatore"))
	callID, path := e.rankingCall(t, 1_000_000)
	first, p1 := testenv.InsertDecided(t, e.db, testenv.Decided{Category: "anziani", ISEE: 3_000_00, FirstName: "=HYPERLINK(\"http://x.example/\";\"clic\")", LastName: "Rossi"})
	second, p2 := testenv.InsertDecided(t, e.db, testenv.Decided{Category: "anziani", ISEE: 5_000_00, FirstName: "Lucia", LastName: "+39 333 1234567"})
	third, p3 := testenv.InsertDecided(t, e.db, testenv.Decided{Category: "anziani", ISEE: 8_000_00, FirstName: "Aldo", LastName: "@Bianchi"})

	resp, body := c.get("/backoffice/graduatorie")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `href="/backoffice/graduatorie" aria-current="page"`, `href="`+path+`"`, "Anziani non autosufficienti",
		"Mai calcolata", "non ancora collocate: 3", "Nessun budget impostato") // disabili_adulti has none

	resp, body = c.get(path)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "ricalcola la graduatoria prima di approvarla", p1, "Lucia &#43;39 333 1234567", "Ammessa, da collocare",
		`action="`+path+`/ricalcola"`, `href="`+path+`.csv"`)
	if strings.Contains(body, `action="`+path+`/approva"`) {
		t.Error("approval offered before any run")
	}

	resp, _ = c.post(path + "/ricalcola")
	wantRedirect(t, resp, path)
	_, body = c.get(path)
	wantContains(t, body, "Graduatoria ricalcolata", "Calcolata il", "Persona coord.grad", `action="`+path+`/approva"`)
	if strings.Contains(body, "ricalcola la graduatoria prima di approvarla") {
		t.Error("still stale right after the run")
	}
	if got := strings.Count(body, `<span class="badge">Finanziata</span>`); got != 2 {
		t.Errorf("%d funded on the page, want 2", got)
	}
	if news := e.caseNewsFor(t); len(news) != 3 || news[first] != 1 || news[second] != 1 || news[third] != 1 {
		t.Errorf("messages after the first run: %v", news)
	}

	// A new decision: a lower ISEE takes the second funded place; only it and the one that drops out hear of it.
	newcomer, _ := testenv.InsertDecided(t, e.db, testenv.Decided{Category: "anziani", ISEE: 1_000_00, FirstName: "Nina", LastName: "Verdi"})
	_, body = c.get(path)
	wantContains(t, body, "ricalcola la graduatoria prima di approvarla")
	clk.add(60_000_000_000)
	resp, _ = c.post(path + "/ricalcola")
	wantRedirect(t, resp, path)
	if news := e.caseNewsFor(t); len(news) != 4 || news[newcomer] != 1 || news[second] != 2 || news[first] != 1 || news[third] != 1 {
		t.Errorf("messages after the second run: %v", news)
	}
	var events int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM application_events WHERE kind = 'decision' AND application_id = $1`, third).Scan(&events); err != nil || events != 1 {
		t.Errorf("the unchanged application has %d decision events (%v)", events, err)
	}

	// Approval needs the confirmation.
	resp, body = c.post(path+"/approva", "confirm", "")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `id="confirm-error"`, "conferma che la commissione ha approvato", `aria-invalid="true"`)
	resp, _ = c.post(path+"/approva", "confirm", "yes")
	wantRedirect(t, resp, path)
	_, body = c.get(path)
	wantContains(t, body, "Approvazione registrata", "Approvata dalla commissione", `href="/graduatorie/`+strconv.FormatInt(callID, 10)+`/anziani"`)
	if strings.Contains(body, `/ricalcola"`) || strings.Contains(body, `/approva"`) {
		t.Error("run or approval still offered on an approved graduatoria")
	}
	// Frozen: a run (a stale form, a second tab) is refused with its reason, and changes nothing.
	resp, body = c.post(path + "/ricalcola")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "già stata approvata dalla commissione")
	resp, body = c.post(path+"/approva", "confirm", "yes")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "già stata approvata dalla commissione")
	if news := e.caseNewsFor(t); len(news) != 4 || news[second] != 2 {
		t.Errorf("messages after the refused run: %v", news)
	}
	var actions []string
	rows, _ := e.db.Pool.Query(context.Background(), `SELECT action FROM audit_log WHERE action LIKE 'ranking.%' AND action <> 'ranking.read' ORDER BY id`)
	actions, _ = pgx.CollectRows(rows, pgx.RowTo[string])
	if !slices.Equal(actions, []string{"ranking.run", "ranking.run", "ranking.approve"}) {
		t.Errorf("audit: %v", actions)
	}

	// The CSV for the commission: BOM, semicolons, CRLF, every column, formulas neutralised; the export is audited.
	resp, body = c.get(path + ".csv")
	wantStatus(t, resp, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, ".csv") {
		t.Errorf("disposition %q", cd)
	}
	if !strings.HasPrefix(body, "\ufeffPosizione;Protocollo;Cognome;Nome;Codice fiscale;Comune;ISEE;") {
		t.Fatalf("CSV starts %q", body[:min(len(body), 80)])
	}
	lines := strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n")
	if len(lines) != 5 {
		t.Fatalf("%d CSV lines, want header and 4", len(lines))
	}
	wantContains(t, body, `;'+39 333 1234567;Lucia;`, `'@Bianchi`, p2, p3, "1000,00", "4800,00", "400,00;12;", "Finanziata", "Non finanziata")
	if !strings.Contains(body, `"'=HYPERLINK(""http://x.example/"";""clic"")"`) {
		t.Errorf("formula not neutralised: %q", lines[2])
	}
	if !strings.HasPrefix(lines[1], "1;") || !strings.HasPrefix(lines[2], "2;") || !strings.Contains(lines[2], p1) {
		t.Errorf("CSV order: %q / %q", lines[1], lines[2])
	}
	var exports, reads int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE action = 'ranking.export'),
		count(*) FILTER (WHERE action = 'ranking.read' AND detail->>'category' = 'anziani') FROM audit_log`).Scan(&exports, &reads); err != nil || exports != 1 || reads != 4 {
		t.Errorf("audit lines: %d exports, %d reads of the page (%v)", exports, reads, err)
	}
}

// An application without any amount stops the run with its number; a graduatoria the call has no budget for warns.
func TestRankingRefusalsExplainThemselves(t *testing.T) {
	e, clk := newStaffEnv(t)
	c := e.signIn(t, clk, e.newStaff(t, "admin.grad", "admin"))
	callID, path := e.rankingCall(t, 1_000_000)
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE calls SET amounts = '{}' WHERE id = $1`, callID); err != nil {
		t.Fatal(err)
	}
	_, protocol := testenv.InsertDecided(t, e.db, testenv.Decided{Category: "anziani", ISEE: 1_00})
	resp, body := c.post(path + "/ricalcola")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "La domanda "+protocol+" non ha un importo", "Importo mancante")

	noBudget := "/backoffice/graduatorie/" + strconv.FormatInt(callID, 10) + "/voucher"
	resp, body = c.get(noBudget)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "nessuna domanda può essere finanziata", "Nessuna domanda ammessa in questa categoria.")
	resp, body = c.post(noBudget+"/approva", "confirm", "yes")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "Calcola la graduatoria prima di approvarla.")

	for _, p := range []string{"/backoffice/graduatorie/" + strconv.FormatInt(callID, 10) + "/nessuna",
		"/backoffice/graduatorie/999999/anziani", "/backoffice/graduatorie/999999/anziani.csv",
		"/backoffice/graduatorie/" + strconv.FormatInt(callID, 10) + "/all"} {
		resp, _ := c.get(p)
		wantStatus(t, resp, http.StatusNotFound)
	}
	// a measure without categories has one graduatoria, under "all"
	var mu int64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT id FROM calls WHERE measure = 'misura-unica'`).Scan(&mu); err != nil {
		t.Fatal(err)
	}
	resp, body = c.get("/backoffice/graduatorie/" + strconv.FormatInt(mu, 10) + "/all")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Tutte le domande")
}

// Graduatorie are for coordinatori and admins; the audit log for admins only.
func TestRankingAndAuditRolesAreEnforced(t *testing.T) {
	e, clk := newStaffEnv(t)
	_, path := e.rankingCall(t, 1_000_000)
	op := e.signIn(t, clk, e.newStaff(t, "op.grad", "operatore", "crema"))
	for _, req := range []struct{ method, path string }{{"GET", "/backoffice/graduatorie"}, {"GET", path}, {"GET", path + ".csv"},
		{"POST", path + "/ricalcola"}, {"POST", path + "/approva"}, {"GET", "/backoffice/audit"}} {
		resp, _ := op.do(req.method, req.path, nil)
		wantStatus(t, resp, http.StatusForbidden)
	}
	_, body := op.get("/backoffice")
	if strings.Contains(body, "/backoffice/graduatorie") || strings.Contains(body, "/backoffice/audit") {
		t.Error("an operatore is offered graduatorie or the audit log")
	}
	coord := e.signIn(t, clk, e.newStaff(t, "coord.audit", "coordinatore"))
	resp, _ := coord.get("/backoffice/audit")
	wantStatus(t, resp, http.StatusForbidden)
	_, body = coord.get("/backoffice")
	if !strings.Contains(body, `href="/backoffice/graduatorie"`) || strings.Contains(body, "/backoffice/audit") {
		t.Error("a coordinatore's menu: graduatorie missing or audit log shown")
	}
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM rankings`).Scan(&n); err != nil || n != 0 {
		t.Errorf("a refused run left %d rankings (%v)", n, err)
	}
	// no session at all: to the sign-in page
	resp, _ = e.client(t).get(path)
	wantRedirect(t, resp, "/backoffice/accesso")
}

// The published graduatoria exists only once approved; it shows position, protocol number, outcome and amount
// of each application — no names, fiscal codes or comuni — in the resident's language.
func TestPublicRankingHidesNamesAndWaitsForApproval(t *testing.T) {
	e, clk := newStaffEnv(t)
	callID, path := e.rankingCall(t, 480_000)
	_, p1 := testenv.InsertDecided(t, e.db, testenv.Decided{Category: "anziani", ISEE: 1_000_00, FirstName: "Maria", LastName: "Segreta", Comune: "soncino"})
	_, p2 := testenv.InsertDecided(t, e.db, testenv.Decided{Category: "anziani", ISEE: 2_000_00, FirstName: "Paolo", LastName: "Riservato"})
	public := "/graduatorie/" + strconv.FormatInt(callID, 10) + "/anziani"
	visitor := e.client(t)
	resp, _ := visitor.get(public)
	wantStatus(t, resp, http.StatusNotFound)

	c := e.signIn(t, clk, e.newStaff(t, "coord.pub", "coordinatore"))
	resp, _ = c.post(path + "/ricalcola")
	wantRedirect(t, resp, path)
	resp, _ = visitor.get(public)
	wantStatus(t, resp, http.StatusNotFound) // run, not approved
	resp, _ = c.post(path+"/approva", "confirm", "yes")
	wantRedirect(t, resp, path)

	resp, body := visitor.get(public)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Graduatoria", "Anziani non autosufficienti", p1, p2, "Finanziata", "Ammessa, non finanziata",
		"4.800,00", "1 domanda finanziata")
	for _, secret := range []string{"Maria", "Segreta", "Paolo", "Riservato", "TSTRNK", "Soncino", "ISEE", "/backoffice"} {
		if strings.Contains(body, secret) {
			t.Errorf("the published graduatoria shows %q", secret)
		}
	}
	if i1, i2 := strings.Index(body, p1), strings.Index(body, p2); i1 > i2 {
		t.Error("published out of order")
	}
	visitor.headers["Accept-Language"] = "ar"
	resp, body = visitor.get(public)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `dir="rtl"`, "مموَّل", p1)
	for _, p := range []string{"/graduatorie/" + strconv.FormatInt(callID, 10) + "/voucher", "/graduatorie/999999/anziani",
		"/graduatorie/" + strconv.FormatInt(callID, 10) + "/segreta"} {
		resp, _ := visitor.get(p)
		wantStatus(t, resp, http.StatusNotFound)
	}
}

// The measure's page links the approved graduatorie of its call, with the date of approval — none while a
// graduatoria is only run — and the link leads to the published graduatoria, whose breadcrumb leads back to the
// measure. The measure's page stays cached: the link appears once the cached copy expires.
func TestPublicRankingLinkedFromMeasurePage(t *testing.T) {
	e, clk := newStaffEnv(t)
	callID, path := e.rankingCall(t, 480_000)
	_, protocol := testenv.InsertDecided(t, e.db, testenv.Decided{Category: "anziani", ISEE: 1_000_00, FirstName: "Maria", LastName: "Rossi"})
	public := "/graduatorie/" + strconv.FormatInt(callID, 10) + "/anziani"
	measure := "/misure/fna-misura-b2"
	visitor := e.client(t)
	noLink := func(when string) {
		t.Helper()
		resp, body := visitor.get(measure)
		wantStatus(t, resp, http.StatusOK)
		if strings.Contains(body, public) || strings.Contains(body, "Graduatoria approvata") {
			t.Errorf("%s: the measure's page links the graduatoria", when)
		}
	}
	noLink("before any run")

	c := e.signIn(t, clk, e.newStaff(t, "coord.link", "coordinatore"))
	resp, _ := c.post(path + "/ricalcola")
	wantRedirect(t, resp, path)
	clk.add(11 * time.Second) // past the page cache
	noLink("run, not approved")

	resp, _ = c.post(path+"/approva", "confirm", "yes")
	wantRedirect(t, resp, path)
	clk.add(11 * time.Second)
	resp, body := visitor.get(measure)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `<h2 class="h4 mt-4">Graduatorie</h2>`,
		`<a href="`+public+`">Graduatoria approvata — Anziani non autosufficienti</a>`, "Data di approvazione: ")
	if n := strings.Count(body, `href="/graduatorie/`); n != 1 {
		t.Errorf("%d graduatorie linked, want the one approved", n)
	}

	resp, body = visitor.get(public)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, protocol, `<li class="breadcrumb-item"><a href="/misure/fna-misura-b2">`)

	visitor.headers["Accept-Language"] = "ar"
	resp, body = visitor.get(measure)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `dir="rtl"`, `<a href="`+public+`">قائمة الترتيب المعتمدة — `, "تاريخ الاعتماد: ")
}
