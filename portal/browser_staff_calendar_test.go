package portal_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
)

// The staff calendar in a browser at phone size, in Italian and Arabic, with axe-core on every page: an operatore
// opens the day view from the menu, books an appointment for a resident on the phone, and the next day marks the
// resident arrived.
func TestBrowserStaffCalendar(t *testing.T) {
	for _, lang := range []struct{ code, dir string }{{"it", "ltr"}, {"ar", "rtl"}} {
		t.Run(lang.code, func(t *testing.T) {
			e, clk := newStaffEnv(t, withMail())
			e.citizen(t, "anna@example.org", cfAnna)
			acct := e.newStaff(t, "op.agenda", "operatore", "crema")
			base := e.listen(t)
			browser := chromium.Browser(t)
			check := func(p *browsertest.Page, want, status int) { t.Helper(); checkPage(t, p, lang.dir, want, status) }
			signIn := func() *browsertest.Page {
				page := browser.NewPage(t, browsertest.WithLanguage(lang.code))
				staffSignInPage(t, page, base, clk, acct, func(want, status int) { t.Helper(); check(page, want, status) })
				return page
			}
			page := signIn()

			// the day view, from the menu
			check(page, http.StatusOK, page.ClickAndWait(t, `nav.site-nav a[href="/backoffice/appuntamenti"]`))

			// a booking on the phone: the resident by fiscal code, then a time on Tuesday
			check(page, http.StatusOK, page.Navigate(t, base+"/backoffice/appuntamenti/prenota?sede=sportello-crema"))
			page.SetValue(t, "#cf", "BNCLRA80A41D142X") // a mistyped fiscal code first
			check(page, http.StatusUnprocessableEntity, page.Submit(t, `main form[method="get"]`))
			if page.Attr(t, "#cf", "aria-invalid") != "true" {
				t.Error("the mistyped fiscal code is not marked")
			}
			page.SetValue(t, "#cf", cfAnna)
			check(page, http.StatusOK, page.Submit(t, `main form[method="get"]`))
			check(page, http.StatusOK, page.Navigate(t, base+"/backoffice/appuntamenti/prenota?sede=sportello-crema&cf="+cfAnna+
				"&servizio=segretariato-sociale&giorno=2026-11-24"))
			page.Click(t, "#modalita-in_person")
			check(page, http.StatusOK, page.Submit(t, `main form[method="post"][action="/backoffice/appuntamenti/prenota"]`))
			if !strings.Contains(page.Text(t, "main"), "Anna") {
				t.Fatalf("the booking is not in the calendar: %s", page.Text(t, "main"))
			}

			// the next day the resident arrives
			clk.add(24 * time.Hour)
			page = signIn()
			check(page, http.StatusOK, page.Navigate(t, base+"/backoffice/appuntamenti?sede=sportello-crema&giorno=2026-11-24"))
			check(page, http.StatusOK, page.Submit(t, `main form[action$="/arrivato"]`))
			if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE status = 'arrived'`); n != 1 {
				t.Errorf("%d bookings marked arrived", n)
			}
		})
	}
}
