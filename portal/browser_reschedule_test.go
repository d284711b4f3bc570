package portal_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
)

// From the link in the confirmation e-mail, on a phone (360×740), without signing in, in Italian and in Arabic,
// with axe-core on every page: the appointment, moving it to another time, then cancelling it.
func TestBrowserBookingReschedule(t *testing.T) {
	for _, lang := range []struct{ code, dir string }{{"it", "ltr"}, {"ar", "rtl"}} {
		t.Run(lang.code, func(t *testing.T) {
			e, _ := newStaffEnv(t, withMail())
			anna := e.citizen(t, "anna@example.org", cfAnna)
			start := romeSlot(time.November, 25, 9, 0)
			key := hold(t, anna, segretariato, start)
			resp, _ := confirm(anna, segretariato, start, key, "modalita", "in_person", "lingua", lang.code)
			wantStatus(t, resp, http.StatusSeeOther)
			link := manageLinkRe.FindString(e.mailContaining(t, "anna@example.org", "/appuntamenti/gestisci/").Text)

			base := e.listen(t)
			page := chromium.Browser(t).NewPage(t, browsertest.WithLanguage(lang.code))
			check := func(want, status int) { t.Helper(); checkPage(t, page, lang.dir, want, status) }
			check(http.StatusOK, page.Navigate(t, base+link))
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="`+link+`/sposta"]`))
			to := romeSlot(time.November, 24, 10, 0)
			page.Click(t, "#slot-"+to)
			check(http.StatusOK, page.Submit(t, "#slot-"+to))
			loc := strings.TrimPrefix(page.Location(t), base)
			newLink, q, _ := strings.Cut(loc, "?")
			if q != "spostato=1" || !manageLinkRe.MatchString(newLink) || newLink == link {
				t.Fatalf("after moving at %s", loc)
			}
			if !strings.Contains(page.Text(t, "main"), "10:00") {
				t.Errorf("the moved appointment: %s", page.Text(t, "main"))
			}
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="`+newLink+`/annulla"]`))
			check(http.StatusOK, page.Submit(t, `main form[action="`+newLink+`/annulla"]`))
			if !strings.HasSuffix(page.Location(t), newLink+"?annullato=1") {
				t.Fatalf("after cancelling at %s", page.Location(t))
			}
			if page.Exists(t, `main a[href="`+newLink+`/annulla"]`) {
				t.Error("a cancelled appointment still offers cancelling")
			}
			if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE status IN ('moved', 'cancelled')`); n != 2 {
				t.Errorf("%d moved or cancelled bookings, want 2", n)
			}
		})
	}
}
