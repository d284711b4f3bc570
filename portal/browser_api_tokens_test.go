package portal_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
)

// An admin at phone size, in Italian and in Arabic, makes a token for one of the district's systems — first
// forgetting the permissions, then ticking them and limiting it to Crema — reads it once, and revokes it. axe-core checks every page, the
// one with the mistake included.
func TestBrowserAPITokens(t *testing.T) {
	for _, lang := range []struct{ code, dir string }{{"it", "ltr"}, {"ar", "rtl"}} {
		t.Run(lang.code, func(t *testing.T) {
			e, clk := newStaffEnv(t)
			a := e.newStaff(t, "admin.browser", "admin")
			base := e.listen(t)
			page := chromium.Browser(t).NewPage(t, browsertest.WithLanguage(lang.code))
			check := func(want, status int) { t.Helper(); checkPage(t, page, lang.dir, want, status) }
			shot := func(name string) {
				if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" {
					page.Screenshot(t, filepath.Join(dir, "api-tokens-"+name+"-"+lang.code+".png"))
				}
			}

			staffSignInPage(t, page, base, clk, a, check)

			// The page, from the menu.
			check(http.StatusOK, page.ClickAndWait(t, `nav.site-nav a[href="/backoffice/api"]`))
			shot("list")

			// No permission ticked: 422, explained, the name kept.
			page.SetValue(t, "#name", "Contabilità CSC")
			check(http.StatusUnprocessableEntity, page.Submit(t, "#name"))
			shot("errors")
			if page.Attr(t, "#name", "value") != "Contabilità CSC" || !page.Exists(t, "#scope-error") || !page.Exists(t, ".alert-danger") {
				t.Error("typed name lost, or no message for the missing permission")
			}

			page.Click(t, `label[for="scope-applications:read"]`)
			page.Click(t, `label[for="scope-status:write"]`)
			page.Click(t, `label[for="sub-ambito-crema"]`) // limited to Crema's applications
			check(http.StatusOK, page.Submit(t, "#name"))
			shot("created")
			token := page.Text(t, "#new-token")
			if !strings.HasPrefix(token, "csc_") || len(token) != 47 || !page.Exists(t, ".alert-success") {
				t.Fatalf("token shown as %q", token)
			}
			if body := page.Text(t, "main"); !strings.Contains(body, "Contabilità CSC") {
				t.Error("the new token is not listed")
			}
			if got := page.Text(t, "main li[id^=token-] dl dd:nth-of-type(2)"); got != "Crema" {
				t.Errorf("the token's sub-ambiti are listed as %q", got)
			}

			// Revoked: confirmed, marked, no button any more; the token is shown no more.
			check(http.StatusOK, page.ClickAndWait(t, `main form[action$="/revoca"] button`))
			shot("revoked")
			if !page.Exists(t, ".alert-success") || page.Exists(t, `main form[action$="/revoca"]`) || page.Exists(t, "#new-token") {
				t.Error("after revoking: no confirmation, a revoke button left, or the token shown again")
			}
		})
	}
}
