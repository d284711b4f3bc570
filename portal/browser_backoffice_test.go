package portal_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

var requestLinkRe = regexp.MustCompile(`/pratiche/\d+/richiesta`)

// secondSignInCode waits for the second sign-in code e-mail to addr (messages about applications carry a
// protocol number, whose digits are no code).
func (e *env) secondSignInCode(t *testing.T, addr string) string {
	t.Helper()
	var code string
	testenv.WaitFor(t, 15*time.Second, "a second sign-in code to "+addr, func() error {
		var codes []string
		for _, m := range e.mail.Messages() {
			if len(m.To) == 1 && m.To[0] == addr {
				if pm := testenv.ParseMail(t, m.Raw); !strings.Contains(pm.Text, "CSC-") && codeRe.MatchString(pm.Text) {
					codes = append(codes, codeRe.FindStringSubmatch(pm.Text)[1])
				}
			}
		}
		if len(codes) < 2 {
			return fmt.Errorf("%d codes so far", len(codes))
		}
		code = codes[1]
		return nil
	})
	return code
}

// The "send more documents" loop in a browser at phone size, in Italian and Arabic, with axe-core on every page:
// an operatore takes the next application from the queue, asks for a document (a mistake first), the resident
// follows the e-mail's link, uploads the document and answers, and the operatore admits the application.
func TestBrowserBackOfficeLoop(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "isee-2026.pdf")
	if err := os.WriteFile(doc, pdf("isee 2026"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []struct{ code, dir string }{{"it", "ltr"}, {"ar", "rtl"}} {
		t.Run(lang.code, func(t *testing.T) {
			e, clk := newStaffEnv(t, withMail())
			anna := e.citizen(t, "anna@example.org", cfAnna)
			app, protocol := submitted(t, e, anna)
			acct := e.newStaff(t, "op.browser", "operatore", "pandino")
			base := e.listen(t)
			browser := chromium.Browser(t)
			staff := browser.NewPage(t, browsertest.WithLanguage(lang.code))
			check := func(p *browsertest.Page, want, status int) { t.Helper(); checkPage(t, p, lang.dir, want, status) }

			// the operatore signs in (password, then the authenticator app) and opens the queue from the menu
			staffSignInPage(t, staff, base, clk, acct, func(want, status int) { t.Helper(); check(staff, want, status) })
			check(staff, http.StatusOK, staff.ClickAndWait(t, `nav.site-nav a[href="/backoffice/pratiche"]`))
			if !strings.Contains(staff.Text(t, "main"), protocol) {
				t.Fatalf("the queue does not list %s", protocol)
			}

			// take next: the application opens, in review
			check(staff, http.StatusOK, staff.Submit(t, `form[action="/backoffice/pratiche/prossima"]`))
			if !strings.HasSuffix(staff.Location(t), staffCase(app)) {
				t.Fatalf("take next opened %s", staff.Location(t))
			}

			// ask for the ISEE attestation: without a message first, then with it
			staff.Click(t, "#req-isee_attestation")
			check(staff, http.StatusUnprocessableEntity, staff.Submit(t, "#richiesta"))
			if staff.Attr(t, "#request-message", "aria-invalid") != "true" {
				t.Error("the missing message is not marked")
			}
			staff.SetValue(t, "#request-message", "Serve l'ISEE aggiornato al 2026.")
			check(staff, http.StatusOK, staff.Submit(t, "#richiesta"))

			// the resident signs in and follows the link of the e-mail
			link := requestLinkRe.FindString(e.mailContaining(t, "anna@example.org", "/richiesta").Text)
			if link == "" {
				t.Fatal("no link to the request in the e-mail")
			}
			// her profile's language is the page's language once she is signed in
			if _, err := e.db.Pool.Exec(t.Context(), `UPDATE people SET lang = $1 WHERE email = 'anna@example.org'`, lang.code); err != nil {
				t.Fatal(err)
			}
			citizen := browser.NewPage(t, browsertest.WithLanguage(lang.code))
			citizen.Navigate(t, base+"/accesso")
			citizen.SetValue(t, "#email", "anna@example.org")
			citizen.Submit(t, `form[action="/accesso/email"]`)
			citizen.SetValue(t, "#code", e.secondSignInCode(t, "anna@example.org"))
			citizen.Submit(t, `form[action="/accesso/email/codice"]`)
			check(citizen, http.StatusOK, citizen.Navigate(t, base+link))

			// answering without the document is explained; then the upload and the answer
			citizen.SetValue(t, "#answer", "Ecco l'ISEE.")
			check(citizen, http.StatusUnprocessableEntity, citizen.Submit(t, `main form[action="`+link+`"]`))
			var typed string
			citizen.Eval(t, `document.querySelector('#answer').value`, &typed)
			if typed != "Ecco l'ISEE." {
				t.Errorf("the typed answer became %q", typed)
			}
			citizen.SetUploadFiles(t, "#file-isee_attestation", doc)
			check(citizen, http.StatusOK, citizen.Submit(t, `#doc-isee_attestation form[enctype]`))
			citizen.SetValue(t, "#answer", "Ecco l'ISEE.")
			check(citizen, http.StatusOK, citizen.Submit(t, `main form[action="`+link+`"]`))
			if !strings.Contains(citizen.Location(t), "?risposta=1") {
				t.Fatalf("after answering at %s", citizen.Location(t))
			}

			// the operatore sees the answer flagged in the queue, opens it and admits the application
			check(staff, http.StatusOK, staff.Navigate(t, base+"/backoffice/pratiche?risposte=1&assegnata=me"))
			check(staff, http.StatusOK, staff.ClickAndWait(t, `main a[href="`+staffCase(app)+`"]`))
			if !strings.Contains(staff.Text(t, "main"), "isee-2026.pdf") {
				t.Error("the uploaded file is not on the case page")
			}
			staff.Click(t, "#outcome-admitted")
			staff.SetValue(t, "#reason", "Requisiti verificati.")
			check(staff, http.StatusOK, staff.Submit(t, "#decisione"))
			check(citizen, http.StatusOK, citizen.Navigate(t, base+app))
			if !strings.Contains(citizen.Text(t, "main"), "Requisiti verificati.") {
				t.Error("the resident does not read the decision's reason")
			}
		})
	}
}
