// Package receipt renders the PDF receipt of a submitted application: protocol number, time of receipt, the
// summary of answers and the attachments with their SHA-256, in Italian, the legal language. It is a pure function
// of its input: no database, no HTTP, the same bytes for the same Receipt.
package receipt

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Rome must resolve on machines without system time zone data

	"codeberg.org/go-pdf/fpdf"
)

// Receipt is what the receipt shows. Every text is Italian, already localized by the caller, and printed as given.
type Receipt struct {
	Protocol     string    // CSC-2026-000123
	ReceivedAt   time.Time // precise receipt time, shown in Europe/Rome with seconds
	Measure      string    // e.g. "FNA – Misura B2"
	CallTitle    string
	Applicant    Person
	Beneficiary  Person // may equal Applicant, or be left empty when it does
	Relationship string // the applicant's relationship to the beneficiary, when applying on a relative's behalf
	Sections     []Section
	Attachments  []Attachment
	Declarations []string // self-declaration under DPR 445/2000, privacy consent: texts as accepted
	FormVersion  string
}

// Person is someone named on the receipt.
type Person struct {
	Name       string
	FiscalCode string
}

// Section is one titled group of the summary of answers, rows in the order the form asked them.
type Section struct {
	Title string
	Rows  []Row
}

// Row is one question and its answer.
type Row struct {
	Label, Value string
}

// Attachment is an uploaded file as received.
type Attachment struct {
	Type     string // e.g. "Attestazione ISEE"
	FileName string
	Size     int64  // bytes
	SHA256   string // hex
}

var rome = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic("receipt: Europe/Rome time zone missing: " + err.Error())
	}
	return loc
}()

// Render writes the receipt as an A4 PDF to w. It fails only on a receipt that must not be issued (no protocol
// number, no time, a malformed checksum) or when w fails.
func Render(r Receipt, w io.Writer) error {
	if err := validate(r); err != nil {
		return err
	}
	fs, err := loadFonts()
	if err != nil {
		return err
	}
	// A first pass lays the receipt out without drawing, to count the pages for "pagina N di M" and to learn which
	// faces it needs; the second draws, embedding only those.
	count := layout(r, fs, nil, 0)
	var used []*face
	for _, f := range []*face{fs.regular, fs.bold, fs.arabic, fs.gurmukhi} {
		if count.used[f] {
			used = append(used, f)
		}
	}
	final := layout(r, fs, newPDF(r, used), count.page)
	if err := final.pdf.Error(); err != nil {
		return fmt.Errorf("receipt: layout: %w", err)
	}
	if err := final.pdf.Output(w); err != nil {
		return fmt.Errorf("receipt: write PDF: %w", err)
	}
	return nil
}

func validate(r Receipt) error {
	if strings.TrimSpace(r.Protocol) == "" {
		return errors.New("receipt: protocol number missing")
	}
	if r.ReceivedAt.IsZero() {
		return errors.New("receipt: time of receipt missing")
	}
	for i, a := range r.Attachments {
		if b, err := hex.DecodeString(a.SHA256); err != nil || len(b) != 32 {
			// No file name in the message: it often carries a person's name, and errors end up in logs.
			return fmt.Errorf("receipt: attachment %d: SHA-256 must be 64 hex digits", i+1)
		}
		if a.Size < 0 {
			return fmt.Errorf("receipt: attachment %d: negative size", i+1)
		}
	}
	return nil
}

// newPDF starts an A4 document with the given faces.
func newPDF(r Receipt, faces []*face) *fpdf.Fpdf {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(marginX, bodyTop, marginX)
	pdf.SetAutoPageBreak(false, 0) // doc decides where pages break: rows are kept whole when they fit
	for _, f := range faces {
		pdf.AddUTF8FontFromBytes(f.family, f.style, f.data)
	}
	// Deterministic output: dates from the receipt itself, resources in a fixed order.
	pdf.SetCreationDate(r.ReceivedAt)
	pdf.SetModificationDate(r.ReceivedAt)
	pdf.SetCatalogSort(true)
	pdf.SetTitle("Ricevuta di presentazione della domanda "+r.Protocol, true)
	pdf.SetSubject(r.Measure, true)
	pdf.SetAuthor("Comunità Sociale Cremasca", true)
	pdf.SetCreator("Smart Services", true)
	pdf.SetLang("it-IT")
	return pdf
}

// layout lays the whole receipt out, drawing on pdf unless it is nil; totalPages is 0 on the counting pass.
func layout(r Receipt, fs *fontSet, pdf *fpdf.Fpdf, totalPages int) *doc {
	d := &doc{pdf: pdf, fs: fs, r: &r, totalPages: totalPages, used: map[*face]bool{}}
	if pdf != nil {
		pdf.SetHeaderFuncMode(d.header, false)
		pdf.SetFooterFunc(d.footer)
	}
	d.newPage()
	d.title()
	d.people()
	for _, s := range r.Sections {
		d.section(s)
	}
	d.attachments()
	d.declarations()
	d.closingNote()
	return d
}

// Page geometry, in millimetres.
const (
	pageW      = 210.0
	pageH      = 297.0
	marginX    = 18.0
	contentW   = pageW - 2*marginX
	bodyTop    = 27.0
	bodyBottom = pageH - 21.0
	labelW     = 56.0
	gutter     = 4.0
	valueW     = contentW - labelW - gutter
	rowPad     = 1.7
)

type rgb struct{ r, g, b int }

var (
	colText   = rgb{26, 26, 26}
	colMuted  = rgb{85, 85, 85}
	colAccent = rgb{0, 82, 163} // a darker shade of the portal's Bootstrap Italia blue, readable in print
	colRule   = rgb{208, 208, 208}
	colTint   = rgb{236, 242, 250}
)

// monthsIT and weekdaysIT spell dates the Italian way; the receipt is always Italian, whatever the user's language.
var (
	monthsIT   = [...]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"}
	weekdaysIT = [...]string{"domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"}
)

// receivedAt formats the time of receipt in Rome, to the second, with the offset so that it is unambiguous in the
// hour that repeats when summer time ends.
func receivedAt(t time.Time) (day, clock, zone string) {
	t = t.In(rome)
	day = fmt.Sprintf("%s %d %s %d", weekdaysIT[t.Weekday()], t.Day(), monthsIT[t.Month()-1], t.Year())
	clock = t.Format("15:04:05")
	_, off := t.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	zone = fmt.Sprintf("ora italiana (UTC%s%02d:%02d)", sign, off/3600, off%3600/60)
	return day, clock, zone
}

// formatSize gives a file size the Italian way (decimal comma, dot between thousands) and, for sizes of a kilobyte
// and more, the exact count of bytes.
func formatSize(n int64) (size, exact string) {
	exact = groupThousands(n) + " byte"
	switch {
	case n < 1000:
		return exact, ""
	case n < 999950: // rounds below 1000,0 kB
		size = fmt.Sprintf("%.1f kB", float64(n)/1000)
	default:
		size = fmt.Sprintf("%.1f MB", float64(n)/1000/1000)
	}
	return strings.Replace(size, ".", ",", 1), exact
}

func groupThousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	return b.String()
}
