package portal_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

var browserLanguages = []struct{ code, dir string }{{"it", "ltr"}, {"ar", "rtl"}}

// checkPage is what every browser test checks on a page it reached: the status, the direction of its language,
// axe-core (WCAG 2.1 A/AA) and no console errors.
func checkPage(t *testing.T, p *browsertest.Page, dir string, want, status int) {
	t.Helper()
	if status != want {
		t.Fatalf("%s: status %d, want %d: %s", p.Location(t), status, want, p.Text(t, "main"))
	}
	if got := p.Attr(t, "html", "dir"); got != dir {
		t.Errorf("%s: dir=%q", p.Location(t), got)
	}
	p.CheckAxe(t)
	p.AssertNoConsoleErrors(t)
}

// staffSignInPage signs a staff account in on page, each step checked with check: the password, then the
// authenticator app — enrolled with the secret the page shows the first time, or a code half a minute later.
func staffSignInPage(t *testing.T, page *browsertest.Page, base string, clk *clock, a *staffAccount, check func(want, status int)) {
	t.Helper()
	page.Navigate(t, base+"/backoffice/accesso")
	page.SetValue(t, "#username", a.username)
	page.SetValue(t, "#password", a.password)
	check(http.StatusOK, page.Submit(t, `main form[action="/backoffice/accesso"]`))
	if page.Exists(t, "#totp-secret") {
		a.secret = strings.ReplaceAll(page.Text(t, "#totp-secret"), " ", "")
	} else {
		clk.add(30 * time.Second)
	}
	page.SetValue(t, "#code", totpAt(t, a.secret, clk.now()))
	check(http.StatusOK, page.Submit(t, "#code"))
}

