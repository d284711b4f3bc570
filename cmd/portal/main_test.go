package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/devstack"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// The test binary doubles as the portal binary: with PORTAL_RUN_MAIN=1 it runs main() with its arguments, so the
// tests below start real `portal` processes and send them real signals.
func TestMain(m *testing.M) {
	if os.Getenv("PORTAL_RUN_MAIN") == "1" {
		os.Args = append([]string{"portal"}, strings.Split(os.Getenv("PORTAL_ARGS"), " ")...)
		main()
		os.Exit(0)
	}
	os.Exit(testenv.Main(m))
}

// portalProcess starts `portal <args>` with env and returns it with a reader of its combined output.
func portalProcess(t *testing.T, args string, env ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"PORTAL_RUN_MAIN=1", "PORTAL_ARGS=" + args}, env...)...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); pw.Close() }()   //nolint:errcheck // the exit status is read through ProcessState
	t.Cleanup(func() { cmd.Process.Kill() }) //nolint:errcheck
	return cmd, bufio.NewScanner(pr)
}

// waitLine reads output until a line matches, returning the submatches, or fails when the process ends first.
func waitLine(t *testing.T, out *bufio.Scanner, re *regexp.Regexp, seen *[]string) []string {
	t.Helper()
	for out.Scan() {
		*seen = append(*seen, out.Text())
		if m := re.FindStringSubmatch(out.Text()); m != nil {
			return m
		}
	}
	t.Fatalf("process ended before printing %s; output:\n%s", re, strings.Join(*seen, "\n"))
	return nil
}

func drain(out *bufio.Scanner, seen *[]string) {
	for out.Scan() {
		*seen = append(*seen, out.Text())
	}
}

func TestServeRefusesInvalidConfiguration(t *testing.T) {
	cmd, out := portalProcess(t, "serve", "DATABASE_URL=mysql://x", "REDIS_URL=", "SESSION_SECRET=short", "BODY_LIMIT=huge")
	var seen []string
	drain(out, &seen)
	text := strings.Join(seen, "\n")
	for _, want := range []string{"invalid configuration", "DATABASE_URL must be a postgres:// URL", "REDIS_URL is required",
		"SESSION_SECRET must be at least 32 characters", "BODY_LIMIT must be a size"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if cmd.ProcessState.ExitCode() != 1 {
		t.Errorf("exit code %d, want 1", cmd.ProcessState.ExitCode())
	}
}

// SIGTERM makes a serving portal fail readiness for the drain delay, then exit cleanly.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	s := testenv.Shared(t)
	port, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd, out := portalProcess(t, "serve", "DATABASE_URL="+s.DatabaseURL(t), "REDIS_URL="+s.Redis.URL(),
		"SESSION_SECRET="+strings.Repeat("k", 32), "LISTEN_ADDR="+addr, "SHUTDOWN_DRAIN=2s", "LOG_FORMAT=text")
	var seen []string
	waitLine(t, out, regexp.MustCompile(`portal listening`), &seen)
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("not ready: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitLine(t, out, regexp.MustCompile(`draining`), &seen)
	resp, err = http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatalf("during the drain the portal must still answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz during drain: %d, want 503", resp.StatusCode)
	}
	waitLine(t, out, regexp.MustCompile(`stopped`), &seen)
	drain(out, &seen)
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM:\n%s", code, strings.Join(seen, "\n"))
	}
}

// `make run` twice: the first run provisions and seeds, the second reuses everything; Ctrl-C stops all it started.
func TestDevIsIdempotentAndStopsWhatItStarted(t *testing.T) {
	dir, err := os.MkdirTemp("", "portal-dev-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ports := make([]int, 3)
	for i := range ports {
		if ports[i], err = devstack.FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"DEV_DATA_DIR=" + dir, fmt.Sprintf("DEV_PG_PORT=%d", ports[0]), fmt.Sprintf("DEV_REDIS_PORT=%d", ports[1]),
		fmt.Sprintf("LISTEN_ADDR=127.0.0.1:%d", ports[2]), "DATABASE_URL=", "REDIS_URL="}
	ready := regexp.MustCompile(`portal ready: (http://\S+)`)
	run := func() string {
		cmd, out := portalProcess(t, "dev", env...)
		var seen []string
		url := waitLine(t, out, ready, &seen)[1]
		resp, err := http.Get(url + "/sedi")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("portal from make run: %v %v", resp, err)
		}
		resp.Body.Close()
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		drain(out, &seen)
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("exit code %d after Ctrl-C:\n%s", code, strings.Join(seen, "\n"))
		}
		for _, p := range ports {
			if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p), time.Second); err == nil {
				c.Close()
				t.Errorf("port %d still open after Ctrl-C", p)
			}
		}
		return strings.Join(seen, "\n")
	}
	first := run()
	for _, want := range []string{"14 migrations applied", "admin", "coordinatore", "operatore.crema", "password:"} {
		if !strings.Contains(first, want) {
			t.Errorf("first run lacks %q:\n%s", want, first)
		}
	}
	creds, err := os.ReadFile(filepath.Join(dir, "demo-staff.txt"))
	if err != nil {
		t.Fatal(err)
	}
	second := run()
	if !strings.Contains(second, "0 migrations applied") {
		t.Errorf("second run did not reuse the database:\n%s", second)
	}
	again, _ := os.ReadFile(filepath.Join(dir, "demo-staff.txt"))
	if string(again) != string(creds) || !strings.Contains(second, strings.TrimSpace(strings.Split(string(creds), "\n")[0])) {
		t.Errorf("second run changed or did not print the demo credentials")
	}
}
