package portal_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestLanguageSwitchPersistsAcrossPages(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	resp, _ := c.do("POST", "/lingua", url.Values{"lang": {"ar"}, "next": {"/misure"}})
	wantStatus(t, resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/misure" {
		t.Errorf("redirect to %q, want back to /misure", loc)
	}
	if c.cookie("csc_lang") != "ar" {
		t.Error("language cookie not set")
	}
	for _, p := range []string{"/misure", "/sedi", "/"} {
		_, body := c.get(p)
		wantContains(t, body, `<html lang="ar" dir="rtl">`)
	}
	// The explicit choice beats the browser's Accept-Language.
	c.headers["Accept-Language"] = "en"
	_, body := c.get("/")
	wantContains(t, body, `lang="ar"`)
}

func TestLanguageSwitchRejectsBadInput(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	resp, body := c.do("POST", "/lingua", url.Values{"lang": {"xx"}})
	wantStatus(t, resp, http.StatusBadRequest)
	wantContains(t, body, "Richiesta non valida")
	// Open redirects are refused: next must be a local path.
	for _, next := range []string{"https://evil.example", "//evil.example", "/\\evil", "javascript:alert(1)"} {
		resp, _ = c.do("POST", "/lingua", url.Values{"lang": {"en"}, "next": {next}})
		wantStatus(t, resp, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
	}
}

// Cross-site form posts are refused, whatever the form: browsers mark them with Sec-Fetch-Site or an Origin.
func TestCrossSiteRequestsAreRefused(t *testing.T) {
	e := newEnv(t, withVar("BASE_URL", "https://servizi.example.it"))
	cases := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"cross-site fetch metadata", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-site but other origin", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"foreign Origin, older browser", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
		{"typed address or bookmark", map[string]string{"Sec-Fetch-Site": "none"}, http.StatusSeeOther},
		{"public origin through a proxy that rewrites Host", map[string]string{"Origin": "https://servizi.example.it"}, http.StatusSeeOther},
		{"same host Origin", map[string]string{"Origin": "http://127.0.0.1:8080"}, http.StatusSeeOther},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e.client(t)
			for k, v := range tc.headers {
				c.headers[k] = v
			}
			resp, body := c.do("POST", "/lingua", url.Values{"lang": {"en"}})
			wantStatus(t, resp, tc.want)
			if tc.want == http.StatusForbidden {
				wantContains(t, body, "Richiesta non consentita")
				if c.cookie("csc_lang") != "" {
					t.Error("refused request still changed the language")
				}
			}
		})
	}
}

func TestFormRateLimit(t *testing.T) {
	e := newEnv(t, withVar("FORM_RATE_LIMIT", "3"))
	c := e.client(t)
	form := url.Values{"lang": {"it"}}
	for i := 0; i < 3; i++ {
		resp, _ := c.do("POST", "/lingua", form)
		wantStatus(t, resp, http.StatusSeeOther)
	}
	resp, body := c.do("POST", "/lingua", form)
	wantStatus(t, resp, http.StatusTooManyRequests)
	wantContains(t, body, "Troppe richieste")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// Page views are never limited.
	resp, _ = c.get("/")
	wantStatus(t, resp, http.StatusOK)
}

func TestOversizedRequests(t *testing.T) {
	e := newEnv(t, withVar("BODY_LIMIT", "4KB"))
	form := url.Values{"lang": {"it"}, "pad": {strings.Repeat("a", 8<<10)}}
	// The transport enforces these limits, so this test goes through a real socket.
	url := e.listen(t)
	req, _ := http.NewRequest("POST", url+"/lingua", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "fr")
	resp, body := send(t, req)
	wantStatus(t, resp, http.StatusRequestEntityTooLarge)
	wantContains(t, body, `lang="fr"`, "Envoi trop volumineux")
	if strings.Contains(body, "panic") || strings.Contains(body, "goroutine") {
		t.Error("stack trace in response")
	}
	req, _ = http.NewRequest("GET", url+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("b", 16<<10))
	resp, _ = send(t, req)
	wantStatus(t, resp, http.StatusRequestHeaderFieldsTooLarge)
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	resp, _ := e.client(t).get("/")
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "strict-origin-when-cross-origin",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, d := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Error("CSP allows inline code")
	}
	if resp.Header.Get("X-Request-ID") == "" {
		t.Error("no request ID")
	}
}

// send makes a real HTTP request and reads the body.
func send(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
