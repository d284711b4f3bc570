package portal_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
)

// A resident books an appointment on a phone (360×740), in Italian and in Arabic, with axe-core on every page:
// sign-in from the booking page, service, comune and office, the first free day's times, hold, confirm with an
// interpreter, the appointment's page, "I miei appuntamenti", cancelling with its confirmation.
func TestBrowserBookingJourney(t *testing.T) {
	for _, lang := range []struct{ code, dir string }{{"it", "ltr"}, {"ar", "rtl"}} {
		t.Run(lang.code, func(t *testing.T) {
			e, _ := newStaffEnv(t, withMail())
			base := e.listen(t)
			page := chromium.Browser(t).NewPage(t, browsertest.WithLanguage(lang.code))
			check := func(want, status int) { t.Helper(); checkPage(t, page, lang.dir, want, status) }
			email := "prenota-" + lang.code + "@example.org"

			// from the service page to sign-in, and back to the first step
			check(http.StatusOK, page.Navigate(t, base+"/servizi/prenota-appuntamento"))
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="/appuntamenti/prenota"]`))
			page.SetValue(t, "#email", email)
			page.Submit(t, `form[action="/accesso/email"]`)
			page.SetValue(t, "#code", codeRe.FindStringSubmatch(e.mailTo(t, email, 1).Text)[1])
			page.Submit(t, `form[action="/accesso/email/codice"]`)
			page.SetValue(t, "#fiscal_code", cfAnna)
			page.SetValue(t, "#given_name", "Anna")
			page.SetValue(t, "#family_name", "Bianchi")
			page.Click(t, "#privacy")
			check(http.StatusOK, page.Submit(t, `form[action="/accesso/codice-fiscale"]`))
			if !strings.HasSuffix(page.Location(t), "/appuntamenti/prenota") {
				t.Fatalf("after sign-in at %s", page.Location(t))
			}

			// service, then the offices for a resident of Crema
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="/appuntamenti/prenota/segretariato-sociale"]`))
			page.SetValue(t, "#comune", "Crema")
			check(http.StatusOK, page.Submit(t, "#comune"))
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="`+segretariato+`"]`))

			// the first free day comes first, its first time chosen: hold it
			first := romeSlot(11, 24, 9, 0)
			var checked bool
			page.Eval(t, `document.querySelector('#slot-`+first+`').checked`, &checked)
			if !checked {
				t.Error("the first free time is not the one proposed")
			}
			page.Click(t, "#slot-"+romeSlot(11, 24, 9, 30))
			check(http.StatusOK, page.Submit(t, "#slot-"+first))
			if !strings.Contains(page.Location(t), "/conferma?inizio="+romeSlot(11, 24, 9, 30)) {
				t.Fatalf("after holding at %s", page.Location(t))
			}
			if !strings.Contains(page.Text(t, "main"), "10:05") {
				t.Error("the confirm page does not say until when the time is held")
			}

			// confirm by phone, in the page's language, with a cultural mediator
			page.Click(t, "#modalita-phone")
			page.SetValue(t, "#lingua", lang.code)
			page.Click(t, "#interprete")
			check(http.StatusOK, page.Submit(t, "#interprete"))
			if !strings.Contains(page.Location(t), "?prenotato=1") {
				t.Fatalf("after confirming at %s", page.Location(t))
			}
			appointment := strings.TrimPrefix(strings.TrimSuffix(page.Location(t), "?prenotato=1"), base)
			if !strings.Contains(page.Text(t, "main"), "09:30") {
				t.Errorf("the appointment's page: %s", page.Text(t, "main"))
			}

			// it is in "I miei appuntamenti"; cancel it from its page, confirming
			check(http.StatusOK, page.Navigate(t, base+"/appuntamenti"))
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="`+appointment+`"]`))
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="`+appointment+`/annulla"]`))
			check(http.StatusOK, page.Submit(t, `main form[action="`+appointment+`/annulla"]`))
			if !strings.HasSuffix(page.Location(t), "/appuntamenti?annullato=1") {
				t.Fatalf("after cancelling at %s", page.Location(t))
			}
			if page.Exists(t, `main a[href="`+appointment+`/annulla"]`) {
				t.Error("a cancelled appointment still offers cancelling")
			}
			if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE status = 'cancelled'`); n != 1 {
				t.Errorf("%d cancelled bookings", n)
			}
		})
	}
}
