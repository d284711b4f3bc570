package portal_test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
)

// A member of staff, at phone size, in Italian and in Arabic: first sign-in with enrolment of the authenticator
// app (the test reads the secret off the page, as a person would type it), the recovery codes, the back office's
// pages, sign-out, a sign-in with a code from the app, and one with a recovery code. axe-core checks every page,
// the pages with errors included.
func TestBrowserStaffJourney(t *testing.T) {
	for _, lang := range []struct{ code, dir, title string }{{"it", "ltr", "Accesso al back office"}, {"ar", "rtl", "الدخول إلى المكتب الخلفي"}} {
		t.Run(lang.code, func(t *testing.T) {
			e, clk := newStaffEnv(t)
			a := e.newStaff(t, "admin.browser", "admin")
			base := e.listen(t)
			page := chromium.Browser(t).NewPage(t, browsertest.WithLanguage(lang.code))
			check := func(want, status int) { t.Helper(); checkPage(t, page, lang.dir, want, status) }
			shot := func(name string) {
				if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" {
					page.Screenshot(t, filepath.Join(dir, "staff-"+name+"-"+lang.code+".png"))
				}
			}
			signInPassword := func() int {
				t.Helper()
				page.SetValue(t, "#username", a.username)
				page.SetValue(t, "#password", a.password)
				return page.Submit(t, `main form[action="/backoffice/accesso"]`)
			}

			// The back office sends a stranger to its sign-in page.
			check(http.StatusOK, page.Navigate(t, base+"/backoffice"))
			if !strings.HasSuffix(page.Location(t), "/backoffice/accesso") || page.Text(t, "h1") != lang.title {
				t.Fatalf("at %s, h1 %q", page.Location(t), page.Text(t, "h1"))
			}
			page.SetValue(t, "#username", a.username)
			page.SetValue(t, "#password", "sbagliata")
			check(http.StatusUnprocessableEntity, page.Submit(t, `main form[action="/backoffice/accesso"]`))
			if page.Attr(t, "#username", "value") != a.username {
				t.Error("username lost after a wrong password")
			}

			// Enrolment: QR code and the same secret as text; a wrong code first, then the right one.
			check(http.StatusOK, signInPassword())
			page.WaitVisible(t, `img[src^="data:image/png;base64,"]`)
			shot("enrol")
			secret := strings.ReplaceAll(page.Text(t, "#totp-secret"), " ", "")
			if !regexp.MustCompile(`^[A-Z2-7]{32}$`).MatchString(secret) {
				t.Fatalf("secret on the page: %q", secret)
			}
			page.SetValue(t, "#code", "12")
			check(http.StatusUnprocessableEntity, page.Submit(t, "#code"))
			page.SetValue(t, "#code", totpAt(t, secret, clk.now()))
			check(http.StatusOK, page.Submit(t, "#code"))
			var codes []string
			page.Eval(t, `Array.from(document.querySelectorAll("main ol code")).map(c => c.textContent)`, &codes)
			if len(codes) != 10 {
				t.Fatalf("%d recovery codes on the page", len(codes))
			}
			shot("codes")

			// The back office's pages.
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="/backoffice"]`))
			shot("home")
			check(http.StatusOK, page.ClickAndWait(t, `nav.site-nav a[href="/backoffice/sedi"]`))
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="/backoffice/sedi/sportello-crema"]`))
			page.SetValue(t, "#phone", "telefono?")
			page.SetValue(t, "#hours-6-1-from", "12:00")
			page.SetValue(t, "#hours-6-1-to", "09:00")
			check(http.StatusUnprocessableEntity, page.Submit(t, "#phone"))
			shot("office-errors")
			if page.Attr(t, "#phone", "value") != "telefono?" {
				t.Error("typed phone lost")
			}
			page.SetValue(t, "#phone", "0373 218600")
			page.SetValue(t, "#hours-6-1-to", "13:00")
			check(http.StatusOK, page.Submit(t, "#phone"))
			if !strings.HasSuffix(page.Location(t), "/backoffice/sedi") || !page.Exists(t, ".alert-success") {
				t.Fatalf("after saving at %s", page.Location(t))
			}
			check(http.StatusOK, page.ClickAndWait(t, `nav.site-nav a[href="/backoffice/utenti"]`))
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="/backoffice/utenti/nuovo"]`))
			check(http.StatusUnprocessableEntity, page.Submit(t, "#username"))
			page.SetValue(t, "#username", "nuovo.collega")
			page.SetValue(t, "#full_name", "Nuovo Collega")
			page.Click(t, `label[for="scope-crema"]`)
			check(http.StatusOK, page.Submit(t, "#username"))
			if !page.Exists(t, "#one-time-password") {
				t.Fatal("one-time password not shown")
			}
			check(http.StatusOK, page.Navigate(t, base+"/backoffice/password"))

			// Sign out, then in again with a code from the app.
			check(http.StatusOK, page.ClickAndWait(t, `nav.site-nav form[action="/backoffice/esci"] button`))
			if !strings.HasSuffix(page.Location(t), "/backoffice/accesso") {
				t.Fatalf("after sign-out at %s", page.Location(t))
			}
			check(http.StatusOK, signInPassword())
			clk.add(30 * time.Second)
			page.SetValue(t, "#code", totpAt(t, secret, clk.now()))
			check(http.StatusOK, page.Submit(t, "#code"))
			if !strings.HasSuffix(page.Location(t), "/backoffice") {
				t.Fatalf("after the code at %s", page.Location(t))
			}

			// And with a recovery code.
			page.ClickAndWait(t, `nav.site-nav form[action="/backoffice/esci"] button`)
			check(http.StatusOK, signInPassword())
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="/backoffice/accesso/recupero"]`))
			page.SetValue(t, "#code", "nope")
			check(http.StatusUnprocessableEntity, page.Submit(t, "#code"))
			page.SetValue(t, "#code", codes[3])
			check(http.StatusOK, page.Submit(t, "#code"))
			if !strings.HasSuffix(page.Location(t), "/backoffice") || !strings.Contains(page.Text(t, "main"), "9") {
				t.Fatalf("after the recovery code at %s", page.Location(t))
			}
		})
	}
}
