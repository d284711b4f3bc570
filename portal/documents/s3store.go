package documents

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/comunitasocialecremasca/smartservices/portal/config"
)

// s3PartSize is the largest sealed object sent in one PUT, and the part size of larger ones. Uploads are 10 MB by
// default, so in practice every object goes in one request.
const s3PartSize = 16 << 20

// S3Store keeps objects in one bucket of an S3-compatible service, so several portal nodes share them. Objects
// are sealed exactly as FileStore seals its files (seal.go): the service only ever holds ciphertext, and an object
// moved to another key or altered there fails authentication (ErrCorrupt).
//
// The credentials need s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket on the bucket: without
// ListBucket, S3 answers "access denied" instead of "no such key" for a missing object. Use a bucket without
// versioning (or with a lifecycle rule expiring noncurrent versions), or Delete leaves old versions behind.
type S3Store struct {
	client   *minio.Client
	bucket   string
	key      []byte
	partSize int64
}

var _ Store = (*S3Store)(nil)

// NewS3Store connects to c.S3Bucket at c.S3Endpoint (https://host[:port], or http:// on this machine) and checks
// that the bucket exists, so a wrong name or credential fails at start rather than at the first upload.
func NewS3Store(ctx context.Context, c config.Documents, key []byte) (*S3Store, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("documents: encryption key must be 32 bytes, got %d", len(key))
	}
	u, err := url.Parse(c.S3Endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("documents: S3 endpoint %q must be https://host[:port]", c.S3Endpoint)
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(c.S3AccessKey, c.S3SecretKey, ""),
		Secure: u.Scheme == "https",
		Region: c.S3Region,
		// A citizen is waiting on the upload: a few retries ride out a hiccup, more only delay the error page.
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("documents: S3 client: %w", err)
	}
	ok, err := client.BucketExists(ctx, c.S3Bucket)
	if err != nil {
		return nil, fmt.Errorf("documents: S3 bucket %s at %s: %w", c.S3Bucket, u.Host, err)
	}
	if !ok {
		return nil, fmt.Errorf("documents: S3 bucket %s does not exist at %s: create it first", c.S3Bucket, u.Host)
	}
	return &S3Store{client: client, bucket: c.S3Bucket, key: bytes.Clone(key), partSize: s3PartSize}, nil
}

// Put seals r in memory, up to the part size, and sends it in one PUT of known length, which S3 applies
// atomically: readers see the old object or the new one. A larger object goes as a multipart upload, which
// becomes visible only when completed and is aborted on error. Either way nothing is sent before r has been read
// (up to the part size), so a failing reader or an ended ctx leaves the old object untouched.
func (s *S3Store) Put(ctx context.Context, key string, r io.Reader) error {
	if err := validKey(key); err != nil {
		return err
	}
	sealed, err := newSealer(ctx, s.key, key, r)
	if err != nil {
		return fmt.Errorf("documents: put %s: %w", key, err)
	}
	var head bytes.Buffer
	n, err := head.ReadFrom(io.LimitReader(sealed, s.partSize+1))
	if err != nil {
		return fmt.Errorf("documents: put %s: %w", key, err)
	}
	body, size := io.Reader(bytes.NewReader(head.Bytes())), n
	if n > s.partSize {
		body, size = io.MultiReader(bytes.NewReader(head.Bytes()), sealed), -1
	}
	_, err = s.client.PutObject(ctx, s.bucket, key, body, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    uint64(s.partSize),
	})
	if err != nil {
		return fmt.Errorf("documents: put %s: %w", key, err)
	}
	return nil
}

// Get starts reading key and authenticates its first segment before returning, as FileStore.Get does.
func (s *S3Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("documents: get %s: %w", key, err)
	}
	r, err := newReader(s.key, key, obj) // the request goes out on this first read
	if err != nil {
		obj.Close()
		var resp minio.ErrorResponse
		if errors.As(err, &resp) && resp.Code == minio.NoSuchKey {
			err = ErrNotFound
		}
		return nil, fmt.Errorf("documents: get %s: %w", key, err)
	}
	return r, nil
}

// Delete removes key; S3 answers a delete of a missing key with success, so a retried cleanup succeeds.
func (s *S3Store) Delete(ctx context.Context, key string) error {
	if err := validKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("documents: delete %s: %w", key, err)
	}
	return nil
}
