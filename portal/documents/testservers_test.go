package documents

// The real servers these tests talk to: an S3 service (versitygw, built from its Go module and cached) and a ClamAV
// daemon (Debian's clamav-daemon, installed by `make system-deps`). Each starts at most once per test binary, on
// first use, listens on loopback only, keeps its data in a temporary directory, and is stopped by TestMain; as a
// child started with Pdeathsig it also dies with the test binary if that is killed.

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopServers()
	os.Exit(code)
}

var (
	stopMu    sync.Mutex
	stopFuncs []func()
)

func atStop(f func()) {
	stopMu.Lock()
	defer stopMu.Unlock()
	stopFuncs = append(stopFuncs, f)
}

func stopServers() {
	stopMu.Lock()
	defer stopMu.Unlock()
	for i := len(stopFuncs) - 1; i >= 0; i-- {
		stopFuncs[i]()
	}
	stopFuncs = nil
}

// notInstalled handles a server program that is missing: a developer's `go test` skips (`make test` installs it
// first), CI fails, since there `make system-deps` must have installed it.
func notInstalled(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") == "" {
		t.Skipf("%s is not installed: `make system-deps` installs it", what)
	}
	t.Fatalf("%s is not installed under CI: `make system-deps` should have installed it", what)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// process is a server running as a child of the test binary.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *tail
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, read after done
}

// startProcess starts cmd. Pdeathsig fires when the thread that forked the child ends, not the process: the
// goroutine that starts the child stays locked to its thread until the child has exited.
func startProcess(name string, cmd *exec.Cmd) (*process, error) {
	p := &process{name: name, cmd: cmd, out: &tail{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.WaitDelay = 5 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		defer close(p.done)
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the server to end (SIGTERM) and kills it if it has not after 10 seconds.
func (p *process) stop() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// waitReady polls ready until it succeeds, the process exits, or a minute passes; errors carry the server's
// last output lines.
func (p *process) waitReady(ready func(context.Context) error) error {
	deadline := time.Now().Add(time.Minute)
	delay := 10 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := ready(ctx)
		cancel()
		switch {
		case err == nil:
			return nil
		case p.exited():
			return fmt.Errorf("%s exited (%v) before it was ready%s", p.name, p.err, p.out.last(20))
		case time.Now().After(deadline):
			return fmt.Errorf("%s not ready after a minute: %v%s", p.name, err, p.out.last(20))
		}
		time.Sleep(delay)
		delay = min(2*delay, 200*time.Millisecond)
	}
}

// tail keeps the end of a server's output, for error messages.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > 64<<10 {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-32<<10:]...)
	}
	return len(b), nil
}

func (t *tail) last(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.buf)), "\n")
	return "\n\t" + strings.Join(lines[max(0, len(lines)-n):], "\n\t")
}

// ---- S3: versitygw ----

// versitygw is an S3 gateway (Versity, Apache-2.0) serving a POSIX directory: a real S3 server, not a mock. It is
// built from its Go module through the module proxy, once per machine and version: about two minutes on two cores
// with a cold build cache, then reused from the user's cache directory.
const (
	versitygwPackage = "github.com/versity/versitygw/cmd/versitygw"
	versitygwVersion = "v1.8.0"
	s3TestAccessKey  = "csc-test-access"
	s3TestSecretKey  = "csc-test-secret-0123456789"
)

type s3Server struct {
	endpoint string        // http://127.0.0.1:port
	dataDir  string        // the POSIX tree: <dataDir>/<bucket>/<key>
	raw      *minio.Client // direct access, to look at and damage what the store wrote
	buckets  atomic.Int64
}

var s3Once struct {
	sync.Once
	srv *s3Server
	err error
}

// testS3 returns the package's S3 server, starting it on first use.
func testS3(t *testing.T) *s3Server {
	t.Helper()
	s3Once.Do(func() { s3Once.srv, s3Once.err = startS3() })
	if s3Once.err != nil {
		t.Fatal(s3Once.err)
	}
	return s3Once.srv
}

func startS3() (*s3Server, error) {
	bin, err := versitygwBinary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "csc-versitygw-")
	if err != nil {
		return nil, err
	}
	atStop(func() { os.RemoveAll(dir) })
	// Objects are files under data/<bucket>/; their metadata goes to a sidecar tree rather than extended
	// attributes, which not every temporary file system supports.
	data, meta := filepath.Join(dir, "data"), filepath.Join(dir, "meta")
	for _, d := range []string{data, meta} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p, err := startProcess("versitygw", exec.Command(bin, "--port", addr, "--access", s3TestAccessKey,
		"--secret", s3TestSecretKey, "--region", "us-east-1", "--quiet", "posix", "--sidecar", meta, data))
	if err != nil {
		return nil, err
	}
	atStop(p.stop)
	raw, err := minio.New(addr, &minio.Options{
		Creds: credentials.NewStaticV4(s3TestAccessKey, s3TestSecretKey, ""), Region: "us-east-1", MaxRetries: 1})
	if err != nil {
		return nil, err
	}
	if err := p.waitReady(func(ctx context.Context) error { _, err := raw.ListBuckets(ctx); return err }); err != nil {
		return nil, err
	}
	return &s3Server{endpoint: "http://" + addr, dataDir: data, raw: raw}, nil
}

