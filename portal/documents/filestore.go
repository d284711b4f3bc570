package documents

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// On-disk format, version 1 (all integers big-endian):
//
//	header   magic "CSCDOC\x00\x01" (8) | segment size uint32 (4) | salt (32 random bytes)
//	segments AES-256-GCM(plaintext segment) || tag (16), every segment full except the last, which may be short
//	         or empty; a file always has at least one segment
//
// Each file is sealed with its own key, HKDF-SHA256(master key, salt, "csc-documents v1"), so nonces only need to
// be unique within the file: the nonce is the segment number (4 zero bytes, uint64 counter). The additional data of
// every segment is the header, the object key and a last-segment flag (1 on the last segment, else 0); so reordering,
// dropping or appending segments, cutting the file at a segment boundary, or moving it to another key all fail
// authentication, and plaintext is only ever released one authenticated segment at a time.
const (
	segmentSize = 64 << 10
	tagSize     = 16
	headerSize  = 8 + 4 + 32
	formatMagic = "CSCDOC\x00\x01"
	hkdfInfo    = "csc-documents v1"
)

// ParseKey decodes the at-rest encryption key from configuration: 64 hexadecimal characters (32 bytes), for
// example from `openssl rand -hex 32`. Errors never repeat the value, which is a secret.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) != 64 {
		return nil, fmt.Errorf("documents: encryption key must be 64 hexadecimal characters (32 bytes), got %d characters", len(s))
	}
	key, err := hex.DecodeString(s)
	if err != nil {
		return nil, errors.New("documents: encryption key must be 64 hexadecimal characters (0-9, a-f)")
	}
	if bytes.Equal(key, make([]byte, 32)) {
		return nil, errors.New("documents: encryption key is all zeros: generate a real one (openssl rand -hex 32)")
	}
	return key, nil
}

// FileStore keeps objects as encrypted files in one directory that only the portal's user can enter. Put that
// directory outside anything a web server serves; the portal serves files only through its own checked handler.
type FileStore struct {
	dir string
	key []byte
}

// NewFileStore opens (creating it if missing, mode 0700) the directory dir. It refuses a directory other users
// can read or enter, and a key that is not 32 bytes.
func NewFileStore(dir string, key []byte) (*FileStore, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("documents: encryption key must be 32 bytes, got %d", len(key))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("documents: create store directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("documents: store directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("documents: store path %s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("documents: store directory %s is open to other users (mode %04o): chmod 700 it", dir, fi.Mode().Perm())
	}
	return &FileStore{dir: dir, key: bytes.Clone(key)}, nil
}

var _ Store = (*FileStore)(nil)

func (s *FileStore) aead(header []byte) (cipher.AEAD, error) {
	fileKey, err := hkdf.Key(sha256.New, s.key, header[12:headerSize], hkdfInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(fileKey)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func nonce(seg uint64) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n[4:], seg)
	return n
}

// additionalData returns header || key || flag; the caller sets the last byte per segment.
func additionalData(header []byte, key string) []byte {
	ad := make([]byte, 0, len(header)+len(key)+1)
	ad = append(append(append(ad, header...), key...), 0)
	return ad
}

func flag(last bool) byte {
	if last {
		return 1
	}
	return 0
}

// Put encrypts r into a temporary file in the store directory and renames it over key, so a crash or an error
// leaves either the old object or the new one, never a mix.
func (s *FileStore) Put(ctx context.Context, key string, r io.Reader) (err error) {
	if err := validKey(key); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, ".put-*") // the dot keeps temporaries out of the key space
	if err != nil {
		return fmt.Errorf("documents: put %s: %w", key, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	header := make([]byte, headerSize)
	copy(header, formatMagic)
	binary.BigEndian.PutUint32(header[8:], segmentSize)
	rand.Read(header[12:])
	aead, err := s.aead(header)
	if err != nil {
		return fmt.Errorf("documents: put %s: %w", key, err)
	}
	ad := additionalData(header, key)
	if _, err := tmp.Write(header); err != nil {
		return fmt.Errorf("documents: put %s: %w", key, err)
	}

	br := bufio.NewReader(r)
	plain := make([]byte, segmentSize)
	sealed := make([]byte, 0, segmentSize+tagSize)
	for seg := uint64(0); ; seg++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("documents: put %s: %w", key, err)
		}
		n, rerr := io.ReadFull(br, plain)
		last := false
		switch {
		case rerr == io.EOF || rerr == io.ErrUnexpectedEOF:
			last = true
		case rerr != nil:
			return fmt.Errorf("documents: put %s: read: %w", key, rerr)
		default: // a full segment: it is the last one only if nothing follows
			if _, perr := br.Peek(1); perr == io.EOF {
				last = true
			} else if perr != nil {
				return fmt.Errorf("documents: put %s: read: %w", key, perr)
			}
		}
		ad[len(ad)-1] = flag(last)
		sealed = aead.Seal(sealed[:0], nonce(seg), plain[:n], ad)
		if _, err := tmp.Write(sealed); err != nil {
			return fmt.Errorf("documents: put %s: %w", key, err)
		}
		if last {
			break
		}
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("documents: put %s: sync: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("documents: put %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.dir, key)); err != nil {
		return fmt.Errorf("documents: put %s: %w", key, err)
	}
	// Make the rename itself durable before the caller records the object in PostgreSQL.
	if d, derr := os.Open(s.dir); derr == nil {
		derr = d.Sync()
		d.Close()
		if derr != nil {
			return fmt.Errorf("documents: put %s: sync directory: %w", key, derr)
		}
	}
	return nil
}

