package browsertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeTags are the axe-core rule tags every page must pass: WCAG 2.0 and 2.1,
// levels A and AA.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// axeRelPath is where `npm ci --prefix .ci` puts axe-core, from the repo root.
var axeRelPath = filepath.Join(".ci", "node_modules", "axe-core", "axe.min.js")

// Violation is one axe-core rule that failed, with the elements that fail it.
type Violation struct {
	ID      string          `json:"id"`     // rule id, such as "color-contrast"
	Impact  string          `json:"impact"` // minor, moderate, serious or critical
	Help    string          `json:"help"`
	HelpURL string          `json:"helpUrl"`
	Nodes   []ViolationNode `json:"nodes"`
}

// ViolationNode is one element that fails a rule.
type ViolationNode struct {
	// Target holds the CSS selector of the element; an element inside an
	// iframe or a shadow root has one selector per step.
	Target         []string `json:"target"`
	HTML           string   `json:"html"`
	FailureSummary string   `json:"failureSummary"`
}

// axeResult is the part of axe.run's result the tests read.
type axeResult struct {
	URL        string      `json:"url"`
	Violations []Violation `json:"violations"`
	Incomplete []Violation `json:"incomplete"`
}

// axeSource reads axe.min.js once per test binary.
var axeSource = sync.OnceValues(func() (string, error) {
	path := os.Getenv("AXE_CORE_JS")
	if path == "" {
		var err error
		if path, err = findAxe(); err != nil {
			return "", err
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("browsertest: read axe-core: %w (`make test` installs it with npm ci --prefix .ci)", err)
	}
	return string(b), nil
})

// findAxe walks up from the working directory, which is the package directory
// under `go test`, to the repo root's .ci/node_modules.
func findAxe() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("browsertest: find axe-core: %w", err)
	}
	for {
		p := filepath.Join(dir, axeRelPath)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("browsertest: axe-core not found: run `npm ci --prefix .ci` at the repo root " +
				"(`make test` does it) or point AXE_CORE_JS at axe.min.js")
		}
		dir = parent
	}
}

// runAxe injects axe-core into the current document if it is not there yet and
// runs the WCAG 2.1 A/AA rules.
//
// Both go through the DevTools protocol's Runtime.evaluate, which runs with
// the privileges of the DevTools console: the page's Content-Security-Policy
// (the portal sends script-src 'self', no inline script, no eval) governs what
// the page loads and runs, not what the protocol evaluates, and axe-core itself
// needs neither eval nor inline script. So no CSP bypass is needed, and the
// page is checked under the very CSP it ships with; TestAxeUnderStrictCSP
// keeps that true.
func (p *Page) runAxe(t testing.TB) axeResult {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatal(err)
	}
	if !run(t, p, "look for axe-core", chromedp.Evaluate[bool](`typeof window.axe === 'object' && typeof window.axe.run === 'function'`)) {
		p.do(t, "inject axe-core", chromedp.Evaluate[chromedp.Void](src))
	}
	tags, _ := json.Marshal(axeTags)
	raw := run(t, p, "run axe-core", chromedp.Evaluate[[]byte](`axe.run(document, {
		runOnly: {type: 'tag', values: `+string(tags)+`},
		resultTypes: ['violations', 'incomplete'],
	}).then(r => {
		const rules = list => list.map(v => ({
			id: v.id, impact: v.impact || '', help: v.help, helpUrl: v.helpUrl,
			nodes: v.nodes.map(n => ({
				target: n.target.map(s => Array.isArray(s) ? s.join(' >>> ') : String(s)),
				html: n.html,
				failureSummary: n.failureSummary || '',
			})),
		}));
		return {url: r.url, violations: rules(r.violations), incomplete: rules(r.incomplete)};
	})`, chromedp.EvalAwaitPromise))
	var res axeResult
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("browsertest: decode the result of axe-core: %v", err)
	}
	return res
}

// AxeViolations runs axe-core on the current document and returns the WCAG
// 2.1 A/AA rules it breaks, without failing the test for them.
func (p *Page) AxeViolations(t testing.TB) []Violation {
	t.Helper()
	return p.runAxe(t).Violations
}

// CheckAxe runs axe-core on the current document and fails the test with
// one error per broken rule, naming every element that breaks it. Results
// axe-core cannot decide alone (incomplete: a human has to look) are logged.
func (p *Page) CheckAxe(t testing.TB) {
	t.Helper()
	res := p.runAxe(t)
	for _, v := range res.Violations {
		t.Errorf("axe: %s", formatViolation(res.URL, v))
	}
	if len(res.Incomplete) > 0 {
		ids := make([]string, len(res.Incomplete))
		for i, v := range res.Incomplete {
			ids[i] = fmt.Sprintf("%s (%d)", v.ID, len(v.Nodes))
		}
		t.Logf("axe: %s: %d rule(s) need a human check: %s", res.URL, len(res.Incomplete), strings.Join(ids, ", "))
	}
}

func formatViolation(url string, v Violation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) on %s: %s\n\t%s", v.ID, v.Impact, url, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n\t- %s\n\t  %s", strings.Join(n.Target, " "), n.HTML)
		for line := range strings.SplitSeq(n.FailureSummary, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				fmt.Fprintf(&b, "\n\t    %s", line)
			}
		}
	}
	return b.String()
}
