package i18n

import "golang.org/x/text/number"

// Decimal formats a number with at most frac decimals in the language's way (Latin digits, like Number):
// "3,5" in Italian, "3.5" in English, "1.234,5" for a thousand and more.
func (z *Localizer) Decimal(f float64, frac int) string {
	return z.printer.Sprint(number.Decimal(f, number.MaxFractionDigits(frac)))
}