// versitygwBinary returns the cached gateway binary, building it first if needed. A lock file keeps two test
// processes from building it at once; the binary appears by rename, whole or not at all.
func versitygwBinary() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("versitygw: %w", err)
	}
	dir := filepath.Join(cache, "csc-smartservices", "versitygw-"+versitygwVersion)
	bin := filepath.Join(dir, "versitygw")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("versitygw: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("versitygw: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("versitygw: lock: %w", err)
	}
	if _, err := os.Stat(bin); err == nil { // built by another process while we waited
		return bin, nil
	}
	gobin, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("versitygw: %w", err)
	}
	defer os.RemoveAll(gobin)
	goTool, err := exec.LookPath("go") // go test puts its own toolchain first on PATH
	if err != nil {
		return "", fmt.Errorf("versitygw: build needs the go command: %w", err)
	}
	start := time.Now()
	build := exec.Command(goTool, "install", "-trimpath", "-ldflags=-s -w", versitygwPackage+"@"+versitygwVersion)
	// The gateway's own go.mod decides its dependencies; nothing of this module's settings applies.
	build.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
	build.WaitDelay = 10 * time.Second // should a helper the go command starts keep the output pipe open
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("versitygw: go install %s@%s: %v\n%s", versitygwPackage, versitygwVersion, err, out)
	}
	if err := os.Rename(filepath.Join(gobin, "versitygw"), bin); err != nil {
		return "", fmt.Errorf("versitygw: %w", err)
	}
	fmt.Fprintf(os.Stderr, "documents tests: built versitygw %s in %s, cached at %s\n", versitygwVersion,
		time.Since(start).Round(time.Second), bin)
	return bin, nil
}

// bucket creates a bucket of its own for the calling test.
func (s *s3Server) bucket(t *testing.T) string {
	t.Helper()
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(t.Name()))
	name = fmt.Sprintf("t%d-%s", s.buckets.Add(1), name)
	name = strings.TrimRight(name[:min(len(name), 63)], "-")
	if err := s.raw.MakeBucket(t.Context(), name, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket %s: %v", name, err)
	}
	return name
}

// ---- ClamAV: clamd ----

// eicar is the standard antivirus test file, assembled here so that no scanner quarantines this source file.
var eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$` + `EICAR-STANDARD-ANTIVIRUS-` + `TEST-FILE!$H+H*`

type clamdServer struct {
	tcp, unix string // CLAMD_ADDRESS for each listener
	proc      *process
	dir       string
}

var clamdOnce struct {
	sync.Once
	srv *clamdServer
	err error
}

var errNoClamd = errors.New("clamd is not installed")

// testClamd returns the package's clamd, starting it on first use.
func testClamd(t *testing.T) *clamdServer {
	t.Helper()
	clamdOnce.Do(func() {
		clamdOnce.srv, clamdOnce.err = startClamd()
		if clamdOnce.err == nil {
			atStop(clamdOnce.srv.stop)
		}
	})
	if errors.Is(clamdOnce.err, errNoClamd) {
		notInstalled(t, "clamd (Debian package clamav-daemon)")
	}
	if clamdOnce.err != nil {
		t.Fatal(clamdOnce.err)
	}
	return clamdOnce.srv
}

func clamdPath() (string, error) {
	if p, err := exec.LookPath("clamd"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/clamd"); err == nil { // sbin is not on every user's PATH
		return "/usr/sbin/clamd", nil
	}
	return "", errNoClamd
}

// startClamd runs a clamd of its own, in the foreground, on a Unix socket and a loopback TCP port, with a
// signature database of two lines written here: freshclam cannot reach the Internet, and the tests need to know
// exactly what is detected. The caller stops it. Streams are limited to 20 MB, above the 10 MB uploads.
func startClamd() (*clamdServer, error) {
	bin, err := clamdPath()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "csc-clamd-") // short: a socket path must fit in 108 bytes
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			os.RemoveAll(dir)
		}
	}()
	db := filepath.Join(dir, "db")
	if err := os.Mkdir(db, 0o700); err != nil {
		return nil, err
	}
	sum := md5.Sum([]byte(eicar))
	sigs := map[string]string{
		// The whole file (MD5:size:name), as in ClamAV's own test signature.
		"csc-test.hdb": fmt.Sprintf("%x:%d:Csc-Test-Eicar-File\n", sum, len(eicar)),
		// The string anywhere in any file, so that a long stream is known to have been scanned to its end.
		"csc-test.ndb": "Csc-Test-Eicar-Body:0:*:" + hex.EncodeToString([]byte(eicar)) + "\n",
	}
	for name, line := range sigs {
		if err := os.WriteFile(filepath.Join(db, name), []byte(line), 0o600); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, "clamd.sock")
	conf := filepath.Join(dir, "clamd.conf")
	err = os.WriteFile(conf, []byte(strings.Join([]string{
		"Foreground yes",
		"DatabaseDirectory " + db,
		"TemporaryDirectory " + dir,
		"LocalSocket " + sock,
		"TCPAddr 127.0.0.1",
		"TCPSocket " + strconv.Itoa(port),
		"StreamMaxLength 20M",
		"MaxThreads 4",
		"",
	}, "\n")), 0o600)
	if err != nil {
		return nil, err
	}
	p, err := startProcess("clamd", exec.Command(bin, "--config-file="+conf))
	if err != nil {
		return nil, err
	}
	s := &clamdServer{tcp: "tcp://127.0.0.1:" + strconv.Itoa(port), unix: "unix://" + sock, proc: p, dir: dir}
	for _, addr := range []string{s.unix, s.tcp} {
		if err := p.waitReady(NewClamd(addr).Ping); err != nil {
			p.stop()
			return nil, err
		}
	}
	started = true
	return s, nil
}

func (s *clamdServer) stop() {
	s.proc.stop()
	os.RemoveAll(s.dir)
}
