package receipt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Set RECEIPT_PDF_DIR to keep the rendered PDFs, e.g. to look at them with pdftoppm.
func render(t *testing.T, name string, r Receipt) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(r, &buf); err != nil {
		t.Fatalf("Render: %v", err)
	}
	if dir := os.Getenv("RECEIPT_PDF_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name+".pdf"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func fixture(t *testing.T, name string) Receipt {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var r Receipt
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// sixtyRows is a long application: 6 sections of 10 rows, some answers several lines long.
func sixtyRows(t *testing.T) Receipt {
	r := fixture(t, "fna_b2")
	r.Protocol = "CSC-2026-000777"
	r.Sections = nil
	for s := 1; s <= 6; s++ {
		sec := Section{Title: fmt.Sprintf("Sezione %d", s)}
		for i := 1; i <= 10; i++ {
			n := (s-1)*10 + i
			v := fmt.Sprintf("Risposta %d", n)
			if n%7 == 0 {
				v += strings.Repeat(" – testo più lungo che va a capo più volte nella colonna delle risposte", 4)
			}
			sec.Rows = append(sec.Rows, Row{Label: fmt.Sprintf("Domanda %d", n), Value: v})
		}
		r.Sections = append(r.Sections, sec)
	}
	return r
}

// checkPages asserts what every page must carry: the header with the protocol and "Pagina N di M".
func checkPages(t *testing.T, d pdfDoc, protocol string) {
	t.Helper()
	for i, p := range d.pages {
		text := pageText(p)
		for _, want := range []string{
			"Comunità Sociale Cremasca – Smart Services",
			"Protocollo n. " + protocol,
			"Ricevuta generata automaticamente",
			fmt.Sprintf("Pagina %d di %d", i+1, len(d.pages)),
		} {
			if !strings.Contains(text, want) {
				t.Errorf("page %d lacks %q:\n%s", i+1, want, text)
			}
		}
	}
}

// checkNoTofu asserts that every character drawn in an embedded font has a glyph in it.
func checkNoTofu(t *testing.T, d pdfDoc) {
	t.Helper()
	fs, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*face{}
	for _, f := range []*face{fs.regular, fs.bold, fs.arabic, fs.gurmukhi} {
		byName["utf8"+strings.ToLower(f.family)+f.style] = f
	}
	for i, p := range d.pages {
		for _, piece := range p {
			if piece.font == "Courier" {
				continue
			}
			f := byName[piece.font]
			if f == nil {
				t.Fatalf("page %d: text in unknown font %q", i+1, piece.font)
			}
			for _, r := range piece.text {
				if !f.has(r) {
					t.Errorf("page %d: %q (U+%04X) drawn in %s, which has no glyph for it", i+1, r, r, piece.font)
				}
			}
		}
	}
}

func TestRenderFNAB2(t *testing.T) {
	r := fixture(t, "fna_b2")
	d := parsePDF(t, render(t, "fna_b2", r))
	if len(d.pages) != 3 { // as seen rendered; changes only with the layout
		t.Errorf("%d pages, want 3", len(d.pages))
	}
	checkPages(t, d, r.Protocol)
	checkNoTofu(t, d)
	text := d.text()
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{
		"Ricevuta di presentazione della domanda",
		"FNA – Misura B2",
		"Numero di protocollo",
		"CSC-2026-000123",
		"giovedì 12 marzo 2026",
		"ore 09:15:42",
		"ora italiana (UTC+01:00)",
		"Giulia Bianchi",
		"Codice fiscale BNCGLI72D52D142S",
		"Giuseppe Bianchi",
		"Codice fiscale BNCGPP38H15D142K",
		"Rapporto con il beneficiario Figlia",
		"Categoria Anziani",
		"€ 18.450,32",
		"IT60 X054 2811 1010 0000 0123 456",
		"Allegati (3)",
		"Attestazione ISEE socio-sanitario",
		"1,8 MB",
		"(1.843.201 byte)",
		"987 byte",
		// Checksums in lower case, in lines of 32 hex digits.
		"e3b0c44298fc1c149afbf4c8996fb924", "27ae41e4649b934ca495991b7852b855",
		"9f86d081884c7d659a2feaa0c55ad015", "a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"Dichiarazioni",
		"art. 76 del DPR 445/2000",
		"Versione del modulo: fna-b2/2026 v3.",
		"La ricevuta non costituisce accoglimento della domanda",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("receipt lacks %q", want)
		}
	}
	if strings.Contains(text, "parentesi quadre") {
		t.Error("placeholder note printed though every text is drawable")
	}
	// The sections come in the caller's order.
	last := -1
	for _, s := range r.Sections {
		i := strings.Index(text, s.Title+"\n")
		if i < last {
			t.Errorf("section %q out of order", s.Title)
		}
		last = i
	}
}

