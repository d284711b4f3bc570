package portal_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// A rolling restart drops no request: on shutdown /readyz turns 503 during the drain delay, a request already in
// flight completes, and only then does the process stop accepting connections.
func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	e := newEnv(t)
	base := e.listen(t)
	addr := strings.TrimPrefix(base, "http://")

	body := url.Values{"lang": {"en"}, "next": {"/"}}.Encode()

	// Start a request and stop halfway through its body: it is in flight.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /lingua HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: %d\r\nSec-Fetch-Site: same-origin\r\n\r\n%s", addr, len(body), body[:10])

	shutdownDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		shutdownDone <- e.srv.Shutdown(ctx, 300*time.Millisecond)
	}()
	// During the drain delay the load balancer is told to go away, but requests are still served.
	testenv.WaitFor(t, 5*time.Second, "readyz to report draining", func() error {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			return fmt.Errorf("readyz %d", resp.StatusCode)
		}
		return nil
	})
	// After the drain the listener closes: new connections are refused...
	testenv.WaitFor(t, 5*time.Second, "listener to close", func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return fmt.Errorf("still accepting")
		}
		return nil
	})
	select {
	case err := <-shutdownDone:
		t.Fatalf("shutdown returned (%v) while a request was in flight", err)
	default:
	}
	// ...while the request in flight completes normally.
	if _, err := conn.Write([]byte(body[10:])); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request dropped: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("in-flight request got %d", resp.StatusCode)
	}
	conn.Close()
	if err := <-shutdownDone; err != nil {
		t.Fatal(err)
	}
}
