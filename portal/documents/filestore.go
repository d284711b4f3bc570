package documents

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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

	sealed, err := newSealer(ctx, s.key, key, r)
	if err != nil {
		return fmt.Errorf("documents: put %s: %w", key, err)
	}
	if _, err := io.Copy(tmp, sealed); err != nil {
		return fmt.Errorf("documents: put %s: %w", key, err)
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
	r, err := newReader(s.key, key, f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("documents: get %s: %w", key, err)
	}
	return r, nil
}

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
