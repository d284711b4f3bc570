package portal_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// The pages every visitor can reach, with text that proves the right content rendered.
var publicPages = []struct{ path, it, ar string }{
	{"/", "Servizi sociali online", "الخدمات الاجتماعية"},
	{"/misure", "Misure e contributi", "برامج الدعم"},
	{"/misure/fna-misura-b2", "FNA – Misura B2", "FNA"},
	{"/misure/buono-caregiver", "Buono caregiver una tantum", "caregiver"},
	{"/misure/misura-unica-affitto", "redditi esclusivamente da pensione", "Misura Unica"},
	{"/servizi/prenota-appuntamento", "Prenota un appuntamento", "موعد"},
	{"/servizi/le-mie-pratiche", "Le mie pratiche", "ملفاتي"},
	{"/servizi/colloquio-online", "Colloquio online", "عبر الإنترنت"},
	{"/sedi", "Sportello sociale di Castelleone", "Castelleone"},
	{"/lingua", "Scegli la lingua", "اختر"},
	{"/accessibilita", "Dichiarazione di accessibilità", "إمكانية الوصول"},
	{"/privacy", "Regolamento (UE) 2016/679", "2016/679"},
	{"/cookie", "cookie tecnici", "csc_session"},
}

func TestPagesInItalianAndArabic(t *testing.T) {
	e := newEnv(t)
	for _, p := range publicPages {
		t.Run(p.path, func(t *testing.T) {
			c := e.client(t)
			resp, body := c.get(p.path)
			wantStatus(t, resp, http.StatusOK)
			wantContains(t, body, `<html lang="it" dir="ltr">`, p.it)
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("content type %q", ct)
			}
			c.headers["Accept-Language"] = "ar"
			resp, body = c.get(p.path)
			wantStatus(t, resp, http.StatusOK)
			wantContains(t, body, `<html lang="ar" dir="rtl">`, p.ar)
			if strings.Contains(body, "page.") || strings.Contains(body, "measure.") || strings.Contains(body, "error.") {
				t.Error("a message ID leaked into the page")
			}
		})
	}
}

func TestOfficesPageShowsTheDistrict(t *testing.T) {
	e := newEnv(t)
	_, body := e.client(t).get("/sedi")
	// Six sub-ambiti, 48 comuni, counts with the right plural.
	for _, s := range []string{"Bagnolo Cremasco", "Castelleone", "Crema", "Pandino", "Sergnano", "Soncino"} {
		wantContains(t, body, `<h3 class="h5">`+s+` `)
	}
	wantContains(t, body, "1 comune</span>", "14 comuni</span>", "Rivolta d&#39;Adda", "Casale Cremasco-Vidolasco", "lunedì, martedì")
	var n int
	for _, m := range regexp.MustCompile(`>(\d+) comun[ei]</span>`).FindAllStringSubmatch(body, -1) {
		var k int
		for _, ch := range m[1] {
			k = k*10 + int(ch-'0')
		}
		n += k
	}
	if n != 48 {
		t.Errorf("the sub-ambiti list %d comuni, want 48", n)
	}
}

func TestMeasureCallStates(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	// Seeded on testenv.SeedTime: FNA open, Misura Unica upcoming, caregiver closed.
	_, body := c.get("/misure")
	wantContains(t, body, "Bando aperto: domande fino al", "Bando in arrivo: domande dal", "è chiuso dal")
	_, body = c.get("/")
	wantContains(t, body, "/misure/fna-misura-b2", "/misure/misura-unica-affitto")
	if strings.Contains(body, `href="/misure/buono-caregiver"`) {
		t.Error("home lists a closed call among open and upcoming ones")
	}
}

func TestNotFoundIsLocalized(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	for _, path := range []string{"/nope", "/misure/inesistente", "/servizi/x", "/assets/css/portal.0000.css", "/misure/fna-misura-b2/extra"} {
		resp, body := c.get(path)
		wantStatus(t, resp, http.StatusNotFound)
		if !strings.HasPrefix(path, "/assets/") {
			wantContains(t, body, "Pagina non trovata", `href="/"`)
		}
	}
	c.headers["Accept-Language"] = "uk"
	resp, body := c.get("/nope")
	wantStatus(t, resp, http.StatusNotFound)
	wantContains(t, body, `lang="uk"`)
	if strings.Contains(body, "Pagina non trovata") {
		t.Error("404 page not translated")
	}
}

// An unexpected failure shows a localized 500 page with the request ID, never the cause.
func TestInternalErrorPage(t *testing.T) {
	e := newEnv(t)
	if _, err := e.db.Pool.Exec(t.Context(), `DROP TABLE offices CASCADE`); err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	resp, body := c.get("/sedi")
	wantStatus(t, resp, http.StatusInternalServerError)
	wantContains(t, body, "Si è verificato un errore", "Codice della richiesta: "+resp.Header.Get("X-Request-ID"))
	for _, leak := range []string{"offices", "SQLSTATE", "relation", "goroutine"} {
		if strings.Contains(body, leak) {
			t.Errorf("500 page leaks %q", leak)
		}
	}
}

func TestBadAcceptLanguageFallsBackToItalian(t *testing.T) {
	e := newEnv(t)
	for _, h := range []string{";;;=,", "q=0.5", "xx-YY;q=2", strings.Repeat("a", 600), "ar;q=abc"} {
		c := e.client(t)
		c.headers["Accept-Language"] = h
		resp, body := c.get("/")
		wantStatus(t, resp, http.StatusOK)
		if !strings.Contains(body, `<html lang="it"`) && !strings.Contains(body, `<html lang="ar"`) {
			t.Errorf("Accept-Language %q: no usable language", h)
		}
	}
}
