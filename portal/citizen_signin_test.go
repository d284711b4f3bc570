package portal_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/comunitasocialecremasca/smartservices/portal"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

const (
	rpSecret   = "portal-test-client-secret-0123456789"
	mario      = "RSSMRA85T10A562S" // known to the test provider: Mario Rossi, mario.rossi@example.org
	spidL1     = "https://www.spid.gov.it/SpidL1"
	spidL2     = "https://www.spid.gov.it/SpidL2"
	callbackAt = "http://127.0.0.1:8080/accesso/oidc/callback"
)

// newOIDCEnv is a portal whose SPID/CIE sign-in goes to a real OpenID provider started for the test.
func newOIDCEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	issuer := testenv.StartOIDCProvider(t, testenv.OIDCClient{ID: "portal", Secret: rpSecret, RedirectURI: []string{callbackAt}})
	return newEnv(t, append([]option{withVar("OIDC_ISSUER", issuer), withVar("OIDC_CLIENT_ID", "portal"),
		withVar("OIDC_CLIENT_SECRET", rpSecret)}, opts...)...)
}

// spidSignIn runs the whole flow for c and returns the portal's answer to the provider's redirect.
func spidSignIn(t *testing.T, c *client, login, level string) *http.Response {
	t.Helper()
	resp, _ := c.do("POST", "/accesso/spid", url.Values{})
	wantStatus(t, resp, http.StatusSeeOther)
	auth := resp.Header.Get("Location")
	for _, want := range []string{"code_challenge_method=S256", "code_challenge=", "nonce=", "state=", "acr_values=" + url.QueryEscape(spidL2)} {
		if !strings.Contains(auth, want) {
			t.Errorf("authorization request lacks %s: %s", want, auth)
		}
	}
	back := testenv.IdPLogin(t, auth, login, level)
	resp, _ = c.get(back.RequestURI())
	return resp
}

func TestSPIDSignInReturnsWhereTheResidentWas(t *testing.T) {
	e := newOIDCEnv(t)
	c := e.client(t)
	resp, _ := c.get("/accesso?next=/misure/fna-misura-b2")
	wantStatus(t, resp, http.StatusOK)
	before := c.cookie(portal.SessionCookie)
	resp = spidSignIn(t, c, mario, spidL2)
	wantStatus(t, resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/misure/fna-misura-b2" {
		t.Errorf("back to %q, want the measure page", loc)
	}
	if after := c.cookie(portal.SessionCookie); after == before || after == "" {
		t.Error("session ID did not change at sign-in (session fixation)")
	}
	_, body := c.get("/area-personale")
	wantContains(t, body, "Mario", mario, "SPID o CIE")
	var email, level string
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT p.email, s.level FROM people p JOIN sign_ins s ON s.person_id = p.id
		WHERE p.fiscal_code = $1`, mario).Scan(&email, &level); err != nil {
		t.Fatal(err)
	}
	if email != "mario.rossi@example.org" || level != spidL2 {
		t.Errorf("stored email %q, level %q", email, level)
	}
	// The session that existed before sign-in is gone from the server.
	if n, _ := e.srv.Redis.Exists(context.Background(), e.prefix+"sess:"+before).Result(); n != 0 {
		t.Error("pre-sign-in session still stored")
	}
}

func TestSPIDRefusesTamperedOrReplayedCallbacks(t *testing.T) {
	e := newOIDCEnv(t)
	t.Run("tampered state", func(t *testing.T) {
		c := e.client(t)
		resp, _ := c.do("POST", "/accesso/spid", url.Values{})
		back := testenv.IdPLogin(t, resp.Header.Get("Location"), mario, spidL2)
		q := back.Query()
		q.Set("state", q.Get("state")+"x")
		back.RawQuery = q.Encode()
		resp, body := c.get(back.RequestURI())
		wantStatus(t, resp, http.StatusBadRequest)
		wantContains(t, body, "Accesso non riuscito")
		resp, _ = c.get("/area-personale")
		wantStatus(t, resp, http.StatusSeeOther)
	})
	t.Run("replayed callback", func(t *testing.T) {
		c := e.client(t)
		resp, _ := c.do("POST", "/accesso/spid", url.Values{})
		back := testenv.IdPLogin(t, resp.Header.Get("Location"), mario, spidL2)
		resp, _ = c.get(back.RequestURI())
		wantStatus(t, resp, http.StatusSeeOther)
		resp, _ = c.get(back.RequestURI())
		wantStatus(t, resp, http.StatusBadRequest)
	})
	t.Run("callback in another browser", func(t *testing.T) {
		victim, attacker := e.client(t), e.client(t)
		resp, _ := attacker.do("POST", "/accesso/spid", url.Values{})
		back := testenv.IdPLogin(t, resp.Header.Get("Location"), mario, spidL2)
		victim.get("/accesso")
		resp, _ = victim.get(back.RequestURI()) // login CSRF: the attacker's code in the victim's browser
		wantStatus(t, resp, http.StatusBadRequest)
	})
	t.Run("provider error", func(t *testing.T) {
		c := e.client(t)
		c.do("POST", "/accesso/spid", url.Values{})
		resp, body := c.get("/accesso/oidc/callback?error=access_denied&state=x")
		wantStatus(t, resp, http.StatusBadRequest)
		wantContains(t, body, "Accesso non riuscito")
	})
}

func TestSPIDLevelTooLowIsRefused(t *testing.T) {
	e := newOIDCEnv(t)
	c := e.client(t)
	resp := spidSignIn(t, c, mario, spidL1)
	wantStatus(t, resp, http.StatusBadRequest)
	resp, _ = c.get("/area-personale")
	wantStatus(t, resp, http.StatusSeeOther)
}

func TestSignOutEndsTheSessionOnTheServer(t *testing.T) {
	e := newOIDCEnv(t)
	c := e.client(t)
	spidSignIn(t, c, mario, spidL2)
	old := c.cookie(portal.SessionCookie)
	resp, _ := c.do("POST", "/esci", url.Values{})
	wantStatus(t, resp, http.StatusSeeOther)
	// Replaying the old cookie gets nobody in.
	replay := e.client(t)
	replay.jar.SetCookies(base, []*http.Cookie{{Name: portal.SessionCookie, Value: old}})
	resp, _ = replay.get("/area-personale")
	wantStatus(t, resp, http.StatusSeeOther)
	if !strings.HasPrefix(resp.Header.Get("Location"), "/accesso") {
		t.Errorf("redirect to %q", resp.Header.Get("Location"))
	}
}

func TestSignOutEverywhere(t *testing.T) {
	e := newOIDCEnv(t)
	phone, laptop := e.client(t), e.client(t)
	spidSignIn(t, phone, mario, spidL2)
	spidSignIn(t, laptop, mario, spidL2)
	resp, _ := laptop.get("/area-personale")
	wantStatus(t, resp, http.StatusOK)
	resp, _ = phone.do("POST", "/esci-ovunque", url.Values{})
	wantStatus(t, resp, http.StatusSeeOther)
	resp, _ = laptop.get("/area-personale")
	wantStatus(t, resp, http.StatusSeeOther)
}

func TestPersonalAreaNeedsSignIn(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	for _, p := range []string{"/area-personale", "/area-personale/profilo", "/area-personale/dati"} {
		resp, _ := c.get(p)
		wantStatus(t, resp, http.StatusSeeOther)
		if want := "/accesso?next=" + url.QueryEscape(p); resp.Header.Get("Location") != want {
			t.Errorf("%s: redirect to %q, want %q", p, resp.Header.Get("Location"), want)
		}
	}
	resp, _ := c.do("POST", "/esci-ovunque", url.Values{})
	wantStatus(t, resp, http.StatusSeeOther)
}

func TestProfileEditKeepsWhatWasTyped(t *testing.T) {
	e := newOIDCEnv(t)
	c := e.client(t)
	spidSignIn(t, c, mario, spidL2)
	bad := url.Values{"email": {"mario.rossi@"}, "phone": {"33x"}, "lang": {"xx"}, "notify_sms": {"yes"}}
	resp, body := c.do("POST", "/area-personale/profilo", bad)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `value="mario.rossi@"`, `value="33x"`, "L&#39;indirizzo e-mail non è valido", "Il numero di telefono non è valido",
		"Scegli una delle lingue", `aria-invalid="true"`, `href="#email"`)
	good := url.Values{"email": {"Mario.Rossi@Example.org"}, "phone": {"333 765 4321"}, "lang": {"ro"}, "notify_email": {"yes"}, "notify_sms": {"yes"}}
	resp, body = c.do("POST", "/area-personale/profilo", good)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `lang="ro"`, "393337654321")
	// The preferred language now follows the resident everywhere.
	_, body = c.get("/area-personale")
	wantContains(t, body, `lang="ro"`)
	var notifySMS bool
	var consents int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT p.notify_sms, count(c.*) FROM people p
		LEFT JOIN consents c ON c.person_id = p.id AND c.kind = 'notifications_sms' AND c.withdrawn_at IS NULL
		WHERE fiscal_code = $1 GROUP BY p.notify_sms`, mario).Scan(&notifySMS, &consents); err != nil {
		t.Fatal(err)
	}
	if !notifySMS || consents != 1 {
		t.Errorf("sms %v, consents %d", notifySMS, consents)
	}
}

