package portal_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
	"github.com/comunitasocialecremasca/smartservices/portal/devstack"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// A resident signs in with SPID/CIE at the (real, local) provider from a measure's page, comes back to it, edits
// the profile with a mistake and corrects it, and signs out — at phone size, in Italian and in Arabic, with
// axe-core on every portal page.
func TestBrowserSPIDJourney(t *testing.T) {
	for _, lang := range []string{"it", "ar"} {
		t.Run(lang, func(t *testing.T) {
			port, err := devstack.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			base := fmt.Sprintf("http://127.0.0.1:%d", port)
			issuer := testenv.StartOIDCProvider(t, testenv.OIDCClient{ID: "portal", Secret: rpSecret,
				RedirectURI: []string{base + "/accesso/oidc/callback"}})
			e := newEnv(t, withVar("BASE_URL", base), withVar("OIDC_ISSUER", issuer), withVar("OIDC_CLIENT_ID", "portal"),
				withVar("OIDC_CLIENT_SECRET", rpSecret))
			e.listenAt(t, fmt.Sprintf("127.0.0.1:%d", port))
			page := chromium.Browser(t).NewPage(t, browsertest.WithLanguage(lang))

			if status := page.Navigate(t, base+"/accesso?next=/misure/fna-misura-b2"); status != http.StatusOK {
				t.Fatalf("sign-in page: %d", status)
			}
			page.CheckAxe(t)
			page.ClickAndWait(t, `form[action="/accesso/spid"] button`)
			if !strings.HasPrefix(page.Location(t), issuer) {
				t.Fatalf("not at the provider: %s", page.Location(t))
			}
			page.SetValue(t, "#login", mario)
			if status := page.ClickAndWait(t, "#signin"); status != http.StatusOK {
				t.Fatalf("back from the provider: %d", status)
			}
			if got := page.Location(t); got != base+"/misure/fna-misura-b2" {
				t.Fatalf("after sign-in at %s, want the measure page", got)
			}
			if page.Attr(t, "html", "lang") != lang {
				t.Errorf("language lost through the provider round trip")
			}
			page.Navigate(t, base+"/area-personale")
			page.CheckAxe(t)
			if !strings.Contains(page.Text(t, "main"), "RSSMRA85T10A562S") {
				t.Error("personal area does not show the fiscal code")
			}
			page.Navigate(t, base+"/area-personale/profilo")
			page.CheckAxe(t)
			page.SetValue(t, "#email", "mario.rossi@")
			if status := page.Submit(t, `main form[action="/area-personale/profilo"]`); status != http.StatusUnprocessableEntity {
				t.Fatalf("bad e-mail: status %d", status)
			}
			page.CheckAxe(t) // the page with errors is accessible too
			if page.Attr(t, "#email", "aria-invalid") != "true" || page.Attr(t, "#email", "value") != "mario.rossi@" {
				t.Error("the error state does not keep what was typed or mark the field")
			}
			page.SetValue(t, "#email", "mario.rossi@example.org")
			if status := page.Submit(t, `main form[action="/area-personale/profilo"]`); status != http.StatusOK {
				t.Fatalf("corrected profile: status %d", status)
			}
			page.Navigate(t, base+"/area-personale")
			page.ClickAndWait(t, `form[action="/esci"] button`)
			page.CheckAxe(t)
			if !strings.HasSuffix(page.Location(t), "/accesso?uscita=1") {
				t.Errorf("after sign-out at %s", page.Location(t))
			}
			page.Navigate(t, base+"/area-personale")
			if !strings.Contains(page.Location(t), "/accesso") {
				t.Error("still signed in after sign-out")
			}
			page.AssertNoConsoleErrors(t)
		})
	}
}
