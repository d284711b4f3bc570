package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// PhoneWidth and PhoneHeight are the default viewport, in CSS pixels: a small
// Android phone in portrait, the smallest screen the portal must serve well.
const (
	PhoneWidth  = 360
	PhoneHeight = 740
)

// DefaultTimeout bounds every wait of a Page unless [WithTimeout] changes it.
const DefaultTimeout = 10 * time.Second

// Page is one tab with a browser context of its own: its own cookies, storage
// and cache. Its methods take the test they report to, fail it with
// t.Fatal when the page does not do what was asked in time, and never sleep.
// Selectors are CSS selectors.
type Page struct {
	ctx     context.Context // the chromedp context of the tab
	timeout time.Duration

	mu       sync.Mutex
	problems []string                               // see ConsoleErrors
	requests map[network.RequestID]*network.Request // to name failed requests
}

type pageConfig struct {
	width, height int64
	mobile        bool
	language      string
	timeout       time.Duration
}

// PageOption changes how [Browser.NewPage] sets up a page.
type PageOption func(*pageConfig)

// WithViewport sets the size of the viewport in CSS pixels. mobile turns on
// phone emulation (touch, device scale factor 2, mobile meta viewport).
func WithViewport(width, height int, mobile bool) PageOption {
	return func(c *pageConfig) {
		c.width, c.height, c.mobile = int64(width), int64(height), mobile
	}
}

// WithLanguage sets the Accept-Language header, navigator.language and the
// Intl locale of the page, for example "ar" or "it-IT,it;q=0.9". The default
// is "it": the portal's first language, and independent of the machine's $LANG.
func WithLanguage(acceptLanguage string) PageOption {
	return func(c *pageConfig) { c.language = acceptLanguage }
}

// WithTimeout changes how long each wait of the page may take.
func WithTimeout(d time.Duration) PageOption {
	return func(c *pageConfig) { c.timeout = d }
}

// NewPage opens a tab in a fresh browser context. The tab closes when the test
// ends.
func (b *Browser) NewPage(t testing.TB, opts ...PageOption) *Page {
	t.Helper()
	cfg := pageConfig{width: PhoneWidth, height: PhoneHeight, mobile: true, language: "it", timeout: DefaultTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	p := &Page{
		timeout:  cfg.timeout,
		requests: map[network.RequestID]*network.Request{},
	}
	// WithListener sees every event from the first message of the tab, and
	// in order, so nothing the page reports is lost (see record).
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(p.record))
	p.ctx = ctx
	t.Cleanup(cancel)

	// Like the browser, the tab lives as long as the context of its first
	// Do, so that context cannot carry a deadline.
	if err := within(startTimeout, cancel, func() error { return chromedp.Do(ctx) }); err != nil {
		t.Fatalf("browsertest: open a tab: %v", err)
	}

	scale := 1.0
	if cfg.mobile {
		scale = 2
	}
	viewport := []chromedp.EmulateViewportOption{chromedp.EmulateScale(scale), chromedp.EmulatePortrait}
	if cfg.mobile {
		viewport = append(viewport, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	locale, _, _ := strings.Cut(cfg.language, ",")
	locale, _, _ = strings.Cut(locale, ";")
	setup, cancelSetup := context.WithTimeout(ctx, startTimeout)
	defer cancelSetup()
	err := chromedp.Do(setup,
		chromedp.EmulateViewport(cfg.width, cfg.height, viewport...),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			// The user agent override is the protocol's only way to set
			// Accept-Language and navigator.language per tab.
			_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
				UserAgent:      b.userAgent,
				AcceptLanguage: cfg.language,
			})
			if err != nil {
				return err
			}
			_, err = cdp.Call(ctx, tg, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{
				Locale: strings.ReplaceAll(strings.TrimSpace(locale), "-", "_"),
			})
			return err
		}),
	)
	if err != nil {
		t.Fatalf("browsertest: set up the tab: %v", err)
	}
	return p
}

