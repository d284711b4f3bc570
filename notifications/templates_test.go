package notifications

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template/parse"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/comunitasocialecremasca/smartservices/i18n"
)

// allowed is every data field an e-mail or SMS may ever show: a code, its validity, a protocol number, a link, an
// appointment's date and time and the portal's name. Anything else (a measure's name, a diagnosis, an amount) is read after signing in.
var allowed = []string{"Portal", "Code", "Minutes", "Protocol", "Link", "Count", "When"}

// references are data fields no template shows: they tell the worker what to attach (an appointment's ID).
var references = []string{"Booking"}

// catalogue reads every locale file of lang, as the i18n package embeds them.
func catalogue(t *testing.T, lang string) map[string]any {
	t.Helper()
	files, err := filepath.Glob("../i18n/locales/*/" + lang + ".toml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../i18n/locales/"+lang+".toml")
	all := map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		if err := toml.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k, v := range m {
			all[k] = v
		}
	}
	return all
}

// fields returns the {{.Field}} names a message template uses.
func fields(t *testing.T, id, text string) []string {
	t.Helper()
	trees, err := parse.Parse(id, text, "{{", "}}")
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	var out []string
	var walk func(parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n != nil {
				for _, c := range n.Cmds {
					walk(c)
				}
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.FieldNode:
			out = append(out, n.Ident[0])
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.VariableNode, *parse.DotNode, *parse.ChainNode:
			t.Errorf("%s: use plain {{.Field}} references only, found %s", id, n)
		}
	}
	for _, tree := range trees {
		walk(tree.Root)
	}
	return out
}

// No e-mail or SMS template of any kind, in any language, may show a data field outside the allow-list, nor
// a field its kind does not carry: a health detail cannot reach a mail server by a translator's slip.
func TestTemplatesUseOnlyAllowedFields(t *testing.T) {
	for _, lang := range i18n.Languages {
		cat := catalogue(t, lang.Code)
		for _, kind := range Kinds() {
			spec := kinds[kind]
			ids := []string{"email." + kind + ".subject", "email." + kind + ".text", "sms." + kind, "email.layout.footer"}
			if spec.action {
				ids = append(ids, "email."+kind+".action")
			}
			if slices.Contains(spec.channels, Inbox) {
				ids = append(ids, "inbox."+kind)
			}
			for _, id := range ids {
				text, ok := cat[id].(string)
				if !ok {
					t.Errorf("%s: %s missing", lang.Code, id)
					continue
				}
				for _, f := range fields(t, id, text) {
					_, ofKind := spec.fields[f]
					if !slices.Contains(allowed, f) || (!ofKind && f != "Portal") {
						t.Errorf("%s: %s uses {{.%s}}, which kind %s may not show", lang.Code, id, f, kind)
					}
				}
			}
		}
		plural, ok := cat["email.minutes"].(map[string]any)
		if !ok {
			t.Errorf("%s: email.minutes is not a plural table", lang.Code)
		}
		for form, v := range plural {
			for _, f := range fields(t, "email.minutes."+form, v.(string)) {
				if f != "Count" {
					t.Errorf("%s: email.minutes uses {{.%s}}", lang.Code, f)
				}
			}
		}
	}
	for kind, spec := range kinds {
		for f := range spec.fields {
			if !slices.Contains(allowed, f) && !slices.Contains(references, f) {
				t.Errorf("kind %s accepts data field %s, outside the allow-list", kind, f)
			}
		}
	}
}

