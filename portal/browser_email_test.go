package portal_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
)

// A resident without SPID signs in with a code read from the real SMTP server, gives the fiscal code once (first
// with a typo), and lands in the personal area — at phone size, in Italian and Arabic, axe on every page.
func TestBrowserEmailCodeJourney(t *testing.T) {
	for _, lang := range []string{"it", "ar"} {
		t.Run(lang, func(t *testing.T) {
			e := newEnv(t, withMail())
			base := e.listen(t)
			page := chromium.Browser(t).NewPage(t, browsertest.WithLanguage(lang))
			addr := "journey-" + lang + "@example.org"

			page.Navigate(t, base+"/accesso")
			page.CheckAxe(t)
			page.SetValue(t, "#email", "journey@") // a typo first
			if status := page.Submit(t, `form[action="/accesso/email"]`); status != http.StatusUnprocessableEntity {
				t.Fatalf("bad address: status %d", status)
			}
			page.CheckAxe(t)
			page.SetValue(t, "#email", addr)
			if status := page.Submit(t, `form[action="/accesso/email"]`); status != http.StatusOK {
				t.Fatalf("code request: status %d", status)
			}
			page.CheckAxe(t)
			code := codeRe.FindStringSubmatch(e.mailTo(t, addr, 1).Text)[1]
			page.SetValue(t, "#code", code)
			if status := page.Submit(t, `form[action="/accesso/email/codice"]`); status != http.StatusOK {
				t.Fatalf("code: status %d", status)
			}
			if !strings.HasSuffix(page.Location(t), "/accesso/codice-fiscale") {
				t.Fatalf("first sign-in at %s", page.Location(t))
			}
			page.CheckAxe(t)
			page.SetValue(t, "#fiscal_code", "RSSMRA85T10A562X")
			page.SetValue(t, "#given_name", "Mario")
			page.SetValue(t, "#family_name", "Rossi")
			page.Click(t, "#privacy")
			if status := page.Submit(t, `form[action="/accesso/codice-fiscale"]`); status != http.StatusUnprocessableEntity {
				t.Fatalf("wrong fiscal code: status %d", status)
			}
			page.CheckAxe(t)
			if page.Attr(t, "#given_name", "value") != "Mario" {
				t.Error("typed name lost")
			}
			page.SetValue(t, "#fiscal_code", "RSSMRA85T10A562S")
			var kept bool
			page.Eval(t, `document.querySelector('#privacy').checked`, &kept)
			if !kept {
				t.Error("the ticked privacy box was lost")
				page.Click(t, "#privacy")
			}
			if status := page.Submit(t, `form[action="/accesso/codice-fiscale"]`); status != http.StatusOK {
				t.Fatalf("fiscal code: status %d", status)
			}
			if !strings.HasSuffix(page.Location(t), "/area-personale") || page.Attr(t, "html", "lang") != lang {
				t.Fatalf("after sign-in at %s in %s", page.Location(t), page.Attr(t, "html", "lang"))
			}
			page.CheckAxe(t)
			page.Navigate(t, base+"/area-personale/messaggi")
			page.CheckAxe(t)
			page.AssertNoConsoleErrors(t)
		})
	}
}
