// Package browsertest drives a real headless Chromium for the portal's browser
// tests: it opens pages at phone size, acts like a user, records what went
// wrong in the page and checks each page with axe-core against WCAG 2.1 A/AA.
//
// One Chromium serves a whole test package; each Page is a tab in a browser
// context of its own (own cookies), so two pages can be two different users:
//
//	var chromium browsertest.Shared
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		chromium.Close()
//		os.Exit(code)
//	}
//
//	func TestLogin(t *testing.T) {
//		p := chromium.Browser(t).NewPage(t, browsertest.WithLanguage("ar"))
//		p.Navigate(t, srv.URL+"/accedi")
//		p.SetValue(t, "#email", "a@example.org")
//		p.Submit(t, "form")
//		p.CheckAxe(t)
//		p.AssertNoConsoleErrors(t)
//	}
//
// The tests need Chromium (the Debian package chromium, or $CHROMIUM_BIN) and
// axe-core from .ci/node_modules (or $AXE_CORE_JS); `make test` installs both.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// startTimeout bounds the start of Chromium and the opening of a tab. A cold
// start takes about a second; a busy CI machine can need several.
const startTimeout = 30 * time.Second

// Browser is one running Chromium. It is safe to open pages from several
// tests at once.
type Browser struct {
	// ctx is the chromedp context that owns the Chromium process; the pages
	// are its children. A harness has to keep it: every chromedp call needs it.
	ctx         context.Context
	cancelAlloc context.CancelFunc
	cancel      context.CancelFunc
	userAgent   string
}

// Launch starts a Chromium that closes when the test ends. Prefer [Shared]
// when several tests of a package need a browser: a start costs about a second.
func Launch(t testing.TB, opts ...LaunchOption) *Browser {
	t.Helper()
	b, err := start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.close)
	return b
}

// Shared starts one Chromium on first use and hands it to every test that
// asks. The zero value is ready; call Close from TestMain after m.Run. A test
// binary that runs no browser test starts no browser.
type Shared struct {
	once sync.Once
	b    *Browser
	err  error
}

// Browser returns the shared browser, starting it on the first call. A failed
// start fails every test that asks for it.
func (s *Shared) Browser(t testing.TB) *Browser {
	t.Helper()
	s.once.Do(func() { s.b, s.err = start() })
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.b
}

// Close stops the shared browser, if it was started.
func (s *Shared) Close() {
	s.once.Do(func() { s.err = errors.New("browsertest: shared browser used after Close") })
	if s.b != nil {
		s.b.close()
	}
}

// chromiumPath finds the browser: $CHROMIUM_BIN, else the usual names.
func chromiumPath() (string, error) {
	if p := os.Getenv("CHROMIUM_BIN"); p != "" {
		found, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("browsertest: CHROMIUM_BIN=%q: %w", p, err)
		}
		return found, nil
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("browsertest: no Chromium found: install the Debian package chromium " +
		"(`make test` installs it) or point CHROMIUM_BIN at a Chrome or Chromium binary")
}

// LaunchOption changes how [Launch] starts Chromium.
type LaunchOption func(*launchConfig)

type launchConfig struct {
	flags   []chromedp.ExecAllocatorOption
	disable []string // features turned off besides the usual ones
}

// WithFakeMedia gives the browser a fake camera and microphone that ask for no
// permission, and lets WebRTC connect two browsers of one machine without a
// network: over the loopback interface, with real addresses instead of mDNS
// names that nothing here would resolve.
func WithFakeMedia() LaunchOption {
	return func(c *launchConfig) {
		c.flags = append(c.flags,
			chromedp.Flag("use-fake-device-for-media-stream", true),
			chromedp.Flag("use-fake-ui-for-media-stream", true),
			chromedp.Flag("allow-loopback-in-peer-connection", true),
		)
		c.disable = append(c.disable, "WebRtcHideLocalIpsWithMdns")
	}
}

func start(launch ...LaunchOption) (*Browser, error) {
	path, err := chromiumPath()
	if err != nil {
		return nil, err
	}
	var cfg launchConfig
	for _, o := range launch {
		o(&cfg)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		// Test machines run as root in containers: no sandbox, no GPU.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		// There is no internet here: nothing may phone home or wait for it.
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("disable-features", strings.Join(append([]string{"Translate", "BlinkGenPropertyTrees", "MediaRouter",
			"OptimizationHints"}, cfg.disable...), ",")),
		// No user-data-dir flag on purpose: chromedp then makes a fresh one
		// per start, removes it, and kills helper processes left behind.
	)
	opts = append(opts, cfg.flags...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b := &Browser{ctx: ctx, cancelAlloc: cancelAlloc, cancel: cancel}

	// The first Do starts Chromium and binds it to the context it gets, so
	// it must be b.ctx itself, not a context with a deadline. A watchdog
	// bounds the wait instead.
	err = within(startTimeout, cancel, func() error {
		if err := chromedp.Do(ctx); err != nil {
			return err
		}
		v, err := chromedp.CallBrowser(ctx, browser.GetVersion, cdp.Empty{})
		b.userAgent = v.UserAgent
		return err
	})
	if err != nil {
		b.close()
		return nil, fmt.Errorf("browsertest: start %s: %w", path, err)
	}
	return b, nil
}

// close stops Chromium and waits for it to exit, so its profile directory is
// gone when the test ends.
func (b *Browser) close() {
	b.cancel()
	b.cancelAlloc()
}

// within runs fn and gives up after d, calling abort so that fn returns.
func within(d time.Duration, abort func(), fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		abort()
		<-done
		return fmt.Errorf("gave up after %s", d)
	}
}