// Context returns the chromedp context of the tab, for the rare step this
// package has no helper for. Bound what you run with it by a deadline:
//
//	ctx, cancel := context.WithTimeout(p.Context(), browsertest.DefaultTimeout)
//	defer cancel()
//	err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS("footer")))
func (p *Page) Context() context.Context { return p.ctx }

// do runs steps with the page's timeout and fails the test on error.
func (p *Page) do(t testing.TB, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fatal(t, what, err)
	}
}

// run is do for one action with a result.
func run[T any](t testing.TB, p *Page, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.fatal(t, what, err)
	}
	return v
}

func (p *Page) fatal(t testing.TB, what string, err error) {
	t.Helper()
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("browsertest: %s: still not done after %s (page %s)", what, p.timeout, p.location())
	}
	t.Fatalf("browsertest: %s: %v (page %s)", what, err, p.location())
}

// location is Location for error messages: best effort, never fails.
func (p *Page) location() string {
	ctx, cancel := context.WithTimeout(p.ctx, time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "unknown"
	}
	return loc
}

// navigation runs a step that loads a new document, waits until it has
// loaded, and returns its HTTP status.
func (p *Page) navigation(t testing.TB, what string, step chromedp.Action[chromedp.Void]) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, step)
	if err != nil {
		p.fatal(t, what, err)
	}
	if resp == nil {
		return 0
	}
	return int(resp.Status)
}

// Navigate loads url, waits for its load event and returns the HTTP status
// of the document.
func (p *Page) Navigate(t testing.TB, url string) int {
	t.Helper()
	return p.navigation(t, "navigate to "+url, chromedp.Navigate(url))
}

