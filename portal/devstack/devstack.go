// Package devstack runs real, project-local PostgreSQL and Redis servers for
// `make run` and for the integration tests.
//
// Each server is a child process of the caller, listening on 127.0.0.1 only,
// with its data in a directory the caller chooses: a git-ignored folder for
// `make run`, a temporary one for tests. Children die with their parent.
//
// When the caller is root (as in containers), PostgreSQL runs as an
// unprivileged user, which must be able to reach the data directory.
// t.TempDir() is not reachable (its parent is 0700 root), so tests make
// their data dirs with os.MkdirTemp("", ...) and remove them in t.Cleanup.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// readyTimeout bounds a start when the caller's context has no deadline, so
// a wedged server fails `make run` instead of hanging it.
const readyTimeout = time.Minute

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process may take it before it is used; starts then fail loudly.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("devstack: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// EnsureInstalled installs PostgreSQL server and redis-server with apt-get
// when their binaries are missing, prefixed with sudo when not root. It runs
// `apt-get update` only when an install is needed, and logs what it does to w.
func EnsureInstalled(ctx context.Context, w io.Writer) error {
	var pkgs []string
	if _, err := PostgresBinDir(); err != nil {
		pkgs = append(pkgs, "postgresql")
	}
	if _, err := redisServerPath(); err != nil {
		pkgs = append(pkgs, "redis-server")
	}
	if len(pkgs) == 0 {
		return nil
	}
	fmt.Fprintf(w, "devstack: installing %s with apt-get\n", strings.Join(pkgs, " "))
	// env(1) sets DEBIAN_FRONTEND on the far side of sudo, whose env_reset
	// would drop a variable set on our side.
	apt := []string{"env", "DEBIAN_FRONTEND=noninteractive", "apt-get"}
	if os.Geteuid() != 0 {
		apt = append([]string{"sudo"}, apt...)
	}
	for _, args := range [][]string{
		append(slices.Clone(apt), "update"),
		append(slices.Clone(apt), append([]string{"install", "-y", "--no-install-recommends"}, pkgs...)...),
	} {
		fmt.Fprintf(w, "devstack: %s\n", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = w, w
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("devstack: install %s: %w", strings.Join(pkgs, " "), err)
		}
	}
	if _, err := PostgresBinDir(); err != nil {
		return fmt.Errorf("devstack: install postgresql: %w", err)
	}
	if _, err := redisServerPath(); err != nil {
		return fmt.Errorf("devstack: install redis-server: %w", err)
	}
	return nil
}

// PostgresBinDir returns $PG_BINDIR if set, else the highest-versioned
// /usr/lib/postgresql/<version>/bin holding postgres and initdb. Links in
// /usr/local/bin are ignored: they may point at another version than the
// one whose initdb made the data directory.
func PostgresBinDir() (string, error) {
	if dir := os.Getenv("PG_BINDIR"); dir != "" {
		if !hasPostgres(dir) {
			return "", fmt.Errorf("devstack: PG_BINDIR %s has no postgres and initdb", dir)
		}
		return dir, nil
	}
	return postgresBinDir("/usr/lib/postgresql")
}

func postgresBinDir(root string) (string, error) {
	entries, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("devstack: find postgres: %w", err)
	}
	var best string
	var bestVer []int
	for _, e := range entries {
		ver, ok := parseVersion(e.Name())
		bin := filepath.Join(root, e.Name(), "bin")
		if !ok || !hasPostgres(bin) {
			continue
		}
		if best == "" || slices.Compare(ver, bestVer) > 0 {
			best, bestVer = bin, ver
		}
	}
	if best == "" {
		return "", fmt.Errorf("devstack: find postgres: no %s/<version>/bin with postgres and initdb (run EnsureInstalled or set PG_BINDIR)", root)
	}
	return best, nil
}

// parseVersion reads "15" or "9.6" as numbers, so that 9.6 < 10.
func parseVersion(s string) ([]int, bool) {
	var ver []int
	for part := range strings.SplitSeq(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return nil, false
		}
		ver = append(ver, n)
	}
	return ver, true
}

