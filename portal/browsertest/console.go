package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// record notes what a user's browser would flag as broken: console.error and
// failed console.assert calls, uncaught exceptions and promise rejections,
// errors of the browser itself (a script or style the Content-Security-Policy
// blocked, for one), and subresources that failed or answered 4xx/5xx.
//
// The document itself is left out: a 404 page or a 422 re-render of a form is
// the portal working, and a document that fails to load already fails
// Navigate. chromedp calls record on the goroutine that reads the tab's
// messages, in order; it must return fast and send no command.
func (p *Page) record(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			p.problems = append(p.problems, fmt.Sprintf("console.%s: %s%s", ev.Type, argsText(ev.Args), stackPlace(ev.StackTrace)))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		} else if d.Exception != nil && len(d.Exception.Value) > 0 {
			text += " " + string(d.Exception.Value)
		}
		place := fmt.Sprintf(" (%s:%d:%d)", d.URL, d.LineNumber+1, d.ColumnNumber+1)
		if d.URL == "" {
			place = stackPlace(d.StackTrace)
		}
		p.problems = append(p.problems, "uncaught: "+text+place)
	case *log.EventEntryAdded:
		// Network errors come from the network events below, which know the
		// resource type and can leave the document out.
		e := ev.Entry
		if e.Level == log.EntryLevelError && e.Source != log.EntrySourceNetwork {
			p.problems = append(p.problems, fmt.Sprintf("browser (%s): %s %s", e.Source, e.Text, e.URL))
		}
	case *network.EventRequestWillBeSent:
		p.requests[ev.RequestID] = ev.Request
	case *network.EventResponseReceived:
		if ev.Type != network.ResourceTypeDocument && ev.Response.Status >= 400 && !isFavicon(ev.Type, ev.Response.URL) {
			p.problems = append(p.problems, fmt.Sprintf("HTTP %d %s for %s %s",
				ev.Response.Status, ev.Response.StatusText, ev.Type, p.requestName(ev.RequestID, ev.Response.URL)))
		}
	case *network.EventLoadingFinished:
		delete(p.requests, ev.RequestID)
	case *network.EventLoadingFailed:
		defer delete(p.requests, ev.RequestID)
		// A canceled request is one the page no longer wanted, usually
		// because it navigated away.
		if ev.Type != network.ResourceTypeDocument && !ev.Canceled && !isFavicon(ev.Type, p.requestURL(ev.RequestID)) {
			reason := ev.ErrorText
			if ev.BlockedReason != "" {
				reason += " (blocked: " + string(ev.BlockedReason) + ")"
			}
			p.problems = append(p.problems, fmt.Sprintf("failed %s %s: %s", ev.Type, p.requestName(ev.RequestID, ""), reason))
		}
	}
}

// isFavicon tells the browser's own /favicon.ico fetch. It happens after the
// load event, so whether a check sees it is a matter of timing; a test that
// cares about the icon asks the handler.
func isFavicon(kind network.ResourceType, rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && kind == network.ResourceTypeOther && u.Path == "/favicon.ico"
}

// requestName names a request by method and URL, for messages.
func (p *Page) requestName(id network.RequestID, url string) string {
	if r, ok := p.requests[id]; ok {
		return r.Method + " " + r.URL
	}
	return url
}

func (p *Page) requestURL(id network.RequestID) string {
	if r, ok := p.requests[id]; ok {
		return r.URL
	}
	return ""
}

// argsText renders console arguments about as DevTools shows them.
func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		var s string
		switch {
		case a.Type == runtime.RemoteObjectTypeString && json.Unmarshal(a.Value, &s) == nil:
			parts = append(parts, s)
		case a.Description != "":
			parts = append(parts, a.Description)
		case a.UnserializableValue != "":
			parts = append(parts, string(a.UnserializableValue))
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

func stackPlace(st *runtime.StackTrace) string {
	if st == nil || len(st.CallFrames) == 0 {
		return ""
	}
	f := st.CallFrames[0]
	return fmt.Sprintf(" (%s:%d:%d)", f.URL, f.LineNumber+1, f.ColumnNumber+1)
}

// ConsoleErrors returns what went wrong in the page since it was opened, one
// line each, across every document it loaded: console.error calls, uncaught
// exceptions, browser errors such as Content-Security-Policy violations, and
// subresources that failed or answered 4xx/5xx.
func (p *Page) ConsoleErrors() []string {
	// A round trip to the page first: chromedp hands events to record in
	// the order Chromium sent them, so when the reply arrives every message
	// the page logged before it has been recorded.
	ctx, cancel := context.WithTimeout(p.ctx, time.Second)
	_, _ = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`0`))
	cancel()

	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// AssertNoConsoleErrors fails the test with every entry of ConsoleErrors.
func (p *Page) AssertNoConsoleErrors(t testing.TB) {
	t.Helper()
	if errs := p.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("browsertest: the page reported %d error(s):\n\t%s", len(errs), strings.Join(errs, "\n\t"))
	}
}
