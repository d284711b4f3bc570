package receipt

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestShapeArabic(t *testing.T) {
	cases := []struct{ in, want string }{
		// meem initial, hah medial, meem medial, dal final
		{"محمد", "\uFEE3\uFEA4\uFEE4\uFEAA"},
		// seen initial, lam-alef final ligature, meem isolated (after alef nothing joins)
		{"سلام", "\uFEB3\uFEFC\uFEE1"},
		// lam-alef at the start of a word: isolated ligature
		{"لا", "\uFEFB"},
		// two words: spaces break the joining
		{"علي حسن", "\uFECB\uFEE0\uFEF2 \uFEA3\uFEB4\uFEE6"},
		// a mark (fatha) is transparent: beh still joins the following teh
		{"بَت", "\uFE91\u064E\uFE96"},
		// Persian letters: peh initial, yeh (farsi) final
		{"پی", "\uFB58\uFBFD"},
		// Latin is untouched
		{"Ștefan", "Ștefan"},
	}
	for _, c := range cases {
		if got := string(shapeArabic([]rune(c.in))); got != c.want {
			t.Errorf("shapeArabic(%q) = %+q, want %+q", c.in, got, c.want)
		}
	}
}

func TestVisualOrder(t *testing.T) {
	cases := []struct {
		in   string
		rtl  bool
		want string
	}{
		{"Mario Rossi", false, "Mario Rossi"},
		// An Arabic name inside Italian text is reversed as a block.
		{"Nome: ابج دهو.", false, "Nome: وهد جبا."},
		// Numbers inside Arabic keep their left-to-right order.
		{"ابج 12 دهو", true, "وهد 12 جبا"},
		// Brackets are mirrored in right-to-left runs.
		{"ابج (دهو)", true, "(وهد) جبا"},
		// A Latin name inside an Arabic paragraph stays readable.
		{"ابج Wang Wei", true, "Wang Wei جبا"},
	}
	for _, c := range cases {
		rs := []rune(c.in)
		if got := rtlBase(rs); got != c.rtl {
			t.Errorf("rtlBase(%q) = %v", c.in, got)
		}
		if got := string(visual(rs, c.rtl)); got != c.want {
			t.Errorf("visual(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestReorderGurmukhi(t *testing.T) {
	cases := []struct{ in, want string }{
		{"ਸਿੰਘ", "ਿਸੰਘ"},
		// A subjoined consonant belongs to the cluster: the sign goes before all of it.
		{"ਪ੍ਰਿਯਾ", "ਿਪ੍ਰਯਾ"},
		// With nukta.
		{"ਜ਼ਿ", "ਿਜ਼"},
		{"ਹਰਪ੍ਰੀਤ", "ਹਰਪ੍ਰੀਤ"},
	}
	for _, c := range cases {
		if got := string(reorderGurmukhi([]rune(c.in))); got != c.want {
			t.Errorf("reorderGurmukhi(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPrepare(t *testing.T) {
	fs, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in, want string
		replaced bool
	}{
		// Decomposed Romanian ș (s + comma below) is composed; tabs and no-break spaces become spaces.
		{"S\u0326tefan\tIon\u00a0Popescu", "Ștefan Ion Popescu", false},
		// Bidi controls and soft hyphens are dropped: they draw nothing.
		{"\u202bابج\u202c Ma\u00adrio", "\uFE8D\uFE91\uFE9E Mario", false},
		{"王伟 (Wang Wei)", placeholderChinese + " (Wang Wei)", true},
		{"王 伟, Milano", placeholderChinese + ", Milano", true},
		{"山田 はなこ", placeholderJapanese, true},
		{"김민준", placeholderKorean, true},
		{"שלום", placeholderOther, true},
		{"grazie 🙏", "grazie " + placeholderOther, true},
	}
	for _, c := range cases {
		got, replaced := fs.prepare(c.in)
		if string(got) != c.want || replaced != c.replaced {
			t.Errorf("prepare(%q) = %q, %v; want %q, %v", c.in, string(got), replaced, c.want, c.replaced)
		}
	}
}

func TestWrap(t *testing.T) {
	width := func(rune) float64 { return 1 }
	cases := []struct {
		in   string
		maxW float64
		want []string
	}{
		{"uno due tre quattro", 7, []string{"uno due", "tre", "quattro"}},
		{"", 10, []string{""}},
		// A long file name breaks after a hyphen or underscore, else between characters.
		{"verbale-INPS_2024.pdf", 10, []string{"verbale-", "INPS_2024.", "pdf"}},
		{"abcdefghijkl", 5, []string{"abcde", "fghij", "kl"}},
		// A combining mark never starts a line: it stays on its letter's.
		{"abcde\u0301f", 5, []string{"abcde\u0301", "f"}},
	}
	for _, c := range cases {
		w := width
		if strings.ContainsRune(c.in, '\u0301') {
			w = func(r rune) float64 {
				if r == '\u0301' {
					return 0.5
				}
				return 1
			}
		}
		var got []string
		for _, l := range wrap([]rune(c.in), c.maxW, w) {
			got = append(got, string(l))
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("wrap(%q, %v) = %q, want %q", c.in, c.maxW, got, c.want)
		}
	}
}

func TestReceivedAt(t *testing.T) {
	cases := []struct {
		utc                    string
		day, clock, zoneSuffix string
	}{
		{"2026-03-12T08:15:42Z", "giovedì 12 marzo 2026", "09:15:42", "(UTC+01:00)"},
		{"2026-07-01T21:59:59Z", "mercoledì 1 luglio 2026", "23:59:59", "(UTC+02:00)"},
		{"2026-12-31T23:00:00Z", "venerdì 1 gennaio 2027", "00:00:00", "(UTC+01:00)"},
		// 25 October 2026: 02:30 happens twice in Rome; the offset tells them apart.
		{"2026-10-25T00:30:00Z", "domenica 25 ottobre 2026", "02:30:00", "(UTC+02:00)"},
		{"2026-10-25T01:30:00Z", "domenica 25 ottobre 2026", "02:30:00", "(UTC+01:00)"},
	}
	for _, c := range cases {
		tm, _ := time.Parse(time.RFC3339, c.utc)
		day, clock, zone := receivedAt(tm)
		if day != c.day || clock != c.clock || zone != "ora italiana "+c.zoneSuffix {
			t.Errorf("%s: %q %q %q", c.utc, day, clock, zone)
		}
	}
}

func TestFormatSize(t *testing.T) {
	cases := []struct {
		n           int64
		size, exact string
	}{
		{0, "0 byte", ""},
		{987, "987 byte", ""},
		{245312, "245,3 kB", "245.312 byte"},
		{999999, "1,0 MB", "999.999 byte"},
		{1843201, "1,8 MB", "1.843.201 byte"},
		{52428800, "52,4 MB", "52.428.800 byte"},
	}
	for _, c := range cases {
		if size, exact := formatSize(c.n); size != c.size || exact != c.exact {
			t.Errorf("formatSize(%d) = %q, %q", c.n, size, exact)
		}
	}
}

func TestHashLines(t *testing.T) {
	got := hashLines("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")
	want := []string{"e3b0c44298fc1c149afbf4c8996fb924", "27ae41e4649b934ca495991b7852b855"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("hashLines = %q", got)
	}
}

// An answer longer than a page continues on the next pages instead of being cut.
func TestRenderAnswerLongerThanAPage(t *testing.T) {
	r := fixture(t, "fna_b2")
	var b strings.Builder
	for i := 1; i <= 90; i++ {
		b.WriteString("Riga ")
		b.WriteString(strings.Repeat("x", i%7+1))
		b.WriteString(" della relazione sociale allegata in forma di testo.\n")
	}
	b.WriteString("FINE DELLA RELAZIONE")
	r.Sections = []Section{{Title: "Relazione", Rows: []Row{{Label: "Testo", Value: b.String()}}}}
	d := parsePDF(t, render(t, "long_answer", r))
	checkPages(t, d, r.Protocol)
	text := d.text()
	if n := strings.Count(text, "della relazione sociale allegata"); n != 90 {
		t.Errorf("%d of 90 lines drawn", n)
	}
	if !strings.Contains(text, "FINE DELLA RELAZIONE") {
		t.Error("end of the answer lost")
	}
	if !strings.Contains(text, "Relazione (segue)") || !strings.Contains(text, "Testo (segue)") {
		t.Error("continued section or answer not titled on the next page")
	}
	var buf bytes.Buffer
	if err := Render(r, &buf); err != nil || !bytes.Equal(buf.Bytes(), render(t, "long_answer", r)) {
		t.Error("not deterministic")
	}
}
