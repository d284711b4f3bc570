package portal_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

var auditNextLink = regexp.MustCompile(`<a href="(/backoffice/audit\?[^"]*dopo=[^"]+)">`)

// auditLines writes n lines of an action by account staffID on application app (and its document 77), one a
// minute from at.
func (e *env) auditLines(t *testing.T, staffID, app int64, at time.Time, n int, action string) {
	t.Helper()
	for i := range n {
		if _, err := e.db.Pool.Exec(context.Background(), `INSERT INTO audit_log (at, staff_id, action, application_id, attachment_id, detail, ip)
			VALUES ($1, $2, $3, $4, 77, '{"from": "submitted", "to": "in_review"}', '203.0.113.9')`,
			at.Add(time.Duration(i)*time.Minute), staffID, action, app); err != nil {
			t.Fatal(err)
		}
	}
}

// An admin searches the audit log by account, application (protocol or ID), action and days of Italian time, newest
// first, and walks older lines by keyset pages; the page only reads.
func TestAuditViewerSearchesAndPages(t *testing.T) {
	e, clk := newStaffEnv(t)
	admin := e.newStaff(t, "admin.audit", "admin")
	reader := e.newStaff(t, "op.lettore", "operatore", "crema")
	c := e.signIn(t, clk, admin)
	app, protocol := testenv.InsertDecided(t, e.db, testenv.Decided{Category: "anziani", ISEE: 1_00})
	other, _ := testenv.InsertDecided(t, e.db, testenv.Decided{Category: "anziani", ISEE: 2_00})
	// 23:30 on 1 December in Rome is still 1 December, though 22:30 UTC
	day := time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)
	e.auditLines(t, reader.id, app, day.Add(-30*time.Minute), 60, "application.read")
	e.auditLines(t, admin.id, other, day.Add(48*time.Hour), 3, "document.read")

	resp, body := c.get("/backoffice/audit")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "<h1>Registro accessi</h1>", `href="/backoffice/audit" aria-current="page"`, "Persona op.lettore",
		"(op.lettore)", "203.0.113.9", "from: submitted", `href="/backoffice/pratiche/`, protocol, "Righe precedenti")
	if tbody := body[strings.Index(body, "<tbody>"):]; strings.Index(tbody, "document.read") > strings.Index(tbody, "application.read") {
		t.Error("not newest first")
	}
	if strings.Contains(body, `method="post" action="/backoffice/audit`) || strings.Contains(body, "Torna ai più recenti") {
		t.Error("the first page offers a change or a way back")
	}

	// Keyset pages: 63 lines in pages of 50, each line once.
	m := auditNextLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no link to older lines")
	}
	first := strings.Count(body, "<tr>") - 1
	resp, body = c.get(html.UnescapeString(m[1]))
	wantStatus(t, resp, http.StatusOK)
	second := strings.Count(body, "<tr>") - 1
	if first != 50 || second != 13 || auditNextLink.MatchString(body) {
		t.Errorf("pages of %d and %d lines (more: %v)", first, second, auditNextLink.MatchString(body))
	}
	wantContains(t, body, `href="/backoffice/audit">Torna ai più recenti`)

	search := func(q url.Values) (int, string) {
		t.Helper()
		resp, body := c.get("/backoffice/audit?" + q.Encode())
		return resp.StatusCode, body
	}
	rows := func(body string) int { return max(strings.Count(body, "<tr>")-1, 0) }
	for name, tc := range map[string]struct {
		q    url.Values
		want int
	}{
		"by account":         {url.Values{"utente": {"Admin.Audit"}}, 3},
		"by protocol":        {url.Values{"pratica": {strings.ToLower(protocol)}}, 50},
		"by application ID":  {url.Values{"pratica": {strconv.FormatInt(other, 10)}}, 3},
		"by action":          {url.Values{"azione": {"document.read"}}, 3},
		"one Rome day":       {url.Values{"dal": {"2026-12-01"}, "al": {"2026-12-01"}}, 30}, // 22:30–23:59 UTC = 23:30–00:59 Rome: 23:30..23:59
		"the next days":      {url.Values{"dal": {"02/12/2026"}, "utente": {"op.lettore"}}, 30},
		"nothing that day":   {url.Values{"dal": {"2026-12-05"}}, 0},
		"account and action": {url.Values{"utente": {"op.lettore"}, "azione": {"document.read"}}, 0},
	} {
		status, body := search(tc.q)
		if status != http.StatusOK || rows(body) != tc.want {
			t.Errorf("%s: status %d, %d lines, want %d", name, status, rows(body), tc.want)
		}
		if tc.want == 0 && !strings.Contains(body, "Nessuna riga corrisponde alla ricerca.") {
			t.Errorf("%s: no message for an empty result", name)
		}
	}
}

// Filters that cannot be read are a 422 with a message in the admin's language next to each field, and what was
// typed stays in the form.
func TestAuditViewerRefusesBadFilters(t *testing.T) {
	e, clk := newStaffEnv(t)
	c := e.signIn(t, clk, e.newStaff(t, "admin.filtri", "admin"))
	q := url.Values{"utente": {"nessuno.qui"}, "pratica": {"CSC-26-1"}, "azione": {"DROP TABLE"}, "dal": {"31/02/2026"}, "al": {"ieri"}}
	resp, body := c.get("/backoffice/audit?" + q.Encode())
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Correggi i campi indicati", "Nessun account ha questo nome utente.", `id="utente-error"`,
		`value="nessuno.qui"`, `value="CSC-26-1"`, `value="DROP TABLE"`, `value="31/02/2026"`, `value="ieri"`,
		`id="pratica-error"`, `id="azione-error"`, `id="dal-error"`, `id="al-error"`, `aria-invalid="true"`)
	if strings.Contains(body, "<table") {
		t.Error("results shown with bad filters")
	}

	resp, body = c.get("/backoffice/audit?dal=2026-12-05&al=2026-12-01")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Il giorno finale viene prima di quello iniziale.", `value="2026-12-05"`)

	c.headers["Accept-Language"] = "ar"
	resp, body = c.get("/backoffice/audit?utente=x.y")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `dir="rtl"`, "لا يوجد حساب بهذا الاسم.", `value="x.y"`)

	resp, _ = c.get("/backoffice/audit?dopo=ieri")
	wantStatus(t, resp, http.StatusBadRequest)
}
