package documents

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const testKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func newStore(t *testing.T) (*FileStore, string) {
	t.Helper()
	key, err := ParseKey(testKeyHex)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "documents")
	s, err := NewFileStore(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func readAll(s Store, key string) ([]byte, error) {
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func TestParseKey(t *testing.T) {
	if k, err := ParseKey("  " + strings.ToUpper(testKeyHex) + "\n"); err != nil || len(k) != 32 || k[31] != 0x1f {
		t.Fatalf("valid key: %x %v", k, err)
	}
	bad := []string{"", "abc", testKeyHex[:63], testKeyHex + "00", "g" + testKeyHex[1:], strings.Repeat("0", 64),
		"ZmFrZS1iYXNlNjQta2V5LXRoYXQtaXMtMzItYnl0ZXMtbG9uZyE="}
	for _, in := range bad {
		_, err := ParseKey(in)
		if err == nil {
			t.Errorf("ParseKey(%q) accepted", in)
			continue
		}
		if in != "" && strings.Contains(err.Error(), in) {
			t.Errorf("error repeats the secret: %v", err)
		}
		if !strings.Contains(err.Error(), "64 hexadecimal") && !strings.Contains(err.Error(), "all zeros") {
			t.Errorf("unclear error for %q: %v", in, err)
		}
	}
}

func TestNewFileStore(t *testing.T) {
	key, _ := ParseKey(testKeyHex)
	if _, err := NewFileStore(t.TempDir(), key[:16]); err == nil {
		t.Error("a 16-byte key was accepted")
	}
	open := t.TempDir()
	os.Chmod(open, 0o755)
	if _, err := NewFileStore(open, key); err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Errorf("a directory others can read was accepted: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "a", "b")
	if _, err := NewFileStore(dir, key); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("created directory: %v %v", fi.Mode(), err)
	}
}

func TestRoundTrip(t *testing.T) {
	s, dir := newStore(t)
	ctx := context.Background()
	sizes := []int{0, 1, segmentSize - 1, segmentSize, segmentSize + 1, 2 * segmentSize, 10 << 20}
	for _, size := range sizes {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			want := make([]byte, size)
			rand.Read(want)
			key := fmt.Sprintf("doc-%d", size)
			if err := s.Put(ctx, key, bytes.NewReader(want)); err != nil {
				t.Fatal(err)
			}
			got, err := readAll(s, key)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("read back %d bytes (want %d): %v", len(got), size, err)
			}
			fi, err := os.Stat(filepath.Join(dir, key))
			if err != nil {
				t.Fatal(err)
			}
			segments := max(1, (size+segmentSize-1)/segmentSize)
			if size > 0 && size%segmentSize == 0 {
				segments = size / segmentSize // a full last segment needs no empty one after it
			}
			if wantSize := int64(headerSize + size + segments*tagSize); fi.Size() != wantSize {
				t.Errorf("file is %d bytes, format says %d", fi.Size(), wantSize)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
			}
		})
	}
}

func TestStoredFileIsNotClear(t *testing.T) {
	s, dir := newStore(t)
	secret := []byte(strings.Repeat("RSSMRA80A01D142X invalidità 100% ", 5000))
	if err := s.Put(context.Background(), "clear", bytes.NewReader(secret)); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "clear"))
	if bytes.Contains(raw, []byte("RSSMRA80A01D142X")) {
		t.Error("plaintext on disk")
	}
}