// Click clicks the first element matching sel once it is visible. It does not
// wait for a navigation; use ClickAndWait for links and submit buttons.
func (p *Page) Click(t testing.TB, sel string) {
	t.Helper()
	p.do(t, "click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// ClickAndWait clicks the first element matching sel, waits until the
// document it leads to has loaded and returns its HTTP status.
func (p *Page) ClickAndWait(t testing.TB, sel string) int {
	t.Helper()
	p.WaitVisible(t, sel)
	return p.navigation(t, "click "+sel+" and wait for the next page", chromedp.Click(chromedp.CSS(sel)))
}

// SetUploadFiles chooses local files in a file input, as a person picking them in the file dialog.
func (p *Page) SetUploadFiles(t testing.TB, sel string, files ...string) {
	t.Helper()
	p.do(t, "choose files for "+sel, chromedp.SetUploadFiles(chromedp.CSS(sel), files))
}

// SetValue sets the value of the input, textarea or select matching sel and
// fires input and change events, as if the user had typed or picked it.
func (p *Page) SetValue(t testing.TB, sel, value string) {
	t.Helper()
	p.do(t, "set the value of "+sel,
		chromedp.SetValue(chromedp.CSS(sel), value),
		chromedp.Evaluate[chromedp.Void](`(() => {
			const el = document.querySelector(`+jsString(sel)+`);
			el.dispatchEvent(new Event('input', {bubbles: true}));
			el.dispatchEvent(new Event('change', {bubbles: true}));
		})()`),
	)
}

// Type focuses the element matching sel and types text with key events, after
// what is already there. Slower than SetValue; use it when key handling matters.
func (p *Page) Type(t testing.TB, sel, text string) {
	t.Helper()
	p.do(t, "type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// Submit submits the form matching sel (or the form of the element matching
// sel) as pressing Enter would: the browser's own validation runs first, and
// the test fails with its messages if the form is not valid. It waits for the
// next document and returns its HTTP status (a 422 re-render included). To
// send the name and value of a particular submit button, use ClickAndWait on
// that button.
func (p *Page) Submit(t testing.TB, sel string) int {
	t.Helper()
	p.do(t, "find the form "+sel, chromedp.WaitReady(chromedp.CSS(sel)))
	problem := run(t, p, "check the form "+sel, chromedp.Evaluate[string](`(() => {
		const el = document.querySelector(`+jsString(sel)+`);
		const form = el instanceof HTMLFormElement ? el : el.form;
		if (!form) return 'no form element here';
		if (form.noValidate || form.checkValidity()) return '';
		return 'the browser refuses to submit it: ' + Array.from(form.elements)
			.filter(f => f.willValidate && !f.checkValidity())
			.map(f => (f.name || f.id || f.tagName) + ': ' + f.validationMessage)
			.join('; ');
	})()`))
	if problem != "" {
		t.Fatalf("browsertest: submit %s: %s (page %s)", sel, problem, p.location())
	}
	return p.navigation(t, "submit "+sel+" and wait for the next page",
		chromedp.Evaluate[chromedp.Void](`(() => {
			const el = document.querySelector(`+jsString(sel)+`);
			(el instanceof HTMLFormElement ? el : el.form).requestSubmit();
		})()`))
}

// WaitVisible waits until an element matching sel is visible.
func (p *Page) WaitVisible(t testing.TB, sel string) {
	t.Helper()
	p.do(t, "wait for "+sel+" to be visible", chromedp.WaitVisible(chromedp.CSS(sel)))
}

// Text returns the visible text (innerText) of the first element matching
// sel, trimmed. It waits for the element to exist.
func (p *Page) Text(t testing.TB, sel string) string {
	t.Helper()
	return strings.TrimSpace(run(t, p, "read the text of "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// Attr returns the value of the attribute name of the first element matching sel, or ""
// when the element has no such attribute. It waits for the element to exist.
// Attr(t, "html", "dir") tells the direction of the page.
func (p *Page) Attr(t testing.TB, sel, name string) string {
	t.Helper()
	return run(t, p, "read the attribute "+name+" of "+sel, chromedp.AttributeValue(chromedp.CSS(sel), name)).Value
}

// Exists reports whether an element matches sel now, without waiting.
func (p *Page) Exists(t testing.TB, sel string) bool {
	t.Helper()
	return run(t, p, "look for "+sel, chromedp.Evaluate[bool](`document.querySelector(`+jsString(sel)+`) !== null`))
}

// Location returns the URL of the current document.
func (p *Page) Location(t testing.TB) string {
	t.Helper()
	return run(t, p, "read the location", chromedp.Location())
}

// Eval evaluates a JavaScript expression in the page, awaits it if it is a
// promise, and decodes its JSON value into out (nil to drop it). Content
// Security Policy does not apply to it.
func (p *Page) Eval(t testing.TB, js string, out any) {
	t.Helper()
	raw := run(t, p, "evaluate "+js, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if out == nil {
		return
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("browsertest: evaluate %s: decode %s: %v", js, raw, err)
	}
}

// Screenshot saves a PNG of the whole page, not only the viewport, to path.
func (p *Page) Screenshot(t testing.TB, path string) {
	t.Helper()
	png := run(t, p, "take a screenshot", chromedp.FullScreenshot(100))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("browsertest: screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("browsertest: screenshot: %v", err)
	}
}

// Cookies returns the cookies the page would send to its current URL,
// HttpOnly ones included.
func (p *Page) Cookies(t testing.TB) []*http.Cookie {
	t.Helper()
	res := run(t, p, "read the cookies", func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{})
	})
	cookies := make([]*http.Cookie, 0, len(res.Cookies))
	for _, c := range res.Cookies {
		hc := &http.Cookie{
			Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path,
			HttpOnly: c.HTTPOnly, Secure: c.Secure,
		}
		switch c.SameSite {
		case network.CookieSameSiteStrict:
			hc.SameSite = http.SameSiteStrictMode
		case network.CookieSameSiteLax:
			hc.SameSite = http.SameSiteLaxMode
		case network.CookieSameSiteNone:
			hc.SameSite = http.SameSiteNoneMode
		}
		if !c.Session {
			hc.Expires = time.Unix(int64(c.Expires), 0)
		}
		cookies = append(cookies, hc)
	}
	return cookies
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("browsertest: quote %q: %v", s, err)) // a string always marshals
	}
	return string(b)
}
