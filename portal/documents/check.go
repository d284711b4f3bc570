package documents

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
)

// sniffBytes is how much of the head mimetype looks at (its default limit).
const sniffBytes = 3072

// allowed maps the accepted content types to the extension a download gets.
var allowed = map[string]string{
	"application/pdf": ".pdf",
	"image/jpeg":      ".jpg",
	"image/png":       ".png",
}

// Checked is an accepted upload, spooled to a temporary file until the caller stores it. Call Close when done.
type Checked struct {
	ContentType string // sniffed from the content, never taken from the name or the browser
	Size        int64
	SHA256      [sha256.Size]byte

	// The spool is encrypted with a key that lives only in this value, so a crash never leaves a readable
	// certificate in the temporary directory.
	spool *os.File
	block cipher.Block
	iv    []byte
}

// Open returns a reader over the content from the start; each call gives an independent reader.
func (c Checked) Open() io.Reader {
	return cipher.StreamReader{S: cipher.NewCTR(c.block, c.iv), R: io.NewSectionReader(c.spool, 0, c.Size)}
}

// Close removes the temporary spool.
func (c Checked) Close() error {
	if c.spool == nil {
		return nil
	}
	err := c.spool.Close()
	if rmErr := os.Remove(c.spool.Name()); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
		err = errors.Join(err, rmErr)
	}
	return err
}

// Check reads an upload of at most maxBytes and decides whether to accept it. A rejected upload gives a message ID
// (MsgFileEmpty, MsgFileType, MsgFileTooLarge, checked in that order) and no error; err is only for failures that
// are not the user's (reading the request, the temporary file). It never reads more than maxBytes+1 bytes from r
// and never holds more than a sniffing head and a copy buffer in memory. On acceptance the caller must Close the
// result.
func Check(r io.Reader, maxBytes int64) (Checked, string, error) {
	if maxBytes <= 0 {
		return Checked{}, "", fmt.Errorf("documents: maxBytes must be positive, got %d", maxBytes)
	}
	lr := io.LimitReader(r, maxBytes+1)
	head := make([]byte, min(sniffBytes, maxBytes+1))
	n, err := io.ReadFull(lr, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return Checked{}, "", fmt.Errorf("documents: read upload: %w", err)
	}
	head = head[:n]
	if n == 0 {
		return Checked{}, MsgFileEmpty, nil
	}
	contentType := sniff(head)
	if contentType == "" {
		return Checked{}, MsgFileType, nil
	}

	c, err := newSpool()
	if err != nil {
		return Checked{}, "", err
	}
	h := sha256.New()
	w := io.MultiWriter(h, cipher.StreamWriter{S: cipher.NewCTR(c.block, c.iv), W: c.spool})
	size, err := io.Copy(w, io.MultiReader(bytes.NewReader(head), lr))
	if err != nil {
		c.Close()
		return Checked{}, "", fmt.Errorf("documents: spool upload: %w", err)
	}
	if size > maxBytes {
		c.Close()
		return Checked{}, MsgFileTooLarge, nil
	}
	c.ContentType, c.Size = contentType, size
	h.Sum(c.SHA256[:0])
	return c, "", nil
}

// sniff returns the accepted content type the head belongs to, or "". Walking up the parents accepts the
// variants mimetype tells apart (an animated PNG is still a PNG) and stores them under the plain type.
func sniff(head []byte) string {
	for m := mimetype.Detect(head); m != nil; m = m.Parent() {
		for t := range allowed {
			if m.Is(t) {
				return t
			}
		}
	}
	return ""
}

func newSpool() (Checked, error) {
	key := make([]byte, 32)
	iv := make([]byte, aes.BlockSize)
	rand.Read(key)
	rand.Read(iv)
	block, err := aes.NewCipher(key)
	if err != nil {
		return Checked{}, fmt.Errorf("documents: spool cipher: %w", err)
	}
	f, err := os.CreateTemp("", "csc-upload-*")
	if err != nil {
		return Checked{}, fmt.Errorf("documents: create spool: %w", err)
	}
	return Checked{spool: f, block: block, iv: iv}, nil
}

// maxNameRunes caps display names: long enough for "Attestazione ISEE 2026 - Rossi Maria.pdf", short enough
// for a table cell and a header.
const maxNameRunes = 100

// CleanName turns the name the browser sent into one safe to display and to offer as a download name: no
// directories, no control or bidirectional-override characters (which can disguise "fdp.exe" as "exe.pdf"), no
// characters file systems refuse, whitespace collapsed, at most maxNameRunes runes with the extension kept.
// Letters and marks of every script stay. An empty result becomes "documento".
func CleanName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	space := false
	for _, r := range name {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) || r == utf8.RuneError:
			continue
		case strings.ContainsRune(`:*?"<>|`, r):
			r = '_'
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	// Leading dots hide files on Unix; trailing dots and spaces are dropped by Windows.
	name = strings.Trim(b.String(), ". ")
	if name == "" {
		return "documento"
	}
	if utf8.RuneCountInString(name) > maxNameRunes {
		ext := filepath.Ext(name)
		if utf8.RuneCountInString(ext) > 10 {
			ext = ""
		}
		stem := []rune(strings.TrimSuffix(name, ext))
		name = strings.TrimRight(string(stem[:maxNameRunes-utf8.RuneCountInString(ext)]), ". ") + ext
	}
	return name
}

// ContentDisposition returns the header value for downloading a stored file as an attachment. The extension is
// made to match the stored type, so a PDF uploaded as "scan.jpg" downloads as "scan.pdf" and opens.
// Non-ASCII names are encoded as RFC 2231 asks.
func ContentDisposition(name, contentType string) string {
	name = CleanName(name)
	if want, ok := allowed[contentType]; ok {
		ext := strings.ToLower(filepath.Ext(name))
		if ext != want && !(want == ".jpg" && ext == ".jpeg") {
			if extTypes[ext] {
				name = strings.TrimSuffix(name, filepath.Ext(name))
			}
			name += want
		}
	}
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": name}); v != "" {
		return v
	}
	return "attachment"
}

// extTypes are the extensions replaced (rather than kept) when they do not match the content.
var extTypes = map[string]bool{".pdf": true, ".jpg": true, ".jpeg": true, ".png": true}