// TestTamper alters a stored two-and-a-bit-segment file in every way we can think of; each must fail, at Get or
// at the latest at the end of reading, and never return altered bytes as if they were good.
func TestTamper(t *testing.T) {
	content := make([]byte, 2*segmentSize+100)
	rand.Read(content)
	const total = headerSize + 2*segmentSize + 100 + 3*tagSize
	seg1 := headerSize + segmentSize + tagSize // offset of the second segment

	tests := []struct {
		name   string
		change func(b []byte) []byte
	}{
		{"flip magic", func(b []byte) []byte { b[0] ^= 1; return b }},
		{"flip segment size", func(b []byte) []byte { b[10] ^= 1; return b }},
		{"flip salt", func(b []byte) []byte { b[20] ^= 1; return b }},
		{"flip first segment", func(b []byte) []byte { b[headerSize+5] ^= 0x80; return b }},
		{"flip second segment tag", func(b []byte) []byte { b[seg1+segmentSize+3] ^= 1; return b }},
		{"flip last byte", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }},
		{"truncate to nothing", func(b []byte) []byte { return b[:0] }},
		{"truncate inside header", func(b []byte) []byte { return b[:headerSize-1] }},
		{"header only", func(b []byte) []byte { return b[:headerSize] }},
		{"drop last segment (cut at boundary)", func(b []byte) []byte { return b[:2*seg1-headerSize] }},
		{"drop last two segments (cut at boundary)", func(b []byte) []byte { return b[:seg1] }},
		{"drop last byte", func(b []byte) []byte { return b[:len(b)-1] }},
		{"append a byte", func(b []byte) []byte { return append(b, 0) }},
		{"swap segments", func(b []byte) []byte {
			out := append([]byte{}, b[:headerSize]...)
			out = append(out, b[seg1:2*seg1-headerSize]...)
			out = append(out, b[headerSize:seg1]...)
			return append(out, b[2*seg1-headerSize:]...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, dir := newStore(t)
			if err := s.Put(context.Background(), "doc", bytes.NewReader(content)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "doc")
			b, _ := os.ReadFile(path)
			if len(b) != total {
				t.Fatalf("stored %d bytes, want %d", len(b), total)
			}
			if err := os.WriteFile(path, tt.change(b), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := readAll(s, "doc")
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
			if !bytes.Equal(got, content[:len(got)]) {
				t.Error("altered bytes were returned before the error")
			}
		})
	}
}

func TestWrongKeyAndMovedFile(t *testing.T) {
	s, dir := newStore(t)
	ctx := context.Background()
	s.Put(ctx, "mine", strings.NewReader(minimalPDF))
	s.Put(ctx, "yours", strings.NewReader("other"))

	// Someone with file-system access swaps one citizen's document for another's.
	b, _ := os.ReadFile(filepath.Join(dir, "mine"))
	os.WriteFile(filepath.Join(dir, "yours"), b, 0o600)
	if _, err := s.Get(ctx, "yours"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("moved file: got %v, want ErrCorrupt at Get", err)
	}

	other := make([]byte, 32)
	rand.Read(other)
	s2, err := NewFileStore(dir, other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Get(ctx, "mine"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("wrong key: got %v, want ErrCorrupt at Get", err)
	}
}

func TestNotFoundAndDelete(t *testing.T) {
	s, dir := newStore(t)
	ctx := context.Background()
	if _, err := s.Get(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get missing: %v", err)
	}
	if err := s.Delete(ctx, "missing"); err != nil {
		t.Errorf("Delete missing: %v", err)
	}
	s.Put(ctx, "doc", strings.NewReader("x"))
	if err := s.Delete(ctx, "doc"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "doc"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left in the directory: %v", entries)
	}
}

func TestInvalidKeys(t *testing.T) {
	s, dir := newStore(t)
	ctx := context.Background()
	outside := filepath.Join(filepath.Dir(dir), "outside")
	os.WriteFile(outside, []byte("keep me"), 0o600)
	for _, key := range []string{"", "..", "../outside", "a/b", `a\b`, "/etc/passwd", ".put-x", "A", "a.b", "a b",
		"%2e%2e", "a\x00", "é", strings.Repeat("a", 129)} {
		if err := s.Put(ctx, key, strings.NewReader("x")); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Put(%q): %v", key, err)
		}
		if _, err := s.Get(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Get(%q): %v", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Delete(%q): %v", key, err)
		}
	}
	if b, err := os.ReadFile(outside); err != nil || string(b) != "keep me" {
		t.Errorf("file outside the store touched: %q %v", b, err)
	}
	if err := s.Put(ctx, "0b6f-2026-"+strings.Repeat("a", 118), strings.NewReader("x")); err != nil {
		t.Errorf("a 128-character key was refused: %v", err)
	}
}

// checkPutFailureKeepsOld stores "old" under "doc", then fails one Put with a broken reader and one with a
// cancelled context: "old" must still be there, whatever the store.
func checkPutFailureKeepsOld(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	s.Put(ctx, "doc", strings.NewReader("old"))
	broken := io.MultiReader(bytes.NewReader(make([]byte, 3*segmentSize)), errReader{})
	if err := s.Put(ctx, "doc", broken); err == nil {
		t.Error("a broken reader was stored")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Put(cancelled, "doc", strings.NewReader("new")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Put: %v", err)
	}
	if got, err := readAll(s, "doc"); err != nil || string(got) != "old" {
		t.Errorf("old object: %q %v", got, err)
	}
}

// A failed or cancelled Put leaves the previous object and no temporary file.
func TestPutFailureKeepsOld(t *testing.T) {
	s, dir := newStore(t)
	ctx := context.Background()
	checkPutFailureKeepsOld(t, s)
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	s.Put(ctx, "doc", strings.NewReader("new"))
	if got, _ := readAll(s, "doc"); string(got) != "new" {
		t.Errorf("Put did not replace: %q", got)
	}
}

// The path an upload takes: checked, then stored from the spool, then served back unchanged.
func TestCheckThenStore(t *testing.T) {
	s, _ := newStore(t)
	img := pngBytes(t)
	c, msg, err := Check(bytes.NewReader(img), DefaultMaxFileBytes)
	if err != nil || msg != "" {
		t.Fatal(msg, err)
	}
	defer c.Close()
	if err := s.Put(context.Background(), "upload-1", c.Open()); err != nil {
		t.Fatal(err)
	}
	if got, err := readAll(s, "upload-1"); err != nil || !bytes.Equal(got, img) {
		t.Fatalf("stored upload differs: %v", err)
	}
}

func TestConcurrentPutGet(t *testing.T) {
	s, dir := newStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := range 16 {
		wg.Go(func() {
			for i := range 5 {
				key := fmt.Sprintf("g%d-%d", g, i)
				want := make([]byte, (g*7919+i*104729)%(3*segmentSize))
				rand.Read(want)
				if err := s.Put(ctx, key, bytes.NewReader(want)); err != nil {
					errs <- err
					return
				}
				got, err := readAll(s, key)
				if err != nil || !bytes.Equal(got, want) {
					errs <- fmt.Errorf("%s: %v, equal=%v", key, err, bytes.Equal(got, want))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 16*5 {
		t.Errorf("%d files, want %d", len(entries), 16*5)
	}
}