// fetchWithPage downloads a URL with the page's cookies, as the browser would on clicking a download link.
func fetchWithPage(t *testing.T, page *browsertest.Page, rawURL string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range page.Cookies(t) {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// A coordinatore at phone size, in Italian and in Arabic, opens the graduatorie from the menu, runs one, approves
// it with the commission's confirmation, downloads the CSV, looks at the published page and goes back to it from
// the measure's page; axe-core checks every page, the refused approval included.
func TestBrowserRankingRunApproveDownload(t *testing.T) {
	for _, lang := range browserLanguages {
		t.Run(lang.code, func(t *testing.T) {
			e, clk := newStaffEnv(t)
			a := e.newStaff(t, "coord.grad.browser", "coordinatore")
			callID, path := e.rankingCall(t, 1_000_000)
			_, p1 := testenv.InsertDecided(t, e.db, testenv.Decided{Category: "anziani", ISEE: 2_000_00, FirstName: "Giulia", LastName: "Ferrari"})
			testenv.InsertDecided(t, e.db, testenv.Decided{Category: "anziani", ISEE: 4_000_00, FirstName: "=1+1", LastName: "Conti"})
			testenv.InsertDecided(t, e.db, testenv.Decided{Category: "anziani", ISEE: 9_000_00, FirstName: "Ahmed", LastName: "Karim"})
			base := e.listen(t)
			page := chromium.Browser(t).NewPage(t, browsertest.WithLanguage(lang.code))
			check := func(want, status int) { t.Helper(); checkPage(t, page, lang.dir, want, status) }
			shot := func(name string) {
				if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" {
					page.Screenshot(t, filepath.Join(dir, "staff-ranking-"+name+"-"+lang.code+".png"))
				}
			}
			staffSignInPage(t, page, base, clk, a, check)

			check(http.StatusOK, page.ClickAndWait(t, `nav.site-nav a[href="/backoffice/graduatorie"]`))
			shot("list")
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="`+path+`"]`))
			if page.Exists(t, `form[action="`+path+`/approva"]`) {
				t.Error("approval offered before a run")
			}
			shot("before")

			check(http.StatusOK, page.ClickAndWait(t, `form[action="`+path+`/ricalcola"] button`))
			if !page.Exists(t, ".alert-success") || !strings.Contains(page.Text(t, "tbody"), p1) {
				t.Fatal("no confirmation or no table after the run")
			}
			shot("run")

			// The confirmation is a required checkbox: without JavaScript the browser asks for it; the server too.
			page.Eval(t, `document.querySelector("#confirm").removeAttribute("required")`, nil)
			check(http.StatusUnprocessableEntity, page.ClickAndWait(t, `form[action="`+path+`/approva"] button`))
			if page.Attr(t, "#confirm", "aria-invalid") != "true" || !page.Exists(t, "#confirm-error") {
				t.Error("refused approval without a message on the checkbox")
			}
			shot("confirm")
			page.Click(t, "#confirm")
			check(http.StatusOK, page.ClickAndWait(t, `form[action="`+path+`/approva"] button`))
			if !page.Exists(t, ".alert-success") || page.Exists(t, `form[action="`+path+`/ricalcola"]`) {
				t.Error("approval not confirmed, or the run still offered")
			}
			shot("approved")

			// The CSV link: fetched with the page's session, it is the commission's file.
			href := page.Attr(t, `a[href$=".csv"]`, "href")
			u, _ := url.Parse(base)
			resp, body := fetchWithPage(t, page, u.ResolveReference(&url.URL{Path: href}).String())
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "\ufeff") || !strings.Contains(body, ";") ||
				!strings.Contains(body, "'=1+1") || !strings.Contains(body, p1) {
				t.Errorf("CSV: status %d, body %q", resp.StatusCode, body[:min(len(body), 120)])
			}

			// The published page, for residents.
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="/graduatorie/`+strconv.FormatInt(callID, 10)+`/anziani"]`))
			if text := page.Text(t, "main"); !strings.Contains(text, p1) || strings.Contains(text, "Ferrari") || strings.Contains(text, "Karim") {
				t.Error("published page without the protocol, or with a name")
			}
			shot("public")

			// Back to the measure by the breadcrumb: its page links the graduatoria, and the link leads to it.
			public := "/graduatorie/" + strconv.FormatInt(callID, 10) + "/anziani"
			check(http.StatusOK, page.ClickAndWait(t, `.breadcrumb a[href="/misure/fna-misura-b2"]`))
			shot("measure")
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="`+public+`"]`))
			if !strings.Contains(page.Text(t, "main"), p1) {
				t.Error("the measure's link does not lead to the graduatoria")
			}
		})
	}
}

// An admin at phone size, in Italian and in Arabic, opens the audit log from the menu, makes a mistake in a filter
// (422, message, typed value kept), corrects it and finds the lines; axe-core checks every page.
func TestBrowserAuditSearch(t *testing.T) {
	for _, lang := range browserLanguages {
		t.Run(lang.code, func(t *testing.T) {
			e, clk := newStaffEnv(t)
			a := e.newStaff(t, "admin.audit.browser", "admin")
			reader := e.newStaff(t, "op.letture", "operatore", "crema")
			app, protocol := testenv.InsertDecided(t, e.db, testenv.Decided{Category: "anziani", ISEE: 1_00})
			e.auditLines(t, reader.id, app, clk.now().Add(-3*time.Hour), 3, "application.read")
			base := e.listen(t)
			page := chromium.Browser(t).NewPage(t, browsertest.WithLanguage(lang.code))
			check := func(want, status int) { t.Helper(); checkPage(t, page, lang.dir, want, status) }
			shot := func(name string) {
				if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" {
					page.Screenshot(t, filepath.Join(dir, "staff-audit-"+name+"-"+lang.code+".png"))
				}
			}
			staffSignInPage(t, page, base, clk, a, check)
			check(http.StatusOK, page.ClickAndWait(t, `nav.site-nav a[href="/backoffice/audit"]`))
			shot("all")

			page.SetValue(t, "#utente", "nessuno")
			page.SetValue(t, "#pratica", protocol)
			check(http.StatusUnprocessableEntity, page.Submit(t, "#utente"))
			if page.Attr(t, "#utente", "value") != "nessuno" || page.Attr(t, "#pratica", "value") != protocol || !page.Exists(t, "#utente-error") {
				t.Error("typed filters lost, or no message for the unknown user")
			}
			shot("error")

			page.SetValue(t, "#utente", reader.username)
			check(http.StatusOK, page.Submit(t, "#utente"))
			if n := strings.Count(page.Text(t, "tbody"), "application.read"); n != 3 {
				t.Errorf("%d lines found, want 3", n)
			}
			if !page.Exists(t, `tbody a[href="/backoffice/pratiche/`+strconv.FormatInt(app, 10)+`"]`) || page.Exists(t, `main form[method="post"]`) {
				t.Error("no link to the application, or a form that changes something")
			}
			shot("found")
		})
	}
}
