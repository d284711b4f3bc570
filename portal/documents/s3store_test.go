package documents

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/comunitasocialecremasca/smartservices/portal/config"
)

// newS3Store returns a store on a bucket of the test's own, on the package's S3 server.
func newS3Store(t *testing.T) (*S3Store, *s3Server, string) {
	t.Helper()
	srv := testS3(t)
	bucket := srv.bucket(t)
	key, _ := ParseKey(testKeyHex)
	s, err := NewS3Store(t.Context(), srv.config(bucket), key)
	if err != nil {
		t.Fatal(err)
	}
	return s, srv, bucket
}

func (s *s3Server) config(bucket string) config.Documents {
	return config.Documents{Store: "s3", S3Endpoint: s.endpoint, S3Bucket: bucket, S3Region: "us-east-1",
		S3AccessKey: s3TestAccessKey, S3SecretKey: s3TestSecretKey}
}

// rawObject returns what the S3 server holds under key, as any client of the bucket would see it.
func (s *s3Server) rawObject(t *testing.T, bucket, key string) []byte {
	t.Helper()
	obj, err := s.raw.GetObject(t.Context(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("raw get %s: %v", key, err)
	}
	return b
}

func (s *s3Server) putRaw(t *testing.T, bucket, key string, b []byte) {
	t.Helper()
	if _, err := s.raw.PutObject(t.Context(), bucket, key, bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestS3RoundTrip(t *testing.T) {
	s, srv, bucket := newS3Store(t)
	ctx := t.Context()
	for _, size := range []int{0, 1, segmentSize - 1, segmentSize, segmentSize + 1, 2 * segmentSize, 3 << 20} {
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
			segments := max(1, (size+segmentSize-1)/segmentSize)
			if raw := srv.rawObject(t, bucket, key); len(raw) != headerSize+size+segments*tagSize {
				t.Errorf("object is %d bytes, format says %d", len(raw), headerSize+size+segments*tagSize)
			}
		})
	}
}

// Objects larger than a part go up as a multipart upload; the part size is lowered to S3's minimum (5 MiB) so
// that a 12 MiB object takes three parts.
func TestS3Multipart(t *testing.T) {
	s, srv, bucket := newS3Store(t)
	s.partSize = 5 << 20
	want := make([]byte, 12<<20)
	rand.Read(want)
	if err := s.Put(t.Context(), "big", bytes.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	got, err := readAll(s, "big")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes: %v", len(got), err)
	}
	info, err := srv.raw.StatObject(t.Context(), bucket, "big", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(info.ETag, "-3") { // a multipart object's ETag ends with its part count
		t.Errorf("ETag %q: not a three-part upload", info.ETag)
	}

	// A reader failing after two parts have gone up leaves the old object and no upload behind.
	broken := io.MultiReader(bytes.NewReader(want), errReader{})
	if err := s.Put(t.Context(), "big", broken); err == nil {
		t.Fatal("a broken reader was stored")
	}
	if got, err := readAll(s, "big"); err != nil || !bytes.Equal(got, want) {
		t.Errorf("old object after a failed multipart upload: %v", err)
	}
	for u := range srv.raw.ListIncompleteUploads(t.Context(), bucket, "", true) {
		t.Errorf("upload left behind: %+v", u)
	}
}

func TestS3OverwriteDeleteNotFound(t *testing.T) {
	s, _, _ := newS3Store(t)
	ctx := t.Context()
	if _, err := s.Get(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get missing: %v", err)
	}
	if err := s.Delete(ctx, "missing"); err != nil {
		t.Errorf("Delete missing: %v", err)
	}
	s.Put(ctx, "doc", strings.NewReader("old"))
	if err := s.Put(ctx, "doc", strings.NewReader("new")); err != nil {
		t.Fatal(err)
	}
	if got, err := readAll(s, "doc"); err != nil || string(got) != "new" {
		t.Errorf("after overwrite: %q %v", got, err)
	}
	if err := s.Delete(ctx, "doc"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "doc"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
}

// What the server keeps, through its API and on its disk, is ciphertext.
func TestS3StoredObjectIsNotClear(t *testing.T) {
	s, srv, bucket := newS3Store(t)
	secret := strings.Repeat("RSSMRA80A01D142X invalidità 100% ", 5000)
	if err := s.Put(t.Context(), "clear", strings.NewReader(secret)); err != nil {
		t.Fatal(err)
	}
	raw := srv.rawObject(t, bucket, "clear")
	if bytes.Contains(raw, []byte("RSSMRA80A01D142X")) || !bytes.HasPrefix(raw, []byte(formatMagic)) {
		t.Error("the object is not sealed")
	}
	onDisk, err := os.ReadFile(filepath.Join(srv.dataDir, bucket, "clear"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, raw) {
		t.Error("the server's file differs from the object it serves")
	}
}

// Objects damaged or replaced behind the portal's back, through the S3 API, fail authentication.
func TestS3Tamper(t *testing.T) {
	s, srv, bucket := newS3Store(t)
	ctx := t.Context()
	content := make([]byte, 2*segmentSize+100)
	rand.Read(content)
	if err := s.Put(ctx, "doc", bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	sealed := srv.rawObject(t, bucket, "doc")
	seg1 := headerSize + segmentSize + tagSize
	tests := []struct {
		name   string
		change func(b []byte) []byte
	}{
		{"flip salt", func(b []byte) []byte { b[20] ^= 1; return b }},
		{"flip first segment", func(b []byte) []byte { b[headerSize+5] ^= 0x80; return b }},
		{"flip second segment", func(b []byte) []byte { b[seg1+100] ^= 1; return b }},
		{"flip last byte", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }},
		{"drop last segment", func(b []byte) []byte { return b[:2*seg1-headerSize] }},
		{"truncate inside header", func(b []byte) []byte { return b[:headerSize-1] }},
		{"empty", func(b []byte) []byte { return b[:0] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.putRaw(t, bucket, "doc", tt.change(bytes.Clone(sealed)))
			got, err := readAll(s, "doc")
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
			if !bytes.Equal(got, content[:len(got)]) {
				t.Error("altered bytes were returned before the error")
			}
		})
	}

	// The original bytes put back read again: the failures above were the changes, not the round trip.
	srv.putRaw(t, bucket, "doc", sealed)
	if got, err := readAll(s, "doc"); err != nil || !bytes.Equal(got, content) {
		t.Errorf("restored object: %v", err)
	}
}

// An object copied or moved to another key (one citizen's document put in place of another's) fails at Get.
func TestS3MovedObject(t *testing.T) {
	s, srv, bucket := newS3Store(t)
	ctx := t.Context()
	s.Put(ctx, "mine", strings.NewReader(minimalPDF))
	s.Put(ctx, "yours", strings.NewReader("other"))
	_, err := srv.raw.CopyObject(ctx, minio.CopyDestOptions{Bucket: bucket, Object: "yours"},
		minio.CopySrcOptions{Bucket: bucket, Object: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "yours"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("moved object: got %v, want ErrCorrupt at Get", err)
	}
	if got, err := readAll(s, "mine"); err != nil || string(got) != minimalPDF {
		t.Errorf("the original: %v", err)
	}
}

// One format: an object written by S3Store reads back from a FileStore directory, and a FileStore file uploaded
// to the bucket reads back from S3Store, with the same master key and object key.
func TestS3SameFormatAsFileStore(t *testing.T) {
	s3, srv, bucket := newS3Store(t)
	fs, dir := newStore(t)
	ctx := t.Context()
	content := bytes.Repeat([]byte("Modulo ISEE 2026 "), 10000)

	s3.Put(ctx, "from-s3", bytes.NewReader(content))
	os.WriteFile(filepath.Join(dir, "from-s3"), srv.rawObject(t, bucket, "from-s3"), 0o600)
	if got, err := readAll(fs, "from-s3"); err != nil || !bytes.Equal(got, content) {
		t.Errorf("S3 object read by FileStore: %v", err)
	}

	fs.Put(ctx, "from-file", bytes.NewReader(content))
	b, _ := os.ReadFile(filepath.Join(dir, "from-file"))
	srv.putRaw(t, bucket, "from-file", b)
	if got, err := readAll(s3, "from-file"); err != nil || !bytes.Equal(got, content) {
		t.Errorf("file read by S3Store: %v", err)
	}
}

func TestS3WrongKey(t *testing.T) {
	s, srv, bucket := newS3Store(t)
	s.Put(t.Context(), "doc", strings.NewReader(minimalPDF))
	other := make([]byte, 32)
	rand.Read(other)
	s2, err := NewS3Store(t.Context(), srv.config(bucket), other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Get(t.Context(), "doc"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("wrong key: got %v, want ErrCorrupt", err)
	}
}

// A failed or cancelled Put leaves the previous object; nothing is sent before the content has been read.
func TestS3PutFailureKeepsOld(t *testing.T) {
	s, _, _ := newS3Store(t)
	checkPutFailureKeepsOld(t, s)
}

func TestS3InvalidKeys(t *testing.T) {
	s, srv, bucket := newS3Store(t)
	ctx := t.Context()
	for _, key := range []string{"", "..", "../x", "a/b", "A", "a.b", "%2e", strings.Repeat("a", 129)} {
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
	for o := range srv.raw.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		t.Errorf("object written: %q %v", o.Key, o.Err)
	}
}

func TestS3Concurrent(t *testing.T) {
	s, _, _ := newS3Store(t)
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 3 {
				key := fmt.Sprintf("g%d-%d", g, i)
				want := make([]byte, (g*7919+i*104729)%(3*segmentSize))
				rand.Read(want)
				if err := s.Put(ctx, key, bytes.NewReader(want)); err != nil {
					errs <- err
					return
				}
				if got, err := readAll(s, key); err != nil || !bytes.Equal(got, want) {
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
}

func TestNewS3StoreRefuses(t *testing.T) {
	srv := testS3(t)
	key, _ := ParseKey(testKeyHex)
	c := srv.config("no-such-bucket")
	if _, err := NewS3Store(t.Context(), c, key); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing bucket: %v", err)
	}
	c = srv.config(srv.bucket(t))
	c.S3SecretKey = "wrong"
	if _, err := NewS3Store(t.Context(), c, key); err == nil {
		t.Error("a wrong secret key was accepted")
	}
	c = srv.config(srv.bucket(t))
	c.S3Endpoint = srv.endpoint + "/path"
	if _, err := NewS3Store(t.Context(), c, key); err == nil {
		t.Error("an endpoint with a path was accepted")
	}
	if _, err := NewS3Store(t.Context(), srv.config(srv.bucket(t)), key[:16]); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}

// documents.Open picks the S3 store for DOCUMENTS_STORE=s3, with the key derived from the session secret when
// DOCUMENTS_KEY is not set, as for the file store.
func TestOpenS3(t *testing.T) {
	srv := testS3(t)
	c := srv.config(srv.bucket(t))
	secret := []byte(strings.Repeat("s", 32))
	st, err := Open(t.Context(), c, secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*S3Store); !ok {
		t.Fatalf("Open gave %T", st)
	}
	if err := st.Put(t.Context(), "doc", strings.NewReader(minimalPDF)); err != nil {
		t.Fatal(err)
	}
	again, _ := Open(t.Context(), c, secret)
	if got, err := readAll(again, "doc"); err != nil || string(got) != minimalPDF {
		t.Errorf("read by a second node: %v", err)
	}
	if _, err := Open(t.Context(), config.Documents{Store: "tape"}, secret); err == nil {
		t.Error("an unknown store was accepted")
	}
}