// Get opens key and authenticates its first segment before returning, so a wrong key or a swapped file fails
// here, before a handler has sent any header. Later damage surfaces as ErrCorrupt from Read.
func (s *FileStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(s.dir, key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("documents: get %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("documents: get %s: %w", key, err)
	}
	r, err := s.newReader(f, key)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("documents: get %s: %w", key, err)
	}
	return r, nil
}

func (s *FileStore) newReader(f *os.File, key string) (*reader, error) {
	br := bufio.NewReaderSize(f, segmentSize+tagSize+1)
	header := make([]byte, headerSize)
	if _, err := io.ReadFull(br, header); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, ErrCorrupt
		}
		return nil, err
	}
	if string(header[:8]) != formatMagic || binary.BigEndian.Uint32(header[8:]) != segmentSize {
		return nil, ErrCorrupt
	}
	aead, err := s.aead(header)
	if err != nil {
		return nil, err
	}
	r := &reader{f: f, br: br, aead: aead, ad: additionalData(header, key), sealed: make([]byte, segmentSize+tagSize)}
	if err := r.next(); err != nil {
		return nil, err
	}
	return r, nil
}

// reader decrypts one segment at a time: memory stays at two segments whatever the file size.
type reader struct {
	f      *os.File
	br     *bufio.Reader
	aead   cipher.AEAD
	ad     []byte
	sealed []byte
	plain  []byte
	pos    int
	seg    uint64
	done   bool // the last segment has been decrypted
	err    error
}

func (r *reader) next() error {
	n, err := io.ReadFull(r.br, r.sealed)
	last := false
	switch {
	case err == io.EOF: // the previous segment said more follows
		return ErrCorrupt
	case err == io.ErrUnexpectedEOF:
		last = true
	case err != nil:
		return err
	default:
		if _, perr := r.br.Peek(1); perr == io.EOF {
			last = true
		} else if perr != nil {
			return perr
		}
	}
	r.ad[len(r.ad)-1] = flag(last)
	plain, err := r.aead.Open(r.plain[:0], nonce(r.seg), r.sealed[:n], r.ad)
	if err != nil {
		return ErrCorrupt
	}
	r.plain, r.pos, r.done = plain, 0, last
	r.seg++
	return nil
}

func (r *reader) Read(p []byte) (int, error) {
	for r.pos == len(r.plain) {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		if r.err = r.next(); r.err != nil {
			return 0, r.err
		}
	}
	n := copy(p, r.plain[r.pos:])
	r.pos += n
	return n, nil
}

func (r *reader) Close() error { return r.f.Close() }

// Delete removes key; a missing key is not an error, so a retried cleanup succeeds.
func (s *FileStore) Delete(ctx context.Context, key string) error {
	if err := validKey(key); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.dir, key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("documents: delete %s: %w", key, err)
	}
	return nil
}
