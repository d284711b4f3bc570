// Package i18n holds the portal's message catalogue in ten languages and decides which language a person reads.
//
// Italian is the source and the legal language: every message ID exists in it.toml, and any ID missing in another
// locale falls back to Italian rather than showing an ID to a resident.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// localeFiles holds locales/<lang>.toml (the site) and locales/<area>/<lang>.toml (one folder per feature area,
// e.g. notifications, staff), so each area's strings stay next to each other and message IDs stay flat.
//
//go:embed locales
var localeFiles embed.FS

// Language is one language the portal ships.
type Language struct {
	Code string // BCP 47 tag as used in URLs, cookies and the html lang attribute
	Name string // endonym, shown in the language switcher
	RTL  bool
}

// Dir is the value of the html dir attribute.
func (l Language) Dir() string {
	if l.RTL {
		return "rtl"
	}
	return "ltr"
}

// Source is the source and legal language.
const Source = "it"

// Languages lists the shipped languages, Italian first; the order is the switcher's order.
var Languages = []Language{
	{Code: "it", Name: "Italiano"},
	{Code: "en", Name: "English"},
	{Code: "fr", Name: "Français"},
	{Code: "es", Name: "Español"},
	{Code: "ro", Name: "Română"},
	{Code: "sq", Name: "Shqip"},
	{Code: "uk", Name: "Українська"},
	{Code: "ar", Name: "العربية", RTL: true},
	{Code: "zh-Hans", Name: "简体中文"},
	{Code: "pa", Name: "ਪੰਜਾਬੀ"},
}

// Bundle is the loaded catalogue plus the language matcher. It is safe for concurrent use.
type Bundle struct {
	bundle     *goi18n.Bundle
	matcher    language.Matcher
	byCode     map[string]Language
	localizers map[string]*Localizer
}

// New loads every locale file. It fails if a shipped language has no file or a file does not parse.
func New() (*Bundle, error) {
	b := goi18n.NewBundle(language.Italian)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	loaded := map[string]bool{}
	err := fs.WalkDir(localeFiles, "locales", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".toml" {
			return err
		}
		data, err := localeFiles.ReadFile(p)
		if err != nil {
			return err
		}
		if _, err := b.ParseMessageFileBytes(data, path.Base(p)); err != nil {
			return fmt.Errorf("parse %s: %w", p, err)
		}
		loaded[strings.TrimSuffix(path.Base(p), ".toml")] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("i18n: %w", err)
	}
	tags := make([]language.Tag, 0, len(Languages))
	bundle := &Bundle{bundle: b, byCode: map[string]Language{}, localizers: map[string]*Localizer{}}
	for _, l := range Languages {
		if !loaded[l.Code] {
			return nil, fmt.Errorf("i18n: no locale file for %s", l.Code)
		}
		tags = append(tags, language.MustParse(l.Code))
		bundle.byCode[strings.ToLower(l.Code)] = l
	}
	bundle.matcher = language.NewMatcher(tags)
	for _, l := range Languages {
		bundle.localizers[l.Code] = newLocalizer(b, l)
	}
	return bundle, nil
}

// Lookup returns the shipped language with this code (case-insensitive), or false.
func (b *Bundle) Lookup(code string) (Language, bool) {
	l, ok := b.byCode[strings.ToLower(strings.TrimSpace(code))]
	return l, ok
}

// Negotiate picks the language for a request: an explicit choice wins when it is a shipped language, then the
// Accept-Language header with its q-values, then Italian. Malformed headers and unknown codes fall back quietly.
func (b *Bundle) Negotiate(choice, acceptLanguage string) Language {
	if l, ok := b.Lookup(choice); ok {
		return l
	}
	if acceptLanguage != "" && len(acceptLanguage) <= 512 {
		if tags, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil && len(tags) > 0 {
			if _, idx, conf := b.matcher.Match(tags...); conf != language.No {
				return Languages[idx]
			}
		}
	}
	return Languages[0]
}

// Localizer returns the localizer for a shipped language code; unknown codes get Italian.
func (b *Bundle) Localizer(code string) *Localizer {
	if l, ok := b.localizers[code]; ok {
		return l
	}
	return b.localizers[Source]
}
