package documents

import (
	"bufio"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
)

// Stored object format, version 1, the same in every store (all integers big-endian):
//
//	header   magic "CSCDOC\x00\x01" (8) | segment size uint32 (4) | salt (32 random bytes)
//	segments AES-256-GCM(plaintext segment) || tag (16), every segment full except the last, which may be short
//	         or empty; an object always has at least one segment
//
// Each object is sealed with its own key, HKDF-SHA256(master key, salt, "csc-documents v1"), so nonces only need
// to be unique within the object: the nonce is the segment number (4 zero bytes, uint64 counter). The additional
// data of every segment is the header, the object key and a last-segment flag (1 on the last segment, else 0); so
// reordering, dropping or appending segments, cutting the object at a segment boundary, or moving it to another
// key all fail authentication, and plaintext is only ever released one authenticated segment at a time.
//
// The format belongs to the objects, not to a store: a file copied out of a FileStore directory and uploaded to an
// S3Store bucket under the same key (or the other way round) reads back with the same master key.
const (
	segmentSize = 64 << 10
	tagSize     = 16
	headerSize  = 8 + 4 + 32
	formatMagic = "CSCDOC\x00\x01"
	hkdfInfo    = "csc-documents v1"
)

func objectAEAD(master, header []byte) (cipher.AEAD, error) {
	objectKey, err := hkdf.Key(sha256.New, master, header[12:headerSize], hkdfInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(objectKey)
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

// sealer reads as the sealed form of a plaintext stream: the header, then one sealed segment at a time, so
// memory stays at two segments whatever the size. Errors reading the plaintext, and ctx ending (checked before
// each segment), end the stream with that error: a store must then discard what it has written.
type sealer struct {
	ctx    context.Context
	src    *bufio.Reader
	aead   cipher.AEAD
	ad     []byte
	plain  []byte
	sealed []byte
	out    []byte // ready to be read: first the header, then each sealed segment in turn
	pos    int
	seg    uint64
	done   bool // the last segment has been sealed
	err    error
}

// newSealer starts sealing r for key under master with a fresh random salt.
func newSealer(ctx context.Context, master []byte, key string, r io.Reader) (*sealer, error) {
	header := make([]byte, headerSize)
	copy(header, formatMagic)
	binary.BigEndian.PutUint32(header[8:], segmentSize)
	rand.Read(header[12:])
	aead, err := objectAEAD(master, header)
	if err != nil {
		return nil, err
	}
	return &sealer{
		ctx: ctx, src: bufio.NewReader(r), aead: aead, ad: additionalData(header, key),
		plain: make([]byte, segmentSize), sealed: make([]byte, 0, segmentSize+tagSize), out: header,
	}, nil
}

// next seals the following segment into s.out. A full segment is the last one only if nothing follows it, so the
// flag is decided by peeking one byte ahead.
func (s *sealer) next() error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	n, err := io.ReadFull(s.src, s.plain)
	last := false
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		last = true
	case err != nil:
		return fmt.Errorf("read: %w", err)
	default:
		if _, perr := s.src.Peek(1); perr == io.EOF {
			last = true
		} else if perr != nil {
			return fmt.Errorf("read: %w", perr)
		}
	}
	s.ad[len(s.ad)-1] = flag(last)
	s.out = s.aead.Seal(s.sealed[:0], nonce(s.seg), s.plain[:n], s.ad)
	s.pos, s.done = 0, last
	s.seg++
	return nil
}

func (s *sealer) Read(p []byte) (int, error) {
	for s.pos == len(s.out) {
		if s.err != nil {
			return 0, s.err
		}
		if s.done {
			return 0, io.EOF
		}
		s.err = s.next()
	}
	n := copy(p, s.out[s.pos:])
	s.pos += n
	return n, nil
}

// WriteTo lets io.Copy write the header and each sealed segment in one call each.
func (s *sealer) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if s.pos < len(s.out) {
			n, err := w.Write(s.out[s.pos:])
			total += int64(n)
			s.pos += n
			if err != nil {
				return total, err
			}
		}
		if s.err != nil {
			return total, s.err
		}
		if s.done {
			return total, nil
		}
		s.err = s.next()
	}
}

// newReader reads the header of the object stored under key from src and authenticates its first segment
// before returning, so a wrong master key or an object moved from another key fails here, before a handler has
// sent any header. Later damage surfaces as ErrCorrupt from Read. Close closes src.
func newReader(master []byte, key string, src io.ReadCloser) (*reader, error) {
	br := bufio.NewReaderSize(src, segmentSize+tagSize+1)
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
	aead, err := objectAEAD(master, header)
	if err != nil {
		return nil, err
	}
	r := &reader{src: src, br: br, aead: aead, ad: additionalData(header, key), sealed: make([]byte, segmentSize+tagSize)}
	if err := r.next(); err != nil {
		return nil, err
	}
	return r, nil
}

// reader decrypts one segment at a time: memory stays at two segments whatever the object size.
type reader struct {
	src    io.Closer
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

func (r *reader) Close() error { return r.src.Close() }