func TestRenderEveryKindInEveryLanguage(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("https://servizi.example.it")
	tpl, err := NewTemplates(b, base)
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]map[string]string{
		KindSigninCode:          {"Code": "042917", "Minutes": "10"},
		KindWelcome:             {"Link": PersonalAreaPath},
		KindCaseNews:            {"Protocol": "CSC-2026-000123", "Link": "/area-personale/pratiche/123"},
		KindApplicationReceived: {"Protocol": "CSC-2026-000124", "Link": "/pratiche/124"},
		KindAppointmentBooked:   {"When": "2026-12-01T09:30", "Link": "/appuntamenti/gestisci/abc_DEF-123", "Booking": "42"},
		KindAppointmentReminder: {"When": "2026-12-01T09:30", "Link": "/appuntamenti/gestisci/abc_DEF-123", "Booking": "42"},
		KindAppointmentCode:     {"Code": "318204", "Minutes": "10"},
	}
	if len(data) != len(kinds) {
		t.Fatalf("test data for %d kinds, %d kinds exist", len(data), len(kinds))
	}
	subjects := map[string]map[string]bool{}
	for _, lang := range i18n.Languages {
		for kind, d := range data {
			c, err := tpl.Render(lang.Code, kind, d)
			if err != nil {
				t.Fatal(err)
			}
			all := c.Subject + c.Text + c.HTML + c.SMS + c.Inbox
			if strings.Contains(all, "{{") || strings.Contains(all, "email.") || strings.Contains(all, "sms.") ||
				strings.Contains(all, "inbox.") || strings.Contains(all, "<no value>") {
				t.Errorf("%s %s: unrendered template or ID in\n%s", lang.Code, kind, all)
			}
			for name, v := range d {
				if slices.Contains(references, name) {
					if strings.Contains(c.Text+c.SMS, v) {
						t.Errorf("%s %s: the reference %s is shown", lang.Code, kind, name)
					}
					continue
				}
				want := v
				if name == "Link" {
					want = "https://servizi.example.it" + v
				}
				if name == "Minutes" {
					want = "10"
				}
				if name == "When" { // in the language's own date format
					want = b.Localizer(lang.Code).DateTime(time.Date(2026, 12, 1, 9, 30, 0, 0, i18n.Rome))
				}
				if !strings.Contains(c.Text, want) || !strings.Contains(c.HTML, want) {
					t.Errorf("%s %s: %s %q missing from the e-mail", lang.Code, kind, name, want)
				}
				if !strings.Contains(c.SMS, want) {
					t.Errorf("%s %s: %s %q missing from the SMS %q", lang.Code, kind, name, want, c.SMS)
				}
			}
			wantDir := `<html lang="` + lang.Code + `" dir="` + lang.Dir() + `">`
			if !strings.Contains(c.HTML, wantDir) {
				t.Errorf("%s %s: HTML lacks %s", lang.Code, kind, wantDir)
			}
			if subjects[kind] == nil {
				subjects[kind] = map[string]bool{}
			}
			if subjects[kind][c.Subject] {
				t.Errorf("%s %s: subject %q is the same as another language's", lang.Code, kind, c.Subject)
			}
			subjects[kind][c.Subject] = true
			if (c.Inbox != "") != slices.Contains(kinds[kind].channels, Inbox) {
				t.Errorf("%s %s: inbox text %q", lang.Code, kind, c.Inbox)
			}
		}
	}
	ar, _ := tpl.Render("ar", KindCaseNews, data[KindCaseNews])
	if !strings.Contains(ar.HTML, `dir="rtl"`) || !strings.Contains(ar.HTML, "text-align:right") {
		t.Error("the Arabic e-mail must be right-to-left")
	}
	it, _ := tpl.Render("it", KindSigninCode, data[KindSigninCode])
	if !strings.Contains(it.Text, "10 minuti") || !strings.Contains(it.HTML, "letter-spacing") {
		t.Errorf("italian sign-in code: %q", it.Text)
	}
	if one, _ := tpl.Render("it", KindSigninCode, map[string]string{"Code": "123456", "Minutes": "1"}); !strings.Contains(one.SMS, "1 minuto") {
		t.Errorf("plural one: %q", one.SMS)
	}
	// HTML escaping: a link is an attribute, text is text.
	if strings.Contains(it.HTML, "<script") {
		t.Error("unexpected script")
	}
}

// Data that could carry free text never gets into the outbox: unknown fields and values of the wrong shape are
// refused before anything is written.
func TestCheckDataRefusesFreeText(t *testing.T) {
	bad := []struct {
		kind string
		data map[string]string
	}{
		{KindCaseNews, map[string]string{"Protocol": "CSC-2026-000123", "Diagnosis": "x"}},
		{KindCaseNews, map[string]string{"Protocol": "CSC-2026-000123 invalidità civile 100%"}},
		{KindCaseNews, map[string]string{}},
		{KindCaseNews, map[string]string{"Protocol": "CSC-1", "Link": "https://elsewhere.example.com/"}},
		{KindCaseNews, map[string]string{"Protocol": "CSC-1", "Link": "//elsewhere.example.com/"}},
		{KindSigninCode, map[string]string{"Code": "12345"}},
		{KindSigninCode, map[string]string{"Code": "123456", "Minutes": "ten"}},
		{KindWelcome, map[string]string{"Name": "Maria"}},
		{KindAppointmentBooked, map[string]string{"When": "2026-12-01T09:30 colloquio per invalidità"}},
		{KindAppointmentBooked, map[string]string{"When": "2026-13-45T29:30"}},
		{KindAppointmentBooked, map[string]string{"Link": "/appuntamenti/42"}},
		{"diagnosis", map[string]string{}},
	}
	for _, c := range bad {
		if _, err := checkData(c.kind, c.data); err == nil {
			t.Errorf("%s %v accepted", c.kind, c.data)
		} else if strings.Contains(err.Error(), "invalidità") {
			t.Errorf("error echoes the value: %v", err)
		}
	}
	got, err := checkData(KindWelcome, nil)
	if err != nil || got["Link"] != PersonalAreaPath {
		t.Errorf("welcome defaults: %v %v", got, err)
	}
	got, err = checkData(KindSigninCode, map[string]string{"Code": "000001"})
	if err != nil || got["Minutes"] != "10" {
		t.Errorf("signin defaults: %v %v", got, err)
	}
}

func TestMasking(t *testing.T) {
	cases := map[string]string{"+393331234567": "*********567", "333 123 4567": "*******567", "12": "12"}
	for in, want := range cases {
		if got := maskPhone(in); got != want {
			t.Errorf("maskPhone(%q) = %q, want %q", in, got, want)
		}
	}
	if got := maskEmail("maria.rossi@example.it"); got != "m***@example.it" {
		t.Errorf("maskEmail = %q", got)
	}
	for in, want := range map[string]string{"333 123 4567": "+393331234567", "0039 333-1234567": "+393331234567",
		"+44 20 7946 0958": "+442079460958"} {
		if got, ok := normalizePhone(in); !ok || got != want {
			t.Errorf("normalizePhone(%q) = %q %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "abc", "+39 12", "+0 333 1234567"} {
		if _, ok := normalizePhone(in); ok {
			t.Errorf("normalizePhone(%q) accepted", in)
		}
	}
}
