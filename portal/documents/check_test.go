package documents

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// minimalPDF is a complete one-page PDF, the kind a scanner app produces, cut down to the bones.
const minimalPDF = "%PDF-1.4\n" +
	"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
	"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n" +
	"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n" +
	"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n0000000115 00000 n \n" +
	"trailer << /Size 4 /Root 1 0 R >>\nstartxref\n186\n%%EOF\n"

func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{R: 200, A: 255})
	}
	return img
}

func pngBytes(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, testImage()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t *testing.T) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zipBytes(t *testing.T) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create("ISEE.pdf")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, minimalPDF)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// elfBytes is the start of a 64-bit Linux executable: what a "documento.pdf" that is really a program begins with.
func elfBytes() []byte {
	b := make([]byte, 128)
	copy(b, "\x7fELF\x02\x01\x01\x00")
	b[16], b[18] = 2, 0x3e // ET_EXEC, x86-64
	return b
}

// peBytes is the start of a Windows executable (MZ stub pointing at a PE header).
func peBytes() []byte {
	b := make([]byte, 256)
	copy(b, "MZ")
	b[0x3c] = 0x80
	copy(b[0x80:], "PE\x00\x00\x4c\x01")
	return b
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string // what the user would have called the file
		content  []byte
		max      int64
		wantType string
		wantMsg  string
	}{
		{"ISEE.pdf", []byte(minimalPDF), DefaultMaxFileBytes, "application/pdf", ""},
		{"foto.png", pngBytes(t), DefaultMaxFileBytes, "image/png", ""},
		{"carta-identita.jpg", jpegBytes(t), DefaultMaxFileBytes, "image/jpeg", ""},
		{"scan.jpg (really a PDF)", []byte(minimalPDF), DefaultMaxFileBytes, "application/pdf", ""},
		{"exactly at the limit", []byte(minimalPDF), int64(len(minimalPDF)), "application/pdf", ""},
		{"programma.pdf (ELF)", elfBytes(), DefaultMaxFileBytes, "", MsgFileType},
		{"programma.pdf (PE)", peBytes(), DefaultMaxFileBytes, "", MsgFileType},
		{"archivio.pdf (ZIP)", zipBytes(t), DefaultMaxFileBytes, "", MsgFileType},
		{"note.pdf (plain text)", []byte("Dichiaro che...\n"), DefaultMaxFileBytes, "", MsgFileType},
		{"vuoto.pdf", nil, DefaultMaxFileBytes, "", MsgFileEmpty},
		{"one byte over", []byte(minimalPDF), int64(len(minimalPDF)) - 1, "", MsgFileTooLarge},
		{"oversize, head shorter than sniff", bytes.Repeat([]byte("%PDF-1.4\n"), 100), 64, "", MsgFileTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, msg, err := Check(bytes.NewReader(tt.content), tt.max)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if msg != tt.wantMsg || c.ContentType != tt.wantType {
				t.Fatalf("got (%q, %q), want (%q, %q)", c.ContentType, msg, tt.wantType, tt.wantMsg)
			}
			if msg != "" {
				return
			}
			if c.Size != int64(len(tt.content)) || c.SHA256 != sha256.Sum256(tt.content) {
				t.Errorf("size %d sha %x, want %d %x", c.Size, c.SHA256, len(tt.content), sha256.Sum256(tt.content))
			}
			for range 2 { // Open can be called again, for the scanner and then the store
				got, err := io.ReadAll(c.Open())
				if err != nil || !bytes.Equal(got, tt.content) {
					t.Fatalf("Open: %v, content differs: %v", err, !bytes.Equal(got, tt.content))
				}
			}
		})
	}
}

// endless is an upload that never ends, counting what was taken from it.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "%PDF-1.7 "[(e.read+int64(i))%9]
	}
	e.read += int64(len(p))
	return len(p), nil
}

func TestCheckReadsAtMostMaxPlusOne(t *testing.T) {
	src := &endless{}
	const max = 1 << 20
	_, msg, err := Check(src, max)
	if err != nil || msg != MsgFileTooLarge {
		t.Fatalf("got %q %v, want %q", msg, err, MsgFileTooLarge)
	}
	if src.read > max+1 {
		t.Errorf("read %d bytes from a %d-byte limit", src.read, max)
	}
}

