package documents

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"

	"github.com/comunitasocialecremasca/smartservices/portal/config"
)

// Open returns the store the configuration names. Without DOCUMENTS_KEY the at-rest key is derived from the session
// secret, so a development setup needs one secret only (the README warns about rotation).
func Open(ctx context.Context, c config.Documents, sessionSecret []byte) (Store, error) {
	key := c.Key
	if key == nil {
		k, err := hkdf.Key(sha256.New, sessionSecret, nil, "csc-documents key from SESSION_SECRET", 32)
		if err != nil {
			return nil, fmt.Errorf("documents: derive key: %w", err)
		}
		key = k
	}
	switch c.Store {
	case "", "file":
		return NewFileStore(c.Dir, key)
	case "s3":
		return NewS3Store(ctx, c, key)
	}
	return nil, fmt.Errorf("documents: store %q not available", c.Store)
}
