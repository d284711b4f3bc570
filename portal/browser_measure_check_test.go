package portal_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
)

// A resident checks at phone size, in Italian and in Arabic, whether they can apply for FNA B2: a mistyped ISEE
// first, then the corrected answers — with axe-core on every page.
func TestBrowserMeasureCheckJourney(t *testing.T) {
	for _, lang := range []string{"it", "ar"} {
		t.Run(lang, func(t *testing.T) {
			e := newEnv(t)
			base := e.listen(t)
			page := chromium.Browser(t).NewPage(t, browsertest.WithLanguage(lang))
			if status := page.Navigate(t, base+"/misure/fna-misura-b2"); status != http.StatusOK {
				t.Fatalf("measure page: %d", status)
			}
			if status := page.ClickAndWait(t, `main a[href="/misure/fna-misura-b2/verifica"]`); status != http.StatusOK {
				t.Fatalf("pre-check page: %d", status)
			}
			page.CheckAxe(t)
			page.SetValue(t, "#birth_date", "01/02/1940")
			page.SetValue(t, "#comune", "Crema")
			for _, radio := range []string{"#lives_at_home", "#category", "#certification", "#isee_type"} {
				page.Click(t, radio) // the first option of each: yes, anziani, accompagnamento, socio-sanitario
			}
			page.SetValue(t, "#isee", "12.0.0")
			if status := page.Submit(t, `main form`); status != http.StatusUnprocessableEntity {
				t.Fatalf("bad ISEE: status %d", status)
			}
			page.CheckAxe(t)
			if page.Attr(t, "#isee", "aria-invalid") != "true" || page.Attr(t, "#isee", "value") != "12.0.0" {
				t.Error("the error state does not keep what was typed or mark the field")
			}
			page.SetValue(t, "#isee", "12000")
			if status := page.Submit(t, `main form`); status != http.StatusOK {
				t.Fatalf("corrected answers: status %d", status)
			}
			page.CheckAxe(t)
			if !page.Exists(t, `main a[href="/accesso?next=/misure/fna-misura-b2"]`) {
				t.Errorf("no sign-in link on the result: %s", strings.TrimSpace(page.Text(t, "main")))
			}
			page.AssertNoConsoleErrors(t)
		})
	}
}