func TestCheckReadError(t *testing.T) {
	r := io.MultiReader(strings.NewReader(minimalPDF), errReader{})
	if _, msg, err := Check(r, DefaultMaxFileBytes); err == nil || msg != "" {
		t.Fatalf("a broken connection must be an error, not a message: %q %v", msg, err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestCheckSpoolIsEncryptedAndRemoved(t *testing.T) {
	content := []byte(minimalPDF + strings.Repeat("% RSSMRA80A01D142X certificato di invalidità\n", 200))
	c, msg, err := Check(bytes.NewReader(content), DefaultMaxFileBytes)
	if err != nil || msg != "" {
		t.Fatal(msg, err)
	}
	raw, err := os.ReadFile(c.spool.Name())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("RSSMRA80A01D142X")) || bytes.Contains(raw, []byte("%PDF")) {
		t.Error("the temporary spool holds the upload in clear")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.spool.Name()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("spool left behind: %v", err)
	}
}

func TestCleanName(t *testing.T) {
	long := strings.Repeat("à", 300) + ".pdf"
	tests := []struct{ in, want string }{
		{"ISEE 2026.pdf", "ISEE 2026.pdf"},
		{`C:\Users\Maria\Desktop\ISEE 2026.pdf`, "ISEE 2026.pdf"},
		{"../../etc/passwd", "passwd"},
		{"a\x00b\x1b[31m.pdf", "ab[31m.pdf"},
		{"contratto\n\taffitto   2026.pdf", "contratto affitto 2026.pdf"},
		{"fattura\u202Efdp.exe", "fatturafdp.exe"}, // right-to-left override would show "fatturaexe.pdf"
		{"\u200bzero\ufeffwidth.png", "zerowidth.png"},
		{"هوية.pdf", "هوية.pdf"},
		{"ਪਛਾਣ ਪੱਤਰ.jpg", "ਪਛਾਣ ਪੱਤਰ.jpg"},
		{"身份证.png", "身份证.png"},
		{"Посвідчення.pdf", "Посвідчення.pdf"},
		{`a"b<c>|d?.pdf`, "a_b_c__d_.pdf"},
		{".hidden.pdf", "hidden.pdf"},
		{"name.pdf. . ", "name.pdf"},
		{"bad\xffutf8.pdf", "badutf8.pdf"},
		{"", "documento"},
		{"   ", "documento"},
		{"/", "documento"},
		{"../..", "documento"},
		{long, strings.Repeat("à", maxNameRunes-4) + ".pdf"},
	}
	for _, tt := range tests {
		if got := CleanName(tt.in); got != tt.want {
			t.Errorf("CleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := CleanName(tt.in); utf8.RuneCountInString(got) > maxNameRunes || !utf8.ValidString(got) {
			t.Errorf("CleanName(%q) = %q: too long or invalid", tt.in, got)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	tests := []struct{ name, contentType, want string }{
		{"ISEE.pdf", "application/pdf", `attachment; filename=ISEE.pdf`},
		{"scan.jpg", "application/pdf", `attachment; filename=scan.pdf`}, // the content decides
		{"foto.JPEG", "image/jpeg", `attachment; filename=foto.JPEG`},
		{"foto", "image/png", `attachment; filename=foto.png`},
		{"nota.txt", "application/pdf", `attachment; filename=nota.txt.pdf`},
		{"ISEE 2026.pdf", "application/pdf", `attachment; filename="ISEE 2026.pdf"`},
		{`x";y=.pdf`, "application/pdf", `attachment; filename="x_;y=.pdf"`},
		{"hdr\r\nSet-Cookie: a=b.pdf", "application/pdf", `attachment; filename="hdr Set-Cookie_ a=b.pdf"`},
		{"هوية.pdf", "application/pdf", `attachment; filename*=utf-8''%D9%87%D9%88%D9%8A%D8%A9.pdf`},
	}
	for _, tt := range tests {
		if got := ContentDisposition(tt.name, tt.contentType); got != tt.want {
			t.Errorf("ContentDisposition(%q, %q) = %s, want %s", tt.name, tt.contentType, got, tt.want)
		}
	}
}
