package portal

import (
	"bytes"
	"encoding/csv"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// sendCSV answers with a CSV download that Excel opens as it is, in Italy too: UTF-8 with a byte-order mark,
// semicolons between fields (the comma is Italian's decimal separator), CRLF line ends. Every cell goes through
// csvCell, so a value a resident typed cannot become a formula in the commission's spreadsheet.
func sendCSV(c *fiber.Ctx, filename string, header []string, rows [][]string) error {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.Comma = ';'
	w.UseCRLF = true
	line := make([]string, 0, len(header))
	for _, r := range append([][]string{header}, rows...) {
		line = line[:0]
		for _, cell := range r {
			line = append(line, csvCell(cell))
		}
		if err := w.Write(line); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.Send(buf.Bytes())
}

// csvCell neutralises CSV injection (OWASP): a cell that a spreadsheet would read as a formula — starting with
// = + - @, a tab or a carriage return, after any spaces — is prefixed with an apostrophe, which shows the text as typed.
// Numbers the portal itself writes (amounts, counts) never start with those characters, negative numbers aside,
// which the exports do not have.
func csvCell(s string) string {
	if t := strings.TrimLeft(s, " "); t != "" && strings.ContainsRune("=+-@\t\r", rune(t[0])) {
		return "'" + s
	}
	return s
}
