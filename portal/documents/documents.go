// Package documents checks and stores the files citizens upload with an application: it decides the type from the
// content (PDF, JPEG, PNG only), enforces the size limit, and keeps the bytes encrypted at rest behind a small
// Store interface. Who may download what is decided by the caller; this package only holds bytes by opaque key.
package documents

import (
	"context"
	"errors"
	"io"
)

// Default limits from the issue; the portal configuration may override them.
const (
	DefaultMaxFileBytes        int64 = 10 << 20 // per file
	DefaultMaxApplicationBytes int64 = 50 << 20 // all files of one application: the caller sums what is stored
)

// Message IDs returned by Check; the strings live in the i18n locale files.
const (
	MsgFileEmpty    = "form.error.file_empty"
	MsgFileTooLarge = "form.error.file_too_large"
	MsgFileType     = "form.error.file_type"
)

var (
	// ErrNotFound is returned by Get when no object has the key.
	ErrNotFound = errors.New("documents: not found")
	// ErrCorrupt is returned when a stored object fails authentication: it was altered, truncated, moved to another
	// key, or the encryption key is not the one it was written with.
	ErrCorrupt = errors.New("documents: stored file is damaged or was altered")
	// ErrInvalidKey is returned for object keys outside [a-z0-9-]{1,128}.
	ErrInvalidKey = errors.New("documents: invalid object key")
)

// Store keeps uploaded files by opaque key. Keys are chosen by the caller (for example a random ID recorded in
// PostgreSQL next to the owner); they are never built from user input.
type Store interface {
	// Put stores r under key, replacing any previous object; readers never see a half-written object.
	Put(ctx context.Context, key string, r io.Reader) error
	// Get returns the object's content; errors from Read mean the object is damaged (ErrCorrupt).
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

func validKey(key string) error {
	if len(key) == 0 || len(key) > 128 {
		return ErrInvalidKey
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return ErrInvalidKey
		}
	}
	return nil
}
