package documents

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// ErrInfected is returned by Scan when the antivirus recognises malware; the wrapping error names the signature.
var ErrInfected = errors.New("documents: file is infected")

// Scanner checks an upload for malware before it is stored.
type Scanner interface {
	// Scan reads r to the end. It returns nil for a clean file, an error wrapping ErrInfected for malware, and any
	// other error when it could not tell: the caller then refuses the upload rather than store it unchecked.
	Scan(ctx context.Context, r io.Reader) error
}

// NewScanner returns the scanner for CLAMD_ADDRESS (tcp://host:port or unix:///path), or nil when addr is empty:
// no scanning.
func NewScanner(addr string) Scanner {
	if addr == "" {
		return nil
	}
	return NewClamd(addr)
}

// clamdChunk is the size of the INSTREAM chunks; clamd accepts any size up to its StreamMaxLength.
const clamdChunk = 64 << 10

// Clamd scans through a ClamAV daemon with its INSTREAM command: one connection per scan, the content sent in
// length-prefixed chunks, nothing written to disk on our side. clamd refuses streams longer than its
// StreamMaxLength (100 MB by default): keep that above DOCUMENTS_MAX_FILE.
type Clamd struct {
	network, address string
	err              error         // a malformed address, returned by every call
	timeout          time.Duration // bounds one call when ctx has a later deadline or none
}

// NewClamd returns a client for addr, tcp://host:port or unix:///path/to/clamd.sock. It does not connect: Ping
// does, and so does every Scan.
func NewClamd(addr string) *Clamd {
	c := &Clamd{timeout: 2 * time.Minute}
	if rest, ok := strings.CutPrefix(addr, "tcp://"); ok && rest != "" {
		c.network, c.address = "tcp", rest
	} else if rest, ok := strings.CutPrefix(addr, "unix://"); ok && rest != "" {
		c.network, c.address = "unix", rest
	} else {
		c.err = fmt.Errorf("documents: clamd address %q: want tcp://host:port or unix:///path", addr)
	}
	return c
}

// Ping checks that the daemon answers (PING → PONG).
func (c *Clamd) Ping(ctx context.Context) error {
	reply, err := c.do(ctx, "PING", nil)
	if err != nil {
		return err
	}
	if reply != "PONG" {
		return fmt.Errorf("documents: clamd: unexpected reply to PING: %q", reply)
	}
	return nil
}

// Scan sends r to clamd and reads its verdict.
func (c *Clamd) Scan(ctx context.Context, r io.Reader) error {
	reply, err := c.do(ctx, "INSTREAM", r)
	if err != nil {
		return err
	}
	// "stream: OK", "stream: <signature> FOUND", or "<reason> ERROR" (size limit exceeded, scan failure).
	switch {
	case reply == "stream: OK":
		return nil
	case strings.HasPrefix(reply, "stream: ") && strings.HasSuffix(reply, " FOUND"):
		return fmt.Errorf("%w: %s", ErrInfected, strings.TrimSuffix(strings.TrimPrefix(reply, "stream: "), " FOUND"))
	default:
		return fmt.Errorf("documents: clamd: %s", reply)
	}
}

// do sends one NUL-terminated command, then, when body is not nil, body as INSTREAM chunks, and returns the reply.
func (c *Clamd) do(ctx context.Context, command string, body io.Reader) (string, error) {
	if c.err != nil {
		return "", c.err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, c.network, c.address)
	if err != nil {
		return "", fmt.Errorf("documents: clamd: %w", err)
	}
	defer conn.Close()
	// Every read and write below ends when ctx does (cancelled or past its deadline): ctx.Err() is then set, and
	// is what the caller gets.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(err error) (string, error) {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return "", fmt.Errorf("documents: clamd %s: %w", strings.ToLower(command), err)
	}

	if _, err := io.WriteString(conn, "z"+command+"\x00"); err != nil {
		return fail(err)
	}
	if body != nil {
		if werr := sendChunks(conn, body); werr != nil {
			// clamd closes the connection when the stream passes StreamMaxLength, after saying so: prefer its
			// reason to our broken pipe. A failing body is ours alone: do not wait for a reply then.
			var se sendError
			if !errors.As(werr, &se) || ctx.Err() != nil {
				return fail(werr)
			}
			conn.SetReadDeadline(time.Now().Add(time.Second))
			if reply, rerr := readReply(conn); rerr == nil && reply != "" {
				return reply, nil
			}
			return fail(se.err)
		}
	}
	reply, err := readReply(conn)
	if err != nil {
		return fail(err)
	}
	return reply, nil
}

// sendError marks a failure to write to clamd, as opposed to one reading the content being scanned.
type sendError struct{ err error }

func (e sendError) Error() string { return e.err.Error() }

// sendChunks writes body as INSTREAM chunks (uint32 big-endian length, then the bytes) and the empty chunk that
// ends the stream.
func sendChunks(conn net.Conn, body io.Reader) error {
	buf := make([]byte, 4+clamdChunk)
	for {
		n, err := io.ReadFull(body, buf[4:])
		if n > 0 {
			binary.BigEndian.PutUint32(buf, uint32(n))
			if _, werr := conn.Write(buf[:4+n]); werr != nil {
				return sendError{werr}
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
	}
	if _, err := conn.Write([]byte{0, 0, 0, 0}); err != nil {
		return sendError{err}
	}
	return nil
}

// readReply reads one NUL-terminated reply (clamd then closes an INSTREAM connection).
func readReply(conn net.Conn) (string, error) {
	reply, err := bufio.NewReader(io.LimitReader(conn, 4096)).ReadString(0)
	if err != nil && (err != io.EOF || reply == "") {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	return strings.TrimSpace(strings.TrimRight(reply, "\x00")), nil
}
