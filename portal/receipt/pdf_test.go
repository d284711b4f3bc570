package receipt

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/text/encoding/charmap"
)

// A tiny reader for the PDFs fpdf writes (plain objects, Flate streams, text drawn with "x y Td (…) Tj"), enough to
// check pages and text in Go without a PDF tool. Text in the embedded fonts is UTF-16BE, since fpdf uses Unicode
// code points as CIDs; the core Courier font is WinAnsi.

type pdfPiece struct {
	font string  // BaseFont of the font drawing it
	size float64 // points
	x, y float64 // start of the baseline, in points
	text string
}

type pdfDoc struct {
	pages [][]pdfPiece
}

var (
	objRe      = regexp.MustCompile(`(?s)(\d+) 0 obj\n(.*?)\nendobj`)
	refRe      = regexp.MustCompile(`/(\w+) (\d+) 0 R`)
	kidsRe     = regexp.MustCompile(`/Kids \[([^\]]*)\]`)
	contentsRe = regexp.MustCompile(`/Contents (\d+) 0 R`)
	opRe       = regexp.MustCompile(`(?s)/(\w+) ([\d.]+) Tf|([\d.]+) ([\d.]+) Td \(((?:\\.|[^\\)])*)\) Tj`)
)

func parsePDF(t *testing.T, b []byte) pdfDoc {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("%PDF-1.")) || !bytes.HasSuffix(bytes.TrimSpace(b), []byte("%%EOF")) {
		t.Fatalf("not a complete PDF: %q…%q", b[:min(len(b), 12)], b[max(0, len(b)-12):])
	}
	objs := map[int]string{}
	for _, m := range objRe.FindAllSubmatch(b, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		objs[n] = string(m[2])
	}
	stream := func(n int) string {
		o := objs[n]
		i := strings.Index(o, "stream\n")
		if i < 0 {
			t.Fatalf("object %d has no stream", n)
		}
		data := strings.TrimSuffix(o[i+len("stream\n"):], "\nendstream")
		if !strings.Contains(o[:i], "/FlateDecode") {
			return data
		}
		zr, err := zlib.NewReader(strings.NewReader(data))
		if err != nil {
			t.Fatalf("object %d: %v", n, err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("object %d: %v", n, err)
		}
		return string(out)
	}
	// Font resource names → BaseFont.
	baseFont := map[string]string{}
	for _, o := range objs {
		if !strings.Contains(o, "/Font <<") {
			continue
		}
		for _, m := range refRe.FindAllStringSubmatch(o[strings.Index(o, "/Font <<"):], -1) {
			n, _ := strconv.Atoi(m[2])
			if bf := regexp.MustCompile(`/BaseFont /(\S+)`).FindStringSubmatch(objs[n]); bf != nil {
				baseFont[m[1]] = bf[1]
			}
		}
	}
	var root string
	for _, o := range objs {
		if strings.Contains(o, "/Type /Pages") {
			root = o
		}
	}
	kids := kidsRe.FindStringSubmatch(root)
	if kids == nil {
		t.Fatal("no page tree")
	}
	var d pdfDoc
	for _, ref := range regexp.MustCompile(`(\d+) 0 R`).FindAllStringSubmatch(kids[1], -1) {
		n, _ := strconv.Atoi(ref[1])
		if !strings.Contains(objs[n], "/Type /Page\n") {
			t.Fatalf("kid %d is not a page: %q", n, objs[n])
		}
		c, _ := strconv.Atoi(contentsRe.FindStringSubmatch(objs[n])[1])
		var page []pdfPiece
		font, size := "", 0.0
		for _, m := range opRe.FindAllStringSubmatch(stream(c), -1) {
			if m[1] != "" {
				font = baseFont[m[1]]
				size, _ = strconv.ParseFloat(m[2], 64)
				continue
			}
			x, _ := strconv.ParseFloat(m[3], 64)
			y, _ := strconv.ParseFloat(m[4], 64)
			raw := unescapePDF(m[5])
			var text string
			if font == "Courier" {
				text, _ = charmap.Windows1252.NewDecoder().String(raw)
			} else {
				u := make([]uint16, len(raw)/2)
				for i := range u {
					u[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
				}
				text = string(utf16.Decode(u))
			}
			page = append(page, pdfPiece{font: font, size: size, x: x, y: y, text: text})
		}
		d.pages = append(d.pages, page)
	}
	if want := fmt.Sprintf("/Count %d", len(d.pages)); !strings.Contains(root, want) {
		t.Errorf("page tree says %q, has %d kids", root, len(d.pages))
	}
	if got := bytes.Count(b, []byte("/Type /Page\n")); got != len(d.pages) {
		t.Errorf("%d page objects, %d kids", got, len(d.pages))
	}
	return d
}

func unescapePDF(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		default:
			if s[i] >= '0' && s[i] <= '7' {
				j := i
				for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
					j++
				}
				v, _ := strconv.ParseUint(s[i:j], 8, 8)
				b.WriteByte(byte(v))
				i = j - 1
			} else {
				b.WriteByte(s[i])
			}
		}
	}
	return b.String()
}

// pageText joins a page's pieces in drawing order: a piece that starts where the previous one ended (a change of
// font inside a line) directly, one further along the same baseline (the next column) after a tab, one on another
// baseline after a newline.
func pageText(page []pdfPiece) string {
	fs, _ := loadFonts()
	byName := map[string]*face{}
	for _, f := range []*face{fs.regular, fs.bold, fs.arabic, fs.gurmukhi} {
		byName["utf8"+strings.ToLower(f.family)+f.style] = f
	}
	var b strings.Builder
	end := 0.0
	for i, p := range page {
		switch {
		case i == 0:
		case p.y != page[i-1].y:
			b.WriteByte('\n')
		case math.Abs(p.x-end) > 0.5:
			b.WriteByte('\t')
		}
		b.WriteString(p.text)
		end = p.x
		for _, r := range p.text {
			if f := byName[p.font]; f != nil {
				end += f.advance[r] * p.size
			} else {
				end += 0.6 * p.size // Courier
			}
		}
	}
	return b.String()
}

func (d pdfDoc) text() string {
	var pages []string
	for _, p := range d.pages {
		pages = append(pages, pageText(p))
	}
	return strings.Join(pages, "\n")
}
