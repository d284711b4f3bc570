package i18n

import (
	"errors"
	"strconv"
	"strings"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// Rome is the time zone of every date the portal shows or records: calls open and close on Italian time.
var Rome = mustLoadRome()

func mustLoadRome() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic("i18n: Europe/Rome time zone missing; import time/tzdata in main: " + err.Error())
	}
	return loc
}

// Localizer renders messages, dates, numbers and amounts in one language, falling back to Italian per message.
type Localizer struct {
	Lang    Language
	l       *goi18n.Localizer
	printer *message.Printer
}

func newLocalizer(b *goi18n.Bundle, lang Language) *Localizer {
	return &Localizer{
		Lang: lang,
		l:    goi18n.NewLocalizer(b, lang.Code, Source),
		// Latin digits in every language: dates, codes and amounts on Italian documents use them, and mixing
		// digit systems on one page (as Arabic-Indic counts next to Latin dates would) confuses readers.
		printer: message.NewPrinter(language.MustParse(lang.Code + "-u-nu-latn")),
	}
}

// T renders a message. data is an optional template argument (a map or struct). A missing ID renders as the ID
// itself, which the catalogue tests make impossible for IDs used by the code and templates.
func (z *Localizer) T(id string, data ...any) string {
	lc := &goi18n.LocalizeConfig{MessageID: id}
	if len(data) > 0 {
		lc.TemplateData = data[0]
	}
	s, err := z.l.Localize(lc)
	if err != nil {
		return id
	}
	return s
}

// N renders a plural message for count, following the language's CLDR plural rules. The template sees .Count
// formatted for the language, plus any fields of data (a map[string]any).
func (z *Localizer) N(id string, count int, data ...map[string]any) string {
	td := map[string]any{}
	if len(data) > 0 {
		for k, v := range data[0] {
			td[k] = v
		}
	}
	td["Count"] = z.Number(count)
	s, err := z.l.Localize(&goi18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: td})
	if err != nil {
		return id
	}
	return s
}

// Check reports whether id renders in this very language (not through the Italian fallback), with the plural
// form for count when count >= 0. The catalogue tests use it.
func (z *Localizer) Check(id string, count int) error {
	lc := &goi18n.LocalizeConfig{MessageID: id}
	if count >= 0 {
		lc.PluralCount = count
		lc.TemplateData = map[string]any{"Count": count}
	}
	s, tag, err := z.l.LocalizeWithTag(lc)
	if err != nil {
		return err
	}
	if tag.String() != z.Lang.Code && !strings.EqualFold(tag.String(), z.Lang.Code) {
		return errors.New("falls back to " + tag.String())
	}
	if strings.TrimSpace(s) == "" {
		return errors.New("empty")
	}
	return nil
}

// Number formats an integer with the language's digit grouping.
func (z *Localizer) Number(n int) string {
	return z.printer.Sprint(number.Decimal(n))
}

// Bytes formats a file size with the language's decimal separator: "350 KB", "1,2 MB" (units are the same in
// every language the portal speaks).
func (z *Localizer) Bytes(n int64) string {
	switch {
	case n >= 1<<20:
		return z.printer.Sprint(number.Decimal(float64(n)/(1<<20), number.MaxFractionDigits(1))) + " MB"
	case n >= 1<<10:
		return z.printer.Sprint(number.Decimal(float64(n)/(1<<10), number.MaxFractionDigits(0))) + " KB"
	}
	return z.printer.Sprint(number.Decimal(n)) + " B"
}

// Money formats an amount in euro for the language, e.g. "€ 1.500,00" in Italian.
func (z *Localizer) Money(euro float64) string {
	return z.printer.Sprint(currency.NarrowSymbol(currency.EUR.Amount(euro)))
}

// Date formats a day in the language, in Europe/Rome: the pattern and month names are messages of the catalogue.
func (z *Localizer) Date(t time.Time) string {
	t = t.In(Rome)
	return z.T("format.date", map[string]any{
		"Day":      strconv.Itoa(t.Day()),
		"Month":    z.T("date.month." + strconv.Itoa(int(t.Month()))),
		"MonthNum": strconv.Itoa(int(t.Month())),
		"Year":     strconv.Itoa(t.Year()),
	})
}

// DateTime formats a day and a time of day (24-hour clock, Europe/Rome).
func (z *Localizer) DateTime(t time.Time) string {
	t = t.In(Rome)
	return z.T("format.datetime", map[string]any{"Date": z.Date(t), "Time": t.Format("15:04")})
}