func TestOwnDataExport(t *testing.T) {
	e := newOIDCEnv(t)
	c := e.client(t)
	spidSignIn(t, c, mario, spidL2)
	resp, body := c.get("/area-personale/dati")
	wantStatus(t, resp, http.StatusOK)
	if !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Error("export not a download")
	}
	var got struct {
		Person struct {
			FiscalCode string `json:"fiscal_code"`
			Email      string `json:"email"`
		} `json:"person"`
		SignIns []struct{ Method, Level string } `json:"sign_ins"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Person.FiscalCode != mario || got.Person.Email != "mario.rossi@example.org" || len(got.SignIns) != 1 || got.SignIns[0].Method != "spid" {
		t.Errorf("export: %+v", got)
	}
}

// A new resident finds a welcome message in the inbox; nobody else can touch it.
func TestInboxWelcomeAndOwnership(t *testing.T) {
	e := newOIDCEnv(t)
	mine, theirs := e.client(t), e.client(t)
	spidSignIn(t, mine, mario, spidL2)
	spidSignIn(t, theirs, "BNCLRA01B43D150H", spidL2) // another resident
	_, body := mine.get("/area-personale")
	wantContains(t, body, "Da leggere: 1")
	_, body = mine.get("/area-personale/messaggi")
	wantContains(t, body, `action="/area-personale/messaggi/`)
	id := regexp.MustCompile(`/area-personale/messaggi/(\d+)/letto`).FindStringSubmatch(body)[1]
	resp, _ := theirs.do("POST", "/area-personale/messaggi/"+id+"/letto", url.Values{})
	wantStatus(t, resp, http.StatusNotFound)
	resp, _ = mine.do("POST", "/area-personale/messaggi/"+id+"/letto", url.Values{})
	wantStatus(t, resp, http.StatusSeeOther)
	_, body = mine.get("/area-personale/messaggi")
	if strings.Contains(body, "/letto") {
		t.Error("message still unread")
	}
	resp, _ = mine.do("POST", "/area-personale/messaggi/abc/letto", url.Values{})
	wantStatus(t, resp, http.StatusNotFound)
}