func TestRenderSixtyRowsPaginates(t *testing.T) {
	r := sixtyRows(t)
	d := parsePDF(t, render(t, "sixty_rows", r))
	if len(d.pages) != 5 { // as seen rendered; changes only with the layout
		t.Fatalf("%d pages for 60 rows, want 5", len(d.pages))
	}
	checkPages(t, d, r.Protocol)
	checkNoTofu(t, d)
	// Every row appears once, in order, and a row that fits on a page is not split across two.
	pages := make([]string, len(d.pages))
	for i, p := range d.pages {
		pages[i] = pageText(p)
	}
	lastPage := 0
	for n := 1; n <= 60; n++ {
		label, value := fmt.Sprintf("Domanda %d\t", n), fmt.Sprintf("Risposta %d", n)
		found := false
		for i, p := range pages {
			if strings.Contains(p, label) {
				if found {
					t.Errorf("%q on two pages", label)
				}
				found = true
				if i < lastPage {
					t.Errorf("%q on page %d, after page %d", label, i+1, lastPage+1)
				}
				lastPage = i
				if !strings.Contains(p, value) {
					t.Errorf("row %d split: its answer is not on page %d", n, i+1)
				}
			}
		}
		if !found {
			t.Errorf("%q missing", label)
		}
	}
}

func TestRenderNamesFromAnywhere(t *testing.T) {
	r := fixture(t, "world_names")
	d := parsePDF(t, render(t, "world_names", r))
	checkPages(t, d, r.Protocol)
	checkNoTofu(t, d)
	text := d.text()
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{
		"Ștefania Munteanu-Țîrcă",                  // Romanian comma-below letters
		"Олександр Шевченко",                       // Ukrainian
		"Київ",                                     // Ukrainian і and ї
		"Një përshkrim i shkurtër: çfarë ëndrre",   // Albanian
		"Mário d’Alò “detto Mimì” – ÀÈÉÌÒÙ àèéìòù", // Italian typography
		"[testo in caratteri cinesi: vedi la domanda nel portale] (Wang Wei)",
		"(Harpreet Singh)",
		"I testi tra parentesi quadre sostituiscono caratteri",
		"contract_închiriere_Țîrcă.pdf",
		"mercoledì 1 luglio 2026", "ore 23:59:59", "ora italiana (UTC+02:00)",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("receipt lacks %q", want)
		}
	}
	for _, r := range text {
		if unicode.Is(unicode.Han, r) {
			t.Fatalf("Chinese character %q drawn: no embedded font has it", r)
		}
	}
	// Arabic is drawn in visual order, right to left, and shaped (presentation forms, lam-alef ligatures):
	// undoing both gives the original words back.
	logical := norm.NFKC.String(reverse(text))
	for _, word := range []string{"محمد عبد الله صلاح", "أعيش مع عائلتي في كريما"} {
		if !strings.Contains(logical, word) {
			t.Errorf("Arabic %q not found in visual order", word)
		}
	}
	if !strings.ContainsRune(text, 0xFEE3) { // meem, initial form: letters are joined
		t.Error("Arabic letters not shaped")
	}
	// The Gurmukhi vowel sign i is drawn before its consonant: ਸਿ becomes ਿਸ.
	if !strings.Contains(text, "ਿਸੰਘ") {
		t.Error("Gurmukhi sihari not reordered")
	}
}

func reverse(s string) string {
	rs := []rune(s)
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return string(rs)
}

func TestRenderIsDeterministic(t *testing.T) {
	for _, name := range []string{"fna_b2", "world_names"} {
		r := fixture(t, name)
		var outs [4][]byte
		var wg sync.WaitGroup
		for i := range outs {
			wg.Go(func() {
				var buf bytes.Buffer
				if err := Render(r, &buf); err != nil {
					t.Error(err)
				}
				outs[i] = buf.Bytes()
			})
		}
		wg.Wait()
		for i := 1; i < len(outs); i++ {
			if !bytes.Equal(outs[0], outs[i]) {
				t.Errorf("%s: render %d differs from render 0", name, i)
			}
		}
		if !bytes.Contains(outs[0], []byte("/CreationDate (D:20260")) {
			t.Errorf("%s: creation date not taken from the time of receipt", name)
		}
	}
}

