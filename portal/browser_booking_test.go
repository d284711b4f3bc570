package portal_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
)

// A resident books an appointment on a phone (360×740), in Italian and in Arabic, with axe-core on every page. First
// as a visitor without an account: service, comune and office, the first free day's times, hold, "continue
// without an account" with name, e-mail, mobile and an interpreter, the code from the e-mail, the appointment's
// page through its link. Then signing in from the confirm page, which comes back to the time held, confirming, the
// appointment's page, cancelling it and "I miei appuntamenti".
func TestBrowserBookingJourney(t *testing.T) {
	for _, lang := range []struct{ code, dir string }{{"it", "ltr"}, {"ar", "rtl"}} {
		t.Run(lang.code, func(t *testing.T) {
			e, _ := newStaffEnv(t, withMail())
			base := e.listen(t)
			page := chromium.Browser(t).NewPage(t, browsertest.WithLanguage(lang.code))
			check := func(want, status int) { t.Helper(); checkPage(t, page, lang.dir, want, status) }
			guest := "ospite-" + lang.code + "@example.org"

			// from the service page to the services, open to visitors; the offices for a resident of Crema
			check(http.StatusOK, page.Navigate(t, base+"/servizi/prenota-appuntamento"))
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="/appuntamenti/prenota"]`))
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="/appuntamenti/prenota/segretariato-sociale"]`))
			page.SetValue(t, "#comune", "Crema")
			check(http.StatusOK, page.Submit(t, "#comune"))
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="`+segretariato+`"]`))

			// the first free day comes first, its first time chosen: hold another
			first, half := romeSlot(11, 24, 9, 0), romeSlot(11, 24, 9, 30)
			var checked bool
			page.Eval(t, `document.querySelector('#slot-`+first+`').checked`, &checked)
			if !checked {
				t.Error("the first free time is not the one proposed")
			}
			page.Click(t, "#slot-"+half)
			check(http.StatusOK, page.Submit(t, "#slot-"+first))
			if !strings.Contains(page.Location(t), "/conferma?inizio="+half) {
				t.Fatalf("after holding at %s", page.Location(t))
			}
			if !strings.Contains(page.Text(t, "main"), "10:05") {
				t.Error("the confirm page does not say until when the time is held")
			}

			// continue without an account: by phone, in the page's language, with a cultural mediator
			page.SetValue(t, "#nome", "Samira Haddad")
			page.SetValue(t, "#email", guest)
			page.SetValue(t, "#cellulare", "333 765 4321")
			page.Click(t, "#modalita-phone")
			page.SetValue(t, "#lingua", lang.code)
			page.Click(t, "#interprete")
			check(http.StatusOK, page.Submit(t, "#nome"))
			if !strings.Contains(page.Location(t), "/ospite/codice?inizio="+half) || !strings.Contains(page.Text(t, "main"), guest) {
				t.Fatalf("after asking the code at %s: %s", page.Location(t), page.Text(t, "main"))
			}
			page.SetValue(t, "#code", e.guestCode(t, guest, 1))
			check(http.StatusOK, page.Submit(t, "#code"))
			link, q, _ := strings.Cut(strings.TrimPrefix(page.Location(t), base), "?")
			if !manageLinkRe.MatchString(link) || q != "prenotato=1" || !strings.Contains(page.Text(t, "main"), "09:30") {
				t.Fatalf("after the code at %s: %s", page.Location(t), page.Text(t, "main"))
			}
			if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE guest_email = $1 AND lang = $2 AND interpreter`,
				guest, lang.code); n != 1 {
				t.Errorf("%d guest bookings", n)
			}

			// another time, and this time signing in from the confirm page: back to it, still held
			ten := romeSlot(11, 24, 10, 0)
			page.Navigate(t, base+segretariato)
			page.Click(t, "#slot-"+ten)
			page.Submit(t, "#slot-"+ten)
			check(http.StatusOK, page.ClickAndWait(t, `main a[href^="/accesso?next="]`))
			page.SetValue(t, "#email", "prenota-"+lang.code+"@example.org")
			page.Submit(t, `form[action="/accesso/email"]`)
			page.SetValue(t, "#code", codeRe.FindStringSubmatch(e.mailTo(t, "prenota-"+lang.code+"@example.org", 1).Text)[1])
			page.Submit(t, `form[action="/accesso/email/codice"]`)
			page.SetValue(t, "#fiscal_code", cfAnna)
			page.SetValue(t, "#given_name", "Anna")
			page.SetValue(t, "#family_name", "Bianchi")
			page.Click(t, "#privacy")
			check(http.StatusOK, page.Submit(t, `form[action="/accesso/codice-fiscale"]`))
			if !strings.Contains(page.Location(t), "/conferma?inizio="+ten) || page.Exists(t, "#nome") {
				t.Fatalf("after sign-in at %s", page.Location(t))
			}
			page.Click(t, "#modalita-phone")
			check(http.StatusOK, page.Submit(t, "#interprete"))
			if !strings.Contains(page.Location(t), "?prenotato=1") {
				t.Fatalf("after confirming at %s", page.Location(t))
			}
			appointment := strings.TrimPrefix(strings.TrimSuffix(page.Location(t), "?prenotato=1"), base)
			if !strings.Contains(page.Text(t, "main"), "10:00") {
				t.Errorf("the appointment's page: %s", page.Text(t, "main"))
			}

			// cancel it from its page, confirming; "I miei appuntamenti" follows
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="`+appointment+`/annulla"]`))
			check(http.StatusOK, page.Submit(t, `main form[action="`+appointment+`/annulla"]`))
			if !strings.HasSuffix(page.Location(t), "/appuntamenti?annullato=1") {
				t.Fatalf("after cancelling at %s", page.Location(t))
			}
			if page.Exists(t, `main a[href="`+appointment+`/annulla"]`) {
				t.Error("a cancelled appointment still offers cancelling")
			}
			if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE status = 'cancelled' AND person_id IS NOT NULL`); n != 1 {
				t.Errorf("%d cancelled bookings", n)
			}
		})
	}
}
