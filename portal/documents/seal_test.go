package documents

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/cryptotest"
)

// TestFormatIsPinned holds the stored format still, byte for byte: the hashes are of files written, with the same
// random source, by the FileStore before its sealing code was shared with S3Store. A change here makes every
// document already stored unreadable.
func TestFormatIsPinned(t *testing.T) {
	want := map[int]string{
		0:                   "9a5ec9907835c13cbc20b6ef1586fa95f5d1c3e9b9aab067a0db56cbabed0d8b",
		5:                   "8ad7d65762c204be026008700c5fc317f86d9c74cafe1d93fa9694b5c33819cb",
		segmentSize:         "5f07ad70688452a7b4778ea7bb01c3abc00424cbaa2b4513ffa331298592e4e5",
		2*segmentSize + 100: "2c8ed99a1b2c722ea528faeea17122ecb173eda9a16594af1d54d8d45d28de76",
	}
	for size, hash := range want {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			cryptotest.SetGlobalRandom(t, 42)
			s, dir := newStore(t)
			content := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
			if err := s.Put(context.Background(), "golden", bytes.NewReader(content)); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, "golden"))
			if err != nil {
				t.Fatal(err)
			}
			if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != hash {
				t.Errorf("stored bytes changed: sha256 %x", got)
			}
			if got, err := readAll(s, "golden"); err != nil || !bytes.Equal(got, content) {
				t.Errorf("read back: %v", err)
			}
		})
	}
}

// The sealer gives the same bytes whether read in small pieces or copied whole (WriteTo).
func TestSealerReadEqualsWriteTo(t *testing.T) {
	key, _ := ParseKey(testKeyHex)
	content := bytes.Repeat([]byte("x"), 3*segmentSize+7)
	seal := func() []byte {
		cryptotest.SetGlobalRandom(t, 7)
		s, err := newSealer(context.Background(), key, "k", bytes.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		return s.readAllSmall(t)
	}
	small := seal()
	cryptotest.SetGlobalRandom(t, 7)
	s, _ := newSealer(context.Background(), key, "k", bytes.NewReader(content))
	var whole bytes.Buffer
	if _, err := io.Copy(&whole, s); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(small, whole.Bytes()) {
		t.Error("Read and WriteTo differ")
	}
	if want := headerSize + len(content) + 4*tagSize; len(small) != want {
		t.Errorf("sealed %d bytes, want %d", len(small), want)
	}
}

func (s *sealer) readAllSmall(t *testing.T) []byte {
	var out []byte
	buf := make([]byte, 1000)
	for {
		n, err := s.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
