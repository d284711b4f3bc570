package views

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
)

func italianIDs(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../../i18n/locales/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../../i18n/locales/*/it.toml")
	ids := map[string]bool{}
	for _, f := range append(files, more...) {
		if filepath.Base(f) != "it.toml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		raw := map[string]any{}
		if err := toml.Unmarshal(data, &raw); err != nil {
			t.Fatal(err)
		}
		for k := range raw {
			ids[k] = true
		}
	}
	return ids
}

// Every message ID a template names literally exists in the Italian catalogue (and so, by the i18n tests, in
// every language); IDs built from a measure's prefix exist for every measure.
func TestTemplateMessageIDsExist(t *testing.T) {
	ids := italianIDs(t)
	literal := regexp.MustCompile(`\(?\bt "([a-z0-9_.]+)"`)
	err := fs.WalkDir(templateFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := templateFiles.ReadFile(p)
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			if !ids[m[1]] {
				t.Errorf("%s uses %q, missing from it.toml", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range forms.Measures {
		for _, suffix := range []string{"title", "summary", "what", "who", "amount", "documents"} {
			if id := "measure." + m.Msg + "." + suffix; !ids[id] {
				t.Errorf("measure %s needs %s", m.Code, id)
			}
		}
		for _, sec := range m.ExtraSections {
			if !ids[sec[0]] || !ids[sec[1]] {
				t.Errorf("measure %s extra section %v missing", m.Code, sec)
			}
		}
	}
}

// Every page renders in every language with the right lang and dir, and an unknown asset name fails loudly.
func TestEveryPageRendersInEveryLanguage(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	e, err := New(b, func(name string) string {
		if !strings.Contains("css/portal.css favicon.svg icons.svg", name) {
			missing = append(missing, name)
		}
		return "/assets/" + name
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range e.Pages() {
		for _, lang := range i18n.Languages {
			var buf bytes.Buffer
			p := &Page{Lang: lang, Title: "T", Path: "/", Data: map[string]any{"Text": "error.not_found.text", "Body": "page.privacy.body"}}
			if page != "error" && page != "legal" && page != "language" {
				continue // pages with typed data render in the handler tests
			}
			if err := e.Render(&buf, page, p); err != nil {
				t.Fatalf("%s/%s: %v", page, lang.Code, err)
			}
			if !strings.Contains(buf.String(), `<html lang="`+lang.Code+`" dir="`+lang.Dir()+`">`) {
				t.Errorf("%s/%s: wrong html element", page, lang.Code)
			}
		}
	}
	if len(missing) > 0 {
		t.Errorf("templates name unknown assets: %v", missing)
	}
}
