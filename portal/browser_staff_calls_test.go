package portal_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
)

// A coordinatore at phone size, in Italian and in Arabic, manages the calls: the list, a call's edit page with a
// mistake and its correction, "open now", and a new call with the dates left out, then filled in. axe-core checks
// every page, the ones with errors included.
func TestBrowserStaffCalls(t *testing.T) {
	for _, lang := range []struct{ code, dir string }{{"it", "ltr"}, {"ar", "rtl"}} {
		t.Run(lang.code, func(t *testing.T) {
			e, clk := newStaffEnv(t)
			a := e.newStaff(t, "coord.browser", "coordinatore")
			id := e.newCall(t, 2031, clk.now().Add(48*time.Hour), clk.now().Add(30*24*time.Hour))
			edit := "/backoffice/avvisi/" + strconv.FormatInt(id, 10)
			base := e.listen(t)
			page := chromium.Browser(t).NewPage(t, browsertest.WithLanguage(lang.code))
			check := func(want, status int) { t.Helper(); checkPage(t, page, lang.dir, want, status) }
			shot := func(name string) {
				if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" {
					page.Screenshot(t, filepath.Join(dir, "staff-calls-"+name+"-"+lang.code+".png"))
				}
			}

			// Sign in: password, then the authenticator app, enrolled with the secret shown on the page.
			staffSignInPage(t, page, base, clk, a, check)

			// The list, reached from the menu.
			check(http.StatusOK, page.ClickAndWait(t, `nav.site-nav a[href="/backoffice/avvisi"]`))
			shot("list")
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="`+edit+`"]`))
			shot("edit")

			// A mistake and a missing amount: 422, messages, what was typed kept.
			page.SetValue(t, "#threshold-anziani", "tanti")
			page.Eval(t, `document.querySelector("#budget-voucher").value = ""`, nil) // chromedp cannot set an empty value
			check(http.StatusUnprocessableEntity, page.Submit(t, "#threshold-anziani"))
			shot("edit-errors")
			if page.Attr(t, "#threshold-anziani", "value") != "tanti" || page.Attr(t, "#threshold-anziani", "aria-invalid") != "true" {
				t.Error("typed amount lost, or not marked invalid")
			}
			if !page.Exists(t, "#budget-voucher-error") || !page.Exists(t, ".alert-danger") {
				t.Error("no message for the missing budget")
			}
			page.SetValue(t, "#threshold-anziani", "26.000")
			page.SetValue(t, "#budget-voucher", "5000")
			check(http.StatusOK, page.Submit(t, "#threshold-anziani"))
			if !strings.HasSuffix(page.Location(t), "/backoffice/avvisi") || !page.Exists(t, ".alert-success") {
				t.Fatalf("after saving at %s", page.Location(t))
			}
			if got := e.call(t, id); got.Thresholds["anziani"] != 26_000_00 || got.Budgets["voucher"] != 5_000_00 {
				t.Errorf("stored %v %v", got.Thresholds, got.Budgets)
			}

			// Open now.
			check(http.StatusOK, page.Navigate(t, base+edit))
			check(http.StatusOK, page.ClickAndWait(t, `main form[action="`+edit+`/apri"] button`))
			if !page.Exists(t, ".alert-success") || !page.Exists(t, `main form[action="`+edit+`/chiudi"]`) || page.Exists(t, "#form_version") {
				t.Error("after opening: no confirmation, no close button, or the form version still a field")
			}
			shot("open")

			// A new call: the dates left out, then filled in.
			check(http.StatusOK, page.ClickAndWait(t, `nav.site-nav a[href="/backoffice/avvisi"]`))
			check(http.StatusOK, page.ClickAndWait(t, `main a[href="/backoffice/avvisi/nuovo?misura=fna-b2"]`))
			shot("new")
			for _, sel := range []string{"#threshold-anziani", "#threshold-disabili_adulti", "#threshold-caregiver_minori", "#threshold-voucher",
				"#budget-anziani", "#budget-disabili_adulti", "#budget-caregiver_minori", "#budget-voucher"} {
				page.SetValue(t, sel, "10000")
			}
			page.SetValue(t, "#year", "2032")
			check(http.StatusUnprocessableEntity, page.Submit(t, "#year"))
			shot("new-errors")
			if !page.Exists(t, "#opens_date-error") || page.Attr(t, "#year", "value") != "2032" {
				t.Error("no message for the missing date, or the year lost")
			}
			page.SetValue(t, "#opens_date", "2032-03-01")
			page.SetValue(t, "#opens_time", "09:00")
			page.SetValue(t, "#closes_date", "2032-04-30")
			page.SetValue(t, "#closes_time", "12:00")
			check(http.StatusOK, page.Submit(t, "#year"))
			if !page.Exists(t, ".alert-success") || !strings.Contains(page.Text(t, "main"), "2032") {
				t.Error("new call not confirmed or not listed")
			}
		})
	}
}
