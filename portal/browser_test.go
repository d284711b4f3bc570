package portal_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
)

// Every public page at phone size, in Italian and in Arabic: the right language and direction, no console
// errors, and no WCAG 2.1 A/AA violation according to axe-core.
func TestBrowserPagesAreAccessible(t *testing.T) {
	e := newEnv(t)
	base := e.listen(t)
	for _, lang := range []struct{ code, dir string }{{"it", "ltr"}, {"ar", "rtl"}} {
		t.Run(lang.code, func(t *testing.T) {
			page := chromium.Browser(t).NewPage(t, browsertest.WithLanguage(lang.code))
			for _, p := range publicPages {
				if status := page.Navigate(t, base+p.path); status != http.StatusOK {
					t.Fatalf("%s: status %d", p.path, status)
				}
				if got := page.Attr(t, "html", "lang"); got != lang.code {
					t.Errorf("%s: lang=%q", p.path, got)
				}
				if got := page.Attr(t, "html", "dir"); got != lang.dir {
					t.Errorf("%s: dir=%q", p.path, got)
				}
				page.CheckAxe(t)
				page.AssertNoConsoleErrors(t)
			}
			// The 404 page too.
			if status := page.Navigate(t, base+"/non-esiste"); status != http.StatusNotFound {
				t.Errorf("404 page: status %d", status)
			}
			page.CheckAxe(t)
			if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" {
				page.Navigate(t, base+"/")
				page.Screenshot(t, filepath.Join(dir, "home-"+lang.code+".png"))
			}
		})
	}
}

// A resident switches language from the header menu without JavaScript-only widgets; the choice sticks as they
// move through the site.
func TestBrowserLanguageSwitchPersists(t *testing.T) {
	e := newEnv(t)
	base := e.listen(t)
	page := chromium.Browser(t).NewPage(t) // Italian browser
	page.Navigate(t, base+"/misure")
	page.Click(t, "details.lang-switch summary")
	page.WaitVisible(t, `details.lang-switch button[value="ar"]`)
	page.CheckAxe(t) // with the menu open
	if status := page.ClickAndWait(t, `details.lang-switch button[value="ar"]`); status != http.StatusOK {
		t.Fatalf("after switching: status %d", status)
	}
	if !strings.HasSuffix(page.Location(t), "/misure") {
		t.Errorf("switch did not return to the page: %s", page.Location(t))
	}
	if page.Attr(t, "html", "dir") != "rtl" || page.Attr(t, "html", "lang") != "ar" {
		t.Fatal("page not in Arabic after the switch")
	}
	page.ClickAndWait(t, `nav.site-nav a[href="/sedi"]`)
	if page.Attr(t, "html", "lang") != "ar" {
		t.Error("language lost on the next page")
	}
	// And back, through the language page and its radio buttons.
	page.Navigate(t, base+"/lingua")
	page.Click(t, "#lang-it")
	page.Submit(t, "main form")
	if page.Attr(t, "html", "lang") != "it" || page.Attr(t, "html", "dir") != "ltr" {
		t.Error("language page did not switch back to Italian")
	}
	page.AssertNoConsoleErrors(t)
}
