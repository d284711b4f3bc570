package i18n

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// catalogue reads every file of one language (locales/<lang>.toml and locales/<area>/<lang>.toml) and returns
// its messages; an ID defined in two files is an error.
func catalogue(t *testing.T, lang string) map[string]any {
	t.Helper()
	all := map[string]any{}
	err := fs.WalkDir(localeFiles, "locales", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Base(p) != lang+".toml" {
			return err
		}
		data, err := localeFiles.ReadFile(p)
		if err != nil {
			return err
		}
		raw := map[string]any{}
		if err := toml.Unmarshal(data, &raw); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for id, v := range raw {
			if _, dup := all[id]; dup {
				t.Errorf("%s defines %s again", p, id)
			}
			all[id] = v
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// messageIDs returns the Italian IDs, with whether each is a plural message.
func messageIDs(t *testing.T) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for id, v := range catalogue(t, "it") {
		_, plural := v.(map[string]any)
		ids[id] = plural
	}
	if len(ids) < 50 {
		t.Fatalf("only %d messages in Italian", len(ids))
	}
	return ids
}

// Every Italian message exists, non-empty, in every shipped language, in that language (not through the Italian
// fallback), and plural messages have every CLDR form the language needs.
func TestEveryMessageInEveryLocale(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	counts := []int{0, 1, 2, 3, 4, 5, 6, 10, 11, 12, 21, 22, 25, 100, 101, 102, 111, 1000000}
	for _, lang := range Languages {
		t.Run(lang.Code, func(t *testing.T) {
			z := b.Localizer(lang.Code)
			for id, plural := range messageIDs(t) {
				if !plural {
					if err := z.Check(id, -1); err != nil {
						t.Errorf("%s: %v", id, err)
					}
					continue
				}
				for _, n := range counts {
					if err := z.Check(id, n); err != nil {
						t.Errorf("%s (count %d): %v", id, n, err)
						break
					}
				}
			}
		})
	}
}

// Templates in messages must parse in every language: a broken {{ }} shows the ID instead of the text.
func TestMessagesRenderWithData(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 12, 1, 9, 30, 0, 0, Rome)
	for _, lang := range Languages {
		z := b.Localizer(lang.Code)
		for _, got := range []string{z.Date(day), z.DateTime(day), z.T("measure.call_open", map[string]any{"Closes": "x"}),
			z.N("page.offices.comuni_count", 48), z.T("nav.language_current", map[string]any{"Name": lang.Name})} {
			if got == "" || strings.Contains(got, "{{") || strings.HasPrefix(got, "format.") || strings.HasPrefix(got, "measure.") ||
				strings.HasPrefix(got, "page.") || strings.HasPrefix(got, "nav.") {
				t.Errorf("%s: bad rendering %q", lang.Code, got)
			}
		}
	}
	it := b.Localizer("it")
	if got := it.Date(day); got != "1 dicembre 2026" {
		t.Errorf("it date = %q", got)
	}
	if got := it.DateTime(day); got != "1 dicembre 2026, ore 09:30" {
		t.Errorf("it datetime = %q", got)
	}
	if got := it.N("page.offices.comuni_count", 1); got != "1 comune" {
		t.Errorf("it plural one = %q", got)
	}
	if got := it.N("page.offices.comuni_count", 48); got != "48 comuni" {
		t.Errorf("it plural other = %q", got)
	}
	if got := it.Money(1500); !strings.Contains(got, "1.500,00") || !strings.Contains(got, "€") {
		t.Errorf("it money = %q", got)
	}
}

func TestNegotiate(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, choice, accept, want string }{
		{"explicit choice wins", "ar", "en-GB,en;q=0.9", "ar"},
		{"explicit choice is case-insensitive", "ZH-hans", "", "zh-Hans"},
		{"unknown choice falls to header", "de", "fr-FR,fr;q=0.9,it;q=0.8", "fr"},
		{"q-values order the header", "", "it;q=0.2,ro;q=0.9,en;q=0.5", "ro"},
		{"regional variant", "", "en-US", "en"},
		{"simplified chinese from region", "", "zh-CN", "zh-Hans"},
		{"punjabi", "", "pa-IN,pa;q=0.9", "pa"},
		{"unsupported only gives italian", "", "de-DE,de;q=0.9", "it"},
		{"malformed header gives italian", "", ";;;q=abc,,==", "it"},
		{"absurdly long header gives italian", "", strings.Repeat("en-US,", 200), "it"},
		{"nothing gives italian", "", "", "it"},
		{"wildcard gives italian", "", "*", "it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := b.Negotiate(c.choice, c.accept).Code; got != c.want {
				t.Errorf("Negotiate(%q, %q) = %s, want %s", c.choice, c.accept, got, c.want)
			}
		})
	}
	if !b.Localizer("ar").Lang.RTL || b.Localizer("ar").Lang.Dir() != "rtl" || b.Localizer("it").Lang.Dir() != "ltr" {
		t.Error("arabic must be right-to-left, italian left-to-right")
	}
	if b.Localizer("xx").Lang.Code != "it" {
		t.Error("unknown localizer code must give italian")
	}
}

// Translations are real, not copies of the Italian text: only names, codes and formats may stay identical.
func TestLocalesAreTranslated(t *testing.T) {
	it := catalogue(t, "it")
	for _, lang := range Languages[1:] {
		other := catalogue(t, lang.Code)
		same := 0
		for id, v := range it {
			if s, ok := v.(string); ok && len(s) > 12 && other[id] == s {
				same++
			}
		}
		if same*100 > len(it)*5 {
			t.Errorf("%s: %d of %d messages are identical to Italian", lang.Code, same, len(it))
		}
	}
}