func TestRenderUnusedFontsNotEmbedded(t *testing.T) {
	b := render(t, "fna_b2_fonts", fixture(t, "fna_b2"))
	for _, f := range []string{"notosansarabic", "notosansgurmukhi"} {
		if bytes.Contains(b, []byte("/BaseFont /utf8"+f)) {
			t.Errorf("%s embedded in an all-Italian receipt", f)
		}
	}
}

func TestRenderSameBeneficiary(t *testing.T) {
	r := fixture(t, "fna_b2")
	r.Beneficiary, r.Relationship = Person{}, "Figlia"
	text := parsePDF(t, render(t, "same_person", r)).text()
	if !strings.Contains(text, "La stessa persona del richiedente") {
		t.Error("beneficiary equal to the applicant not said so")
	}
	if strings.Contains(text, "Rapporto con il beneficiario") {
		t.Error("relationship printed for an applicant applying for themself")
	}
}

func TestRenderNoAttachments(t *testing.T) {
	r := fixture(t, "fna_b2")
	r.Attachments, r.Declarations = nil, nil
	text := parsePDF(t, render(t, "no_attachments", r)).text()
	if !strings.Contains(text, "Allegati (0)\nNessun allegato.\n") {
		t.Errorf("no attachments not said:\n%s", text)
	}
}

func TestRenderRejects(t *testing.T) {
	good := fixture(t, "fna_b2")
	cases := map[string]func(*Receipt){
		"no protocol":  func(r *Receipt) { r.Protocol = " " },
		"no time":      func(r *Receipt) { r.ReceivedAt = time.Time{} },
		"short hash":   func(r *Receipt) { r.Attachments[1].SHA256 = "abc" },
		"not hex":      func(r *Receipt) { r.Attachments[0].SHA256 = strings.Repeat("g", 64) },
		"sha-1 length": func(r *Receipt) { r.Attachments[0].SHA256 = strings.Repeat("a", 40) },
		"bad size":     func(r *Receipt) { r.Attachments[2].Size = -1 },
	}
	for name, spoil := range cases {
		r := good
		r.Attachments = append([]Attachment(nil), good.Attachments...)
		spoil(&r)
		var buf bytes.Buffer
		if err := Render(r, &buf); err == nil {
			t.Errorf("%s: rendered", name)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes before failing", name, buf.Len())
		}
	}
}

func TestEmbeddedFontsBudget(t *testing.T) {
	total := len(ttfSansRegular) + len(ttfSansBold) + len(ttfArabic) + len(ttfGurmukhi)
	if total > 1536*1024 {
		t.Errorf("embedded fonts weigh %d bytes, over the 1.5 MiB budget", total)
	}
}

// Italian typography and the Latin and Cyrillic letters of the portal's languages are in the text faces
// themselves, regular and bold, not in a fallback.
func TestTextFacesCoverPortalLanguages(t *testing.T) {
	fs, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	const chars = "àèéìòùÀÈÉÌÒÙ€’‘“”–—«»…°ªº" + // Italian
		"ăâîșțĂÂÎȘȚşţ" + // Romanian, both comma-below and cedilla forms
		"ëçËÇ" + // Albanian
		"абвгґдеєжзиіїйклмнопрстуфхцчшщьюяАБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯʼ№" + // Ukrainian
		"ñáíóúüÑ¿¡" + // Spanish
		"œæûôêÿŒÆ" // French
	for _, f := range []*face{fs.regular, fs.bold} {
		for _, r := range chars {
			if !f.has(r) {
				t.Errorf("%s %s lacks %q (U+%04X)", f.family, f.style, r, r)
			}
		}
	}
}

func BenchmarkRenderFNAB2(b *testing.B) {
	var t testing.T
	r := fixture(&t, "fna_b2")
	for b.Loop() {
		if err := Render(r, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// Only what a receipt cannot do without; odd characters the PDF syntax reserves, control characters.
func TestRenderMinimal(t *testing.T) {
	r := Receipt{
		Protocol:   "CSC-2026-000001",
		ReceivedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Sections: []Section{{Title: "Varie", Rows: []Row{
			{Label: "Parentesi", Value: `a (b) c \ d ) (`},
			{Label: "Controlli", Value: "riga\x00uno\x07\r\nriga due\u200b"},
			{Label: "Vuota", Value: "  "},
		}}},
	}
	d := parsePDF(t, render(t, "minimal", r))
	checkPages(t, d, r.Protocol)
	checkNoTofu(t, d)
	text := d.text()
	for _, want := range []string{`a (b) c \ d ) (`, "rigauno\nriga due\n", "Vuota\t—", "Beneficiario\tLa stessa persona del richiedente"} {
		if !strings.Contains(text, want) {
			t.Errorf("receipt lacks %q:\n%s", want, text)
		}
	}
}
