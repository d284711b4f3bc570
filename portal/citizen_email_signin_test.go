package portal_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

var codeRe = regexp.MustCompile(`\b(\d{6})\b`)

// mailTo waits until the n-th sign-in code e-mail to addr has reached the real SMTP server and returns it,
// decoded. (Other e-mails, such as the welcome message, are not counted.)
func (e *env) mailTo(t *testing.T, addr string, n int) testenv.ParsedMail {
	t.Helper()
	var found []testenv.ParsedMail
	testenv.WaitFor(t, 15*time.Second, fmt.Sprintf("code e-mail %d to %s", n, addr), func() error {
		found = found[:0]
		for _, m := range e.mail.Messages() {
			if len(m.To) == 1 && m.To[0] == addr {
				if pm := testenv.ParseMail(t, m.Raw); codeRe.MatchString(pm.Text) {
					found = append(found, pm)
				}
			}
		}
		if len(found) < n {
			return fmt.Errorf("%d e-mails so far", len(found))
		}
		return nil
	})
	return found[n-1]
}

// requestCode asks for a sign-in code and reads it from the e-mail.
func requestCode(t *testing.T, e *env, c *client, addr string, n int) string {
	t.Helper()
	resp, _ := c.do("POST", "/accesso/email", url.Values{"email": {addr}})
	wantStatus(t, resp, http.StatusSeeOther)
	mail := e.mailTo(t, addr, n)
	m := codeRe.FindStringSubmatch(mail.Text)
	if m == nil {
		t.Fatalf("no code in the e-mail: %q", mail.Text)
	}
	return m[1]
}

