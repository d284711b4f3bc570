// Package views renders the portal's HTML pages: embedded html/template files, one template set per page and
// language (layout + partials + the page), so same-named blocks never collide and `t` is bound to the language.
package views

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Page is the envelope every page template receives.
type Page struct {
	Lang       i18n.Language
	Languages  []i18n.Language
	Title      string  // the page's h1 and <title>
	Path       string  // current path, where the language switcher returns
	Crumbs     []Crumb // breadcrumb before the current page; empty on home
	RequestID  string
	Data       any
	StatusCode int
}

// Crumb is one breadcrumb link.
type Crumb struct{ Title, URL string }

// Engine holds the template sets, one per page and language, each made the first time it renders.
type Engine struct {
	base   *template.Template // the layout and partials, never executed: copied for each page
	bundle *i18n.Bundle
	asset  AssetURL
	pages  map[string]*pageSets
}

// pageSets is one page's template (the layout's copy with the page parsed in) and its copies per language.
type pageSets struct {
	file  string
	once  sync.Once
	page  *template.Template
	err   error
	langs map[string]*langSet
}

type langSet struct {
	once sync.Once
	t    *template.Template
	err  error
}

// AssetURL maps a logical asset name to its checksum URL.
type AssetURL func(name string) string

const layoutPattern = "templates/_*.html"

// New parses the layout and partials. Each page is parsed into a copy of them the first time it renders, and each
// language gets a copy of that with its own `t`: parsing every page for every language up front took most of a
// server's start (seconds), while a set is ready in a few milliseconds when first asked for. Every page in every
// language is rendered by the package's tests, so a broken page cannot wait for production to be found.
func New(bundle *i18n.Bundle, asset AssetURL) (*Engine, error) {
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	base, err := template.New("_layout.html").Funcs(funcs(bundle.Localizer(i18n.Languages[0].Code), asset)).
		ParseFS(templateFiles, layoutPattern)
	if err != nil {
		return nil, fmt.Errorf("views: parse the layout: %w", err)
	}
	e := &Engine{base: base, bundle: bundle, asset: asset, pages: map[string]*pageSets{}}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		ps := &pageSets{file: f, langs: map[string]*langSet{}}
		for _, lang := range i18n.Languages {
			ps.langs[lang.Code] = &langSet{}
		}
		e.pages[name] = ps
	}
	return e, nil
}

// set returns the page's template set for the language, making it on first use.
func (e *Engine) set(page, lang string) (*template.Template, error) {
	ps, ok := e.pages[page]
	if !ok {
		return nil, fmt.Errorf("views: no page %q", page)
	}
	ls, ok := ps.langs[lang]
	if !ok {
		return nil, fmt.Errorf("views: no language %q", lang)
	}
	ls.once.Do(func() {
		ps.once.Do(func() {
			ps.page, ps.err = e.base.Clone()
			if ps.err == nil {
				ps.page, ps.err = ps.page.ParseFS(templateFiles, ps.file)
			}
		})
		if ls.err = ps.err; ls.err != nil {
			return
		}
		if ls.t, ls.err = ps.page.Clone(); ls.err == nil {
			ls.t.Funcs(funcs(e.bundle.Localizer(lang), e.asset))
		}
	})
	if ls.err != nil {
		return nil, fmt.Errorf("views: %s in %s: %w", page, lang, ls.err)
	}
	return ls.t, nil
}

// Pages lists the page names, for tests.
func (e *Engine) Pages() []string {
	out := make([]string, 0, len(e.pages))
	for k := range e.pages {
		out = append(out, k)
	}
	return out
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Render executes a page into w. It renders into a buffer first so a template error never sends half a page.
func (e *Engine) Render(w io.Writer, page string, p *Page) error {
	set, err := e.set(page, p.Lang.Code)
	if err != nil {
		return err
	}
	if p.Languages == nil {
		p.Languages = i18n.Languages
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); bufPool.Put(buf) }()
	if err := set.ExecuteTemplate(buf, "_layout.html", p); err != nil {
		return fmt.Errorf("views: render %s: %w", page, err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func funcs(z *i18n.Localizer, asset AssetURL) template.FuncMap {
	return template.FuncMap{
		"t": func(id string, kv ...any) string {
			if len(kv) == 0 {
				return z.T(id)
			}
			return z.T(id, pairs(kv))
		},
		"n":        func(id string, count int) string { return z.N(id, count) },
		"date":     func(v any) string { return z.Date(timeOf(v)) },
		"datetime": func(v any) string { return z.DateTime(timeOf(v)) },
		"weekday":  func(d int) string { return z.T(fmt.Sprintf("date.weekday.%d", d)) },
		"asset":    asset,
		// paras splits a message into paragraphs at blank lines; lines splits a list message at line ends.
		"paras": func(s string) []string { return split(s, "\n\n") },
		"lines": func(s string) []string { return split(s, "\n") },
		"now":   time.Now,
		// dict builds the argument of a partial: dict "Form" $f "Name" "email".
		"dict":  func(kv ...any) map[string]any { return pairs(kv) },
		"list":  func(vs ...string) []string { return vs },
		"has":   func(vs []string, v string) bool { return slices.Contains(vs, v) },
		"bytes": z.Bytes,
		// money formats cents in euro for the language
		"money": func(cents int64) string { return z.Money(float64(cents) / 100) },
		"measure": func(code string) string {
			m, _ := forms.MeasureByCode(code)
			return z.T("measure." + m.Msg + ".title")
		},
	}
}

// pairs turns "Key", value, "Key2", value2 into a map for message templates.
func pairs(kv []any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			m[k] = kv[i+1]
		}
	}
	return m
}

func split(s, sep string) []string {
	var out []string
	for _, part := range strings.Split(s, sep) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// timeOf accepts a time or a pointer to one (nullable columns), so templates need no dereferencing.
func timeOf(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case *time.Time:
		if t != nil {
			return *t
		}
	}
	return time.Time{}
}
