package portal_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// The services and opening hours in a browser at phone size, in Italian and Arabic, with axe-core on every page:
// a coordinatore goes from the calendar to the hours, mistypes and then adds Saturday hours, removes Tuesday's
// over a booked appointment (the warning, then confirmed), mistypes a closure, and corrects a service.
func TestBrowserStaffServices(t *testing.T) {
	for _, lang := range []struct{ code, dir string }{{"it", "ltr"}, {"ar", "rtl"}} {
		t.Run(lang.code, func(t *testing.T) {
			e, clk := newStaffEnv(t)
			acct := e.newStaff(t, "coord.orari", "coordinatore")
			p, err := e.db.CreatePersonByStaff(t.Context(), storage.Actor{StaffID: acct.id}, storage.NewPersonByStaff{
				FiscalCode: cfAnna, GivenName: "Anna", FamilyName: "Test", Phone: "+393331234567", Lang: "it"})
			if err != nil {
				t.Fatal(err)
			}
			e.bookFor(t, p.ID, "segretariato-sociale", romeSlot(time.November, 24, 9, 0))
			base := e.listen(t)
			page := chromium.Browser(t).NewPage(t, browsertest.WithLanguage(lang.code))
			check := func(want, status int) { t.Helper(); checkPage(t, page, lang.dir, want, status) }
			// pages other browser tests check with axe-core, or seen already in this one: the status is enough
			seen := func(want, status int) {
				t.Helper()
				if status != want {
					t.Fatalf("%s: status %d, want %d: %s", page.Location(t), status, want, page.Text(t, "main"))
				}
			}
			staffSignInPage(t, page, base, clk, acct, seen)

			// from the calendar to the hours of Crema's first service, segretariato
			seen(http.StatusOK, page.Navigate(t, base+"/backoffice/appuntamenti?sede=sportello-crema"))
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="/backoffice/disponibilita?sede=sportello-crema"]`))
			if page.Attr(t, `#servizio option[selected]`, "value") != "segretariato-sociale" {
				t.Fatal("the hours open on another service")
			}

			// Saturday hours that do not hold whole appointments, then right
			page.SetValue(t, "#giorno", "6")
			page.SetValue(t, "#dalle", "09:00")
			page.SetValue(t, "#alle", "10:10")
			check(http.StatusUnprocessableEntity, page.Submit(t, `main form[action="/backoffice/disponibilita/orari"]`))
			if page.Attr(t, "#alle", "aria-invalid") != "true" || page.Attr(t, "#alle", "value") != "10:10" {
				t.Error("the end that does not fit is not marked, or not kept")
			}
			page.SetValue(t, "#alle", "10:00")
			check(http.StatusOK, page.Submit(t, `main form[action="/backoffice/disponibilita/orari"]`))
			if n := e.countRows(t, `SELECT count(*) FROM availability WHERE weekday = 6 AND office = 'sportello-crema'`); n != 1 {
				t.Errorf("%d Saturday patterns", n)
			}

			// Tuesday's hours over Anna's appointment: the warning names her; confirmed, she stays booked
			var tuesday string
			if err := e.db.Pool.QueryRow(t.Context(), `SELECT id::text FROM availability WHERE office = 'sportello-crema'
				AND service = 'segretariato-sociale' AND weekday = 2`).Scan(&tuesday); err != nil {
				t.Fatal(err)
			}
			check(http.StatusConflict, page.Submit(t, `main form[action="/backoffice/disponibilita/orari/`+tuesday+`/rimuovi"]`))
			if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" {
				page.Screenshot(t, filepath.Join(dir, "staff-hours-warning-"+lang.code+".png"))
			}
			seen(http.StatusOK, page.ClickAndWait(t, `main section.alert form button`))
			if n := e.countRows(t, `SELECT count(*) FROM availability WHERE id = `+tuesday); n != 0 {
				t.Error("the confirmed removal did not remove the hours")
			}
			if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE status = 'booked'`); n != 1 {
				t.Errorf("%d bookings still booked", n)
			}

			// a closure without its note
			page.SetValue(t, "#primo", "2026-12-07")
			check(http.StatusUnprocessableEntity, page.Submit(t, `main form[action="/backoffice/disponibilita/eccezioni"]`))
			if page.Attr(t, "#nota", "aria-invalid") != "true" || page.Attr(t, "#primo", "value") != "2026-12-07" {
				t.Error("the missing note is not marked, or the day typed is lost")
			}

			// the service: a length that is no multiple of five, then right
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="/backoffice/servizi/segretariato-sociale"]`))
			page.SetValue(t, "#minuti", "7")
			check(http.StatusUnprocessableEntity, page.Submit(t, `main form[method="post"]`))
			if page.Attr(t, "#minuti", "aria-invalid") != "true" {
				t.Error("the wrong length is not marked")
			}
			page.SetValue(t, "#minuti", "20")
			check(http.StatusOK, page.Submit(t, `main form[method="post"]`))
			if n := e.countRows(t, `SELECT slot_minutes FROM services WHERE code = 'segretariato-sociale'`); n != 20 {
				t.Errorf("slot length %d after saving", n)
			}
		})
	}
}
