package browsertest

import (
	"bytes"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

var chromium Shared

func TestMain(m *testing.M) {
	code := m.Run()
	chromium.Close()
	os.Exit(code)
}

// strictCSP is the policy the portal sends: no inline script, no inline style.
const strictCSP = "default-src 'self'; script-src 'self'"

// site serves the little pages the tests need, from loopback only.
func site(t *testing.T) *httptest.Server {
	t.Helper()
	var pixel bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.Gray{Y: 128})
	if err := png.Encode(&pixel, img); err != nil {
		t.Fatal(err)
	}

	page := func(w http.ResponseWriter, lang, dir, title, body string) {
		w.Header().Set("Content-Security-Policy", strictCSP)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html>
<html lang=%q dir=%q>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>%s</body>
</html>`, lang, dir, title, body)
	}
	file := func(contentType, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			fmt.Fprint(w, body)
		}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /style.css", file("text/css", `.faint { color: #c8c8c8; background: #fff; }
.over-image { background: url(/pixel.png); }`))
	mux.HandleFunc("GET /pixel.png", file("image/png", pixel.String()))
	mux.HandleFunc("GET /console.js", file("text/javascript", `console.log('fine'); console.error('boom', 42);`))
	mux.HandleFunc("GET /throw.js", file("text/javascript", `throw new Error('kaput');`))

	mux.HandleFunc("GET /accessible", func(w http.ResponseWriter, r *http.Request) {
		page(w, "it", "ltr", "Prova", `<main>
<h1>Benvenuto</h1>
<form method="post" action="/submit">
<label for="nome">Nome</label>
<input id="nome" name="nome" autocomplete="given-name" required>
<button type="submit">Invia</button>
</form>
</main>`)
	})
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
		page(w, "it", "ltr", "Rotta", `<main>
<h1>Rotta</h1>
<p class="faint">Testo quasi invisibile</p>
<p class="over-image">Testo su immagine: axe non sa giudicare il contrasto</p>
<img src="/pixel.png">
<input type="text" name="senza-etichetta">
</main>`)
	})
	mux.HandleFunc("GET /console-error", func(w http.ResponseWriter, r *http.Request) {
		page(w, "it", "ltr", "Console", `<main><h1>Console</h1><script src="/console.js"></script></main>`)
	})
	mux.HandleFunc("GET /throws", func(w http.ResponseWriter, r *http.Request) {
		page(w, "it", "ltr", "Eccezione", `<main><h1>Eccezione</h1><script src="/throw.js"></script></main>`)
	})
	mux.HandleFunc("GET /csp-and-404", func(w http.ResponseWriter, r *http.Request) {
		page(w, "it", "ltr", "Bloccata", `<main><h1>Bloccata</h1>
<script>console.log('inline script: CSP must block this')</script>
<img src="/missing.png" alt="manca"></main>`)
	})

	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: r.URL.Query().Get("user"), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		page(w, "it", "ltr", "Accesso", `<main><h1>Accesso eseguito</h1></main>`)
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		who := "nessuno"
		if c, err := r.Cookie("session"); err == nil {
			who = c.Value
		}
		page(w, "it", "ltr", "Chi sono", `<main><h1 id="who">`+html.EscapeString(who)+`</h1></main>`)
	})
	mux.HandleFunc("GET /language", func(w http.ResponseWriter, r *http.Request) {
		page(w, "it", "ltr", "Lingua", `<main><h1 id="lang">`+html.EscapeString(r.Header.Get("Accept-Language"))+`</h1></main>`)
	})

	form := func(w http.ResponseWriter, status int, value, problem string) {
		w.WriteHeader(status)
		page(w, "ar", "rtl", "استمارة", `<main>
<h1>استمارة</h1>
<form method="post" action="/form">
<label for="nome">الاسم</label>
<input id="nome" name="nome" value="`+html.EscapeString(value)+`">
<p id="problem">`+html.EscapeString(problem)+`</p>
<button type="submit">إرسال</button>
</form>
</main>`)
	}
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		form(w, http.StatusOK, "", "")
	})
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) {
		nome := r.PostFormValue("nome")
		if nome == "" {
			form(w, http.StatusUnprocessableEntity, nome, "الاسم مطلوب")
			return
		}
		http.Redirect(w, r, "/done?nome="+nome, http.StatusSeeOther)
	})
	mux.HandleFunc("GET /done", func(w http.ResponseWriter, r *http.Request) {
		page(w, "ar", "rtl", "شكرا", `<main><h1>شكرا `+html.EscapeString(r.URL.Query().Get("nome"))+`</h1></main>`)
	})

	srv := httptest.NewServer(mux) // httptest listens on 127.0.0.1 only
	t.Cleanup(srv.Close)
	return srv
}

// recorder stands in for the test, to assert on what CheckAxe reports.
type recorder struct {
	testing.TB
	errors []string
	logs   []string
	fatal  string
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fatalOf runs f, which must call rec.Fatalf, on a goroutine of its own
// (Fatalf ends it) and returns the message.
func fatalOf(t *testing.T, f func(rec *recorder)) string {
	t.Helper()
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(rec)
	}()
	<-done
	if rec.fatal == "" {
		t.Error("no t.Fatal")
	}
	return rec.fatal
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Logf(format string, args ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func TestAxeUnderStrictCSP(t *testing.T) {
	srv := site(t)
	p := chromium.Browser(t).NewPage(t)

	p.Navigate(t, srv.URL+"/accessible")
	if v := p.AxeViolations(t); len(v) != 0 {
		t.Errorf("accessible page: violations %+v, want none", v)
	}
	rec := &recorder{TB: t}
	p.CheckAxe(rec)
	if len(rec.errors) != 0 {
		t.Errorf("CheckAxe on the accessible page reported %q", rec.errors)
	}
	// Injection must neither trip the CSP nor leave anything in the console.
	p.AssertNoConsoleErrors(t)

	p.Navigate(t, srv.URL+"/broken")
	var ids []string
	for _, v := range p.AxeViolations(t) {
		ids = append(ids, v.ID)
		if len(v.Nodes) == 0 || len(v.Nodes[0].Target) == 0 || v.HelpURL == "" {
			t.Errorf("violation %s lacks nodes, targets or help: %+v", v.ID, v)
		}
	}
	for _, want := range []string{"image-alt", "label", "color-contrast"} {
		if !slices.Contains(ids, want) {
			t.Errorf("broken page: violations %q, want %s among them", ids, want)
		}
	}

	rec = &recorder{TB: t}
	p.CheckAxe(rec)
	if logs := strings.Join(rec.logs, "\n"); !strings.Contains(logs, "need a human check: color-contrast (1)") {
		t.Errorf("CheckAxe logged %q, want the text over an image as incomplete color-contrast", logs)
	}
	if len(rec.errors) != len(ids) {
		t.Errorf("CheckAxe reported %d errors, want one per violation (%d)", len(rec.errors), len(ids))
	}
	all := strings.Join(rec.errors, "\n")
	for _, want := range []string{"image-alt (critical)", "color-contrast (serious)", `<p class="faint">`, `<img src="/pixel.png">`, "dequeuniversity.com/rules/axe/", "Fix any of the following"} {
		if !strings.Contains(all, want) {
			t.Errorf("CheckAxe errors lack %q:\n%s", want, all)
		}
	}
	p.AssertNoConsoleErrors(t)
}

func TestConsoleErrors(t *testing.T) {
	srv := site(t)
	b := chromium.Browser(t)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/console-error", []string{"console.error: boom 42", "/console.js:1:"}},
		{"/throws", []string{"uncaught: Uncaught Error: kaput", "/throw.js:1:"}},
		{"/csp-and-404", []string{"Content Security Policy", "HTTP 404", "GET " + srv.URL + "/missing.png"}},
	} {
		t.Run(strings.TrimPrefix(tc.path, "/"), func(t *testing.T) {
			p := b.NewPage(t)
			p.Navigate(t, srv.URL+tc.path)
			got := strings.Join(p.ConsoleErrors(), "\n")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("ConsoleErrors:\n%s\nwant it to contain %q", got, w)
				}
			}
			rec := &recorder{TB: t}
			p.AssertNoConsoleErrors(rec)
			if len(rec.errors) != 1 {
				t.Errorf("AssertNoConsoleErrors reported %d errors, want 1", len(rec.errors))
			}
		})
	}

	p := b.NewPage(t)
	p.Navigate(t, srv.URL+"/accessible")
	if errs := p.ConsoleErrors(); len(errs) != 0 {
		t.Errorf("clean page: ConsoleErrors = %q, want none", errs)
	}
}

func TestPagesHaveSeparateCookies(t *testing.T) {
	srv := site(t)
	b := chromium.Browser(t)
	anna, bruno := b.NewPage(t), b.NewPage(t)

	anna.Navigate(t, srv.URL+"/login?user=anna")
	bruno.Navigate(t, srv.URL+"/login?user=bruno")
	anna.Navigate(t, srv.URL+"/whoami")
	if got := anna.Text(t, "#who"); got != "anna" {
		t.Errorf("anna's page says %q", got)
	}
	bruno.Navigate(t, srv.URL+"/whoami")
	if got := bruno.Text(t, "#who"); got != "bruno" {
		t.Errorf("bruno's page says %q", got)
	}
	cookies := anna.Cookies(t)
	if len(cookies) != 1 || cookies[0].Value != "anna" || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteLaxMode {
		t.Errorf("anna's cookies = %+v", cookies)
	}

	stranger := b.NewPage(t)
	stranger.Navigate(t, srv.URL+"/whoami")
	if got := stranger.Text(t, "#who"); got != "nessuno" {
		t.Errorf("a new page inherited a session: %q", got)
	}
}

func TestFormJourneyRTL(t *testing.T) {
	srv := site(t)
	p := chromium.Browser(t).NewPage(t, WithLanguage("ar"))

	if status := p.Navigate(t, srv.URL+"/form"); status != http.StatusOK {
		t.Errorf("GET /form: status %d", status)
	}
	if dir, lang := p.Attr(t, "html", "dir"), p.Attr(t, "html", "lang"); dir != "rtl" || lang != "ar" {
		t.Errorf("html dir=%q lang=%q, want rtl ar", dir, lang)
	}
	p.CheckAxe(t)

	// The server refuses an empty name: a 422 re-render, not an error.
	if status := p.Submit(t, "form"); status != http.StatusUnprocessableEntity {
		t.Errorf("empty form: status %d, want 422", status)
	}
	if got := p.Text(t, "#problem"); got != "الاسم مطلوب" {
		t.Errorf("problem = %q", got)
	}

	p.SetValue(t, "#nome", "سل")
	p.Type(t, "#nome", "مى")
	var value string
	p.Eval(t, `document.querySelector('#nome').value`, &value)
	if value != "سلمى" {
		t.Errorf("typed value = %q, want سلمى", value)
	}
	if status := p.Submit(t, "#nome"); status != http.StatusOK {
		t.Errorf("submit: status %d after the redirect, want 200", status)
	}
	if loc := p.Location(t); !strings.HasPrefix(loc, srv.URL+"/done?") {
		t.Errorf("after submit the page is at %s, want /done", loc)
	}
	if got := p.Text(t, "h1"); got != "شكرا سلمى" {
		t.Errorf("h1 = %q", got)
	}
	p.CheckAxe(t)
	p.AssertNoConsoleErrors(t)
}

func TestClickAndWaitFollowsTheButton(t *testing.T) {
	srv := site(t)
	p := chromium.Browser(t).NewPage(t)
	p.Navigate(t, srv.URL+"/form")
	p.SetValue(t, "#nome", "Ada")
	p.ClickAndWait(t, "button[type=submit]")
	if got := p.Text(t, "h1"); got != "شكرا Ada" {
		t.Errorf("h1 = %q", got)
	}
	if p.Exists(t, "form") {
		t.Error("the form is still there after the redirect")
	}
}

func TestPhoneAndLanguage(t *testing.T) {
	srv := site(t)
	b := chromium.Browser(t)

	p := b.NewPage(t)
	p.Navigate(t, srv.URL+"/language")
	var got struct {
		Width    int     `json:"width"`
		Ratio    float64 `json:"ratio"`
		Touch    bool    `json:"touch"`
		Language string  `json:"language"`
	}
	p.Eval(t, `({width: window.innerWidth, ratio: window.devicePixelRatio,
		touch: navigator.maxTouchPoints > 0, language: navigator.language})`, &got)
	if got.Width != PhoneWidth || got.Ratio != 2 || !got.Touch || got.Language != "it" {
		t.Errorf("default page: %+v, want a %dpx touch phone at ratio 2 speaking it", got, PhoneWidth)
	}
	if h := p.Text(t, "#lang"); h != "it" {
		t.Errorf("Accept-Language = %q, want it", h)
	}

	p = b.NewPage(t, WithLanguage("ar"), WithViewport(1280, 800, false))
	p.Navigate(t, srv.URL+"/language")
	p.Eval(t, `({width: window.innerWidth, ratio: window.devicePixelRatio,
		touch: navigator.maxTouchPoints > 0, language: navigator.language})`, &got)
	if got.Width != 1280 || got.Ratio != 1 || got.Touch || got.Language != "ar" {
		t.Errorf("desktop page: %+v, want 1280px, ratio 1, no touch, ar", got)
	}
	if h := p.Text(t, "#lang"); h != "ar" {
		t.Errorf("Accept-Language = %q, want ar", h)
	}
}

func TestFailuresSayWhatAndWhere(t *testing.T) {
	srv := site(t)
	p := chromium.Browser(t).NewPage(t, WithTimeout(time.Second))
	p.Navigate(t, srv.URL+"/accessible")

	msg := fatalOf(t, func(rec *recorder) { p.WaitVisible(rec, "#missing") })
	for _, want := range []string{"wait for #missing to be visible", "still not done after 1s", srv.URL + "/accessible"} {
		if !strings.Contains(msg, want) {
			t.Errorf("WaitVisible failure %q lacks %q", msg, want)
		}
	}

	// The name is required: the browser would not send the form, so
	// Submit must say so rather than wait for a page that never comes.
	msg = fatalOf(t, func(rec *recorder) { p.Submit(rec, "form") })
	if !strings.Contains(msg, "the browser refuses to submit it: nome: ") {
		t.Errorf("Submit of an invalid form: %q", msg)
	}
}

func TestScreenshot(t *testing.T) {
	srv := site(t)
	p := chromium.Browser(t).NewPage(t)
	p.Navigate(t, srv.URL+"/form")
	path := filepath.Join(t.TempDir(), "shots", "form.png")
	p.Screenshot(t, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if cfg.Width != PhoneWidth*2 {
		t.Errorf("screenshot is %dpx wide, want %d (360 CSS px at ratio 2)", cfg.Width, PhoneWidth*2)
	}
}
