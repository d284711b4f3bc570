package documents

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestNewScanner(t *testing.T) {
	if s := NewScanner(""); s != nil {
		t.Errorf("no address gave a scanner: %#v", s)
	}
	for _, addr := range []string{"clamd:3310", "http://clamd:3310", "tcp://", "unix://"} {
		if err := NewScanner(addr).Scan(t.Context(), strings.NewReader("x")); err == nil || errors.Is(err, ErrInfected) {
			t.Errorf("%q: %v", addr, err)
		}
	}
}

func TestClamdScan(t *testing.T) {
	srv := testClamd(t)
	big := make([]byte, 12<<20) // larger than a few MB, below the test daemon's 20 MB stream limit
	rand.Read(big)
	bigInfected := append(bytes.Clone(big), eicar...)
	tests := []struct {
		name     string
		content  []byte
		infected string // the signature expected, "" for clean
	}{
		{"clean PDF", []byte(minimalPDF), ""},
		{"clean PNG", pngBytes(t), ""},
		{"empty", nil, ""},
		{"EICAR", []byte(eicar), "Csc-Test-Eicar"},
		{"clean 12 MB", big, ""},
		{"EICAR at the end of 12 MB", bigInfected, "Csc-Test-Eicar-Body"},
	}
	for _, addr := range []string{srv.tcp, srv.unix} {
		scanner := NewScanner(addr)
		for _, tt := range tests {
			t.Run(strings.SplitN(addr, ":", 2)[0]+"/"+tt.name, func(t *testing.T) {
				err := scanner.Scan(t.Context(), bytes.NewReader(tt.content))
				if tt.infected == "" {
					if err != nil {
						t.Fatalf("clean content: %v", err)
					}
					return
				}
				if !errors.Is(err, ErrInfected) || !strings.Contains(err.Error(), tt.infected) {
					t.Fatalf("got %v, want ErrInfected naming %s", err, tt.infected)
				}
			})
		}
	}
}

// The daemon's own refusals are errors, never a verdict either way.
func TestClamdRefusals(t *testing.T) {
	srv := testClamd(t)
	scanner := NewScanner(srv.tcp)

	// Past the daemon's StreamMaxLength (20 MB here) clamd says so and hangs up mid-stream.
	err := scanner.Scan(t.Context(), io.LimitReader(zeros{}, 21<<20))
	if err == nil || errors.Is(err, ErrInfected) || !strings.Contains(err.Error(), "size limit") {
		t.Errorf("over the size limit: %v", err)
	}

	// A reader failing midway is our error, not a verdict.
	err = scanner.Scan(t.Context(), io.MultiReader(strings.NewReader(minimalPDF), errReader{}))
	if err == nil || errors.Is(err, ErrInfected) {
		t.Errorf("broken reader: %v", err)
	}

	if err := NewClamd(srv.unix).Ping(t.Context()); err != nil {
		t.Errorf("daemon unwell after the refusals: %v", err)
	}
}

// A daemon that has stopped refuses, over TCP and the Unix socket: an error that is not ErrInfected, so the
// portal answers 503 instead of storing an unscanned file.
func TestClamdStopped(t *testing.T) {
	testClamd(t) // skips (or fails under CI) when clamd is missing
	own, err := startClamd()
	if err != nil {
		t.Fatal(err)
	}
	defer own.stop()
	for _, addr := range []string{own.tcp, own.unix} {
		if err := NewScanner(addr).Scan(t.Context(), strings.NewReader(eicar)); !errors.Is(err, ErrInfected) {
			t.Fatalf("%s before the stop: %v", addr, err)
		}
	}
	own.stop()
	for _, addr := range []string{own.tcp, own.unix} {
		err := NewScanner(addr).Scan(t.Context(), strings.NewReader(eicar))
		if err == nil || errors.Is(err, ErrInfected) {
			t.Errorf("%s after the stop: %v", addr, err)
		}
		if err := NewClamd(addr).Ping(t.Context()); err == nil {
			t.Errorf("%s answers PING after the stop", addr)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// A daemon that takes the stream and never answers (overloaded, wedged) cannot hold the upload beyond its
// context. No clamd can be made to hang on purpose: this listener stands in for one.
func TestClamdHung(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, conn); conn.Close() }()
		}
	}()
	scanner := NewScanner("tcp://" + ln.Addr().String())
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = scanner.Scan(ctx, strings.NewReader(minimalPDF))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrInfected) || time.Since(start) > 5*time.Second {
		t.Errorf("hung daemon: %v after %v", err, time.Since(start))
	}

	// Cancellation, too, ends a scan in progress.
	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	if err := scanner.Scan(ctx, strings.NewReader(minimalPDF)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled scan: %v", err)
	}
}