func TestEmailCodeFirstSignInAsksTheFiscalCodeOnce(t *testing.T) {
	e := newEnv(t, withMail())
	c := e.client(t)
	c.headers["Accept-Language"] = "ar"
	c.get("/accesso?next=/misure")
	code := requestCode(t, e, c, "nuova.residente@example.org", 1)
	mail := e.mailTo(t, "nuova.residente@example.org", 1)
	if !strings.Contains(mail.HTML, `dir="rtl"`) {
		t.Error("the code e-mail is not in the resident's language (Arabic, right-to-left)")
	}
	before := c.cookie(portal.SessionCookie)
	resp, _ := c.do("POST", "/accesso/email/codice", url.Values{"code": {code}})
	wantStatus(t, resp, http.StatusSeeOther)
	if resp.Header.Get("Location") != "/accesso/codice-fiscale" {
		t.Fatalf("first sign-in went to %q", resp.Header.Get("Location"))
	}
	if c.cookie(portal.SessionCookie) == before {
		t.Error("session ID unchanged after proving the address")
	}
	// Bad input: every error explained, every value kept.
	c.headers["Accept-Language"] = "it"
	resp, body := c.do("POST", "/accesso/codice-fiscale", url.Values{"fiscal_code": {"RSSMRA85T10A562X"}, "given_name": {"  Amina "}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "l&#39;ultimo carattere non corrisponde", `value="RSSMRA85T10A562X"`, `value="  Amina "`,
		"Questo campo è obbligatorio", "conferma di aver letto l&#39;informativa")
	resp, _ = c.do("POST", "/accesso/codice-fiscale", url.Values{"fiscal_code": {"bnc lra 01b43 d150 " + "x"}, "given_name": {"Amina"},
		"family_name": {"Benali"}, "privacy": {"yes"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	resp, _ = c.do("POST", "/accesso/codice-fiscale", url.Values{"fiscal_code": {"rssmra85t10a56nh"}, "given_name": {"Amina"},
		"family_name": {"Benali"}, "privacy": {"yes"}})
	wantStatus(t, resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/misure" {
		t.Errorf("after the first sign-in: %q, want back to /misure", loc)
	}
	_, body = c.get("/area-personale")
	wantContains(t, body, "RSSMRA85T10A56NH", "Amina")
	var consents int
	e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM consents WHERE kind = 'privacy'`).Scan(&consents) //nolint:errcheck
	if consents != 1 {
		t.Errorf("%d privacy consents recorded", consents)
	}

	// Next time the same address signs straight in, without the fiscal code.
	c2 := e.client(t)
	code = requestCode(t, e, c2, "nuova.residente@example.org", 2)
	resp, _ = c2.do("POST", "/accesso/email/codice", url.Values{"code": {code}})
	wantStatus(t, resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/area-personale" {
		t.Errorf("returning resident went to %q", loc)
	}
}

func TestEmailCodeBadInput(t *testing.T) {
	e := newEnv(t, withMail())
	addr := "maria@example.org"

	t.Run("malformed address keeps what was typed", func(t *testing.T) {
		c := e.client(t)
		resp, body := c.do("POST", "/accesso/email", url.Values{"email": {"maria@example"}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, `value="maria@example"`, "L&#39;indirizzo e-mail non è valido")
	})
	t.Run("wrong, then five tries, then refused even if right", func(t *testing.T) {
		c := e.client(t)
		code := requestCode(t, e, c, addr, 1)
		wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1000000)
		resp, body := c.do("POST", "/accesso/email/codice", url.Values{"code": {"12ab"}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Il codice è di 6 cifre", `value="12ab"`)
		for i := 0; i < 4; i++ {
			resp, body = c.do("POST", "/accesso/email/codice", url.Values{"code": {wrong}})
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, body, "Il codice non è corretto")
		}
		resp, body = c.do("POST", "/accesso/email/codice", url.Values{"code": {wrong}}) // fifth wrong try
		wantContains(t, body, "Chiedi un nuovo codice")
		resp, _ = c.do("POST", "/accesso/email/codice", url.Values{"code": {code}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
	})
	t.Run("a code works once", func(t *testing.T) {
		c := e.client(t)
		code := requestCode(t, e, c, addr, 2)
		resp, _ := c.do("POST", "/accesso/email/codice", url.Values{"code": {code}})
		wantStatus(t, resp, http.StatusSeeOther)
		other := e.client(t)
		other.do("POST", "/accesso/email", url.Values{"email": {addr}}) // a fresh request, mail 3
		e.mailTo(t, addr, 3)
		resp, body := other.do("POST", "/accesso/email/codice", url.Values{"code": {code}}) // the spent code
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Il codice non è corretto")
	})
	t.Run("expired", func(t *testing.T) {
		c := e.client(t)
		code := requestCode(t, e, c, "scade@example.org", 1)
		sum := sha256.Sum256([]byte("scade@example.org"))
		key := e.prefix + "otp:" + hex.EncodeToString(sum[:])
		if ttl := e.srv.Redis.TTL(context.Background(), key).Val(); ttl <= 9*time.Minute || ttl > 10*time.Minute {
			t.Errorf("code valid for %v, want 10 minutes", ttl)
		}
		e.srv.Redis.PExpire(context.Background(), key, time.Millisecond)
		testenv.WaitFor(t, 5*time.Second, "code to expire", func() error {
			if e.srv.Redis.Exists(context.Background(), key).Val() != 0 {
				return fmt.Errorf("still there")
			}
			return nil
		})
		resp, body := c.do("POST", "/accesso/email/codice", url.Values{"code": {code}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Il codice è scaduto")
	})
	t.Run("too many codes for one address", func(t *testing.T) {
		c := e.client(t)
		for i := 0; i < 3; i++ {
			resp, _ := c.do("POST", "/accesso/email", url.Values{"email": {"spam.target@example.org"}})
			wantStatus(t, resp, http.StatusSeeOther)
		}
		resp, body := c.do("POST", "/accesso/email", url.Values{"email": {"Spam.Target@example.org"}})
		wantStatus(t, resp, http.StatusTooManyRequests)
		wantContains(t, body, "Hai chiesto troppi codici", `value="Spam.Target@example.org"`)
	})
}

func TestEmailCodeCannotClaimAnotherPersonsFiscalCode(t *testing.T) {
	e := newEnv(t, withMail())
	if _, err := e.db.Pool.Exec(context.Background(), `INSERT INTO people (fiscal_code, email) VALUES ('RSSMRA85T10A562S', 'mario@example.org')`); err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	code := requestCode(t, e, c, "impostor@example.org", 1)
	c.do("POST", "/accesso/email/codice", url.Values{"code": {code}})
	resp, body := c.do("POST", "/accesso/codice-fiscale", url.Values{"fiscal_code": {"RSSMRA85T10A562S"}, "given_name": {"M"},
		"family_name": {"R"}, "privacy": {"yes"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "già registrato con un altro indirizzo")
	resp, _ = c.get("/area-personale")
	wantStatus(t, resp, http.StatusSeeOther)
}

func TestEmailSignInCanBeSwitchedOff(t *testing.T) {
	e := newOIDCEnv(t, withVar("EMAIL_SIGNIN", "off"))
	c := e.client(t)
	_, body := c.get("/accesso")
	if strings.Contains(body, `action="/accesso/email"`) {
		t.Error("sign-in page offers e-mail codes although they are off")
	}
	resp, _ := c.do("POST", "/accesso/email", url.Values{"email": {"a@example.org"}})
	wantStatus(t, resp, http.StatusNotFound)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