func hasPostgres(dir string) bool {
	for _, name := range []string{"postgres", "initdb"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

func redisServerPath() (string, error) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	const p = "/usr/bin/redis-server"
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("devstack: find redis-server: not on PATH nor at %s (run EnsureInstalled)", p)
	}
	return p, nil
}

// child is one running server process.
type child struct {
	cmd  *exec.Cmd
	stop syscall.Signal // the server's clean-shutdown signal
	out  *tail
	done chan struct{} // closed once the process has exited
	err  error         // cmd.Wait's result; read only after done
}

// spawn starts cmd with its output going to log and to an in-memory tail.
// It owns closeLog from then on, and calls it once the process has exited.
//
// Pdeathsig fires when the OS thread that forked the child exits, not when
// the process does, and the Go runtime ends a thread whose goroutine exits
// while locked to it. Locking only around cmd.Start is not enough: the thread
// returns to the pool, and any goroutine that later locks it and exits would
// take the server down. So one goroutine per child stays locked to the forking
// thread until the child has exited; it costs one idle OS thread per server.
func spawn(cmd *exec.Cmd, stop syscall.Signal, log io.Writer, closeLog func()) (*child, error) {
	c := &child{cmd: cmd, stop: stop, out: &tail{}, done: make(chan struct{})}
	w := io.MultiWriter(log, c.out)
	// One writer value for both streams: exec then copies them on a single
	// goroutine, so log need not be safe for concurrent use.
	cmd.Stdout, cmd.Stderr = w, w
	// The server's own children (backends, snapshot writers) inherit the
	// output pipe; do not wait forever on one that lingers.
	cmd.WaitDelay = 5 * time.Second
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// Dying with the parent is a stop like any other: the server's own
	// clean-shutdown signal.
	cmd.SysProcAttr.Pdeathsig = stop

	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		defer close(c.done)
		defer closeLog()
		if err := cmd.Start(); err != nil {
			c.err = err
			started <- err
			return
		}
		started <- nil
		c.err = cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return c, nil
}

// exited reports whether the process has exited, without blocking.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// shutdown sends the stop signal and waits for the process to exit. When ctx
// ends first the process is killed, so no server is left behind.
func (c *child) shutdown(ctx context.Context) error {
	if c.exited() {
		return nil
	}
	if err := c.cmd.Process.Signal(c.stop); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("killed after %w", ctx.Err())
	}
	var exit *exec.ExitError
	if errors.As(c.err, &exit) && !exit.Exited() {
		// Ended by our own signal rather than exiting: still a clean stop.
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signal() == c.stop {
			return nil
		}
	}
	return c.err
}

// waitReady polls ready with a short backoff until it succeeds, the process
// exits, or ctx ends. Errors carry the last lines of the server's output.
func (c *child) waitReady(ctx context.Context, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	// A check stuck on a port someone else holds must not outlast the server
	// that failed to bind it.
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	delay := 5 * time.Millisecond
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		err := ready(attempt)
		cancelAttempt()
		if err == nil {
			return nil
		}
		select {
		case <-time.After(delay):
			delay = min(delay*2, 200*time.Millisecond)
			continue
		case <-ctx.Done():
		}
		if c.exited() {
			return fmt.Errorf("server exited (%v) before accepting connections%s", c.err, c.out.last(20))
		}
		return fmt.Errorf("not ready: %w (last attempt: %v)%s", ctx.Err(), err, c.out.last(20))
	}
}

// tail keeps the end of a server's output so that a failed start can say why.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailKeep = 8 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*tailKeep {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailKeep:]...)
	}
	return len(p), nil
}

// last returns up to n final lines, each indented on its own line, ready to
// append to an error message.
func (t *tail) last(n int) string {
	t.mu.Lock()
	lines := strings.Split(strings.TrimRight(string(t.buf), "\n"), "\n")
	t.mu.Unlock()
	if len(lines) == 1 && lines[0] == "" {
		return "\n\t(no server output)"
	}
	lines = lines[max(0, len(lines)-n):]
	return "\n\t" + strings.Join(lines, "\n\t")
}

// openLog returns w, or when w is nil a log file at path, appended to, and
// what to call when done with it.
func openLog(w io.Writer, path string) (io.Writer, func(), error) {
	if w != nil {
		return w, func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}
