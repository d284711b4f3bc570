package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// PostgresOptions configures StartPostgres.
type PostgresOptions struct {
	// DataDir holds the cluster. It is created and initialised when it has
	// no PG_VERSION, and reused as it is otherwise.
	DataDir string
	// Port to listen on at 127.0.0.1; 0 picks a free one.
	Port int
	// Fast turns off fsync, synchronous_commit and full_page_writes: quick
	// and crash-unsafe, for tests.
	Fast bool
	// Log receives the server's output; nil means postgres.log in DataDir.
	Log io.Writer
}

// Postgres is a PostgreSQL server run as a child process. Its superuser is
// "postgres" and any loopback client is trusted without a password.
// Start and Stop must not be called concurrently; URL and Port may.
type Postgres struct {
	o    PostgresOptions // DataDir absolute, Port chosen
	bin  string
	cred *syscall.Credential // set when we are root and must not run as it
	proc *child
}

// StartPostgres starts a PostgreSQL server and returns once it accepts
// connections.
func StartPostgres(ctx context.Context, o PostgresOptions) (*Postgres, error) {
	p, err := newPostgres(o)
	if err != nil {
		return nil, fmt.Errorf("devstack: start postgres: %w", err)
	}
	if err := p.Start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

func newPostgres(o PostgresOptions) (*Postgres, error) {
	if o.DataDir == "" {
		return nil, errors.New("no data dir")
	}
	dir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, err
	}
	o.DataDir = dir
	bin, err := PostgresBinDir()
	if err != nil {
		return nil, err
	}
	if o.Port == 0 {
		if o.Port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	p := &Postgres{o: o, bin: bin}
	if os.Geteuid() != 0 {
		return p, os.MkdirAll(dir, 0o700)
	}
	name, cred, err := postgresUser()
	if err != nil {
		return nil, err
	}
	p.cred = cred
	// New parents get 0755 so that the server's user can pass through them;
	// the data dir itself stays private, as PostgreSQL insists.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	if err := checkReachable(dir, name, cred); err != nil {
		return nil, err
	}
	return p, os.Chown(dir, int(cred.Uid), int(cred.Gid))
}

// postgresUser picks the account PostgreSQL runs as when we are root, since
// it refuses to run as root. "postgres" is the account the distribution
// package creates to own clusters; "nobody" is only the fallback for a
// PG_BINDIR build without it, as files owned by nobody are writable by every
// other service that runs as nobody.
func postgresUser() (string, *syscall.Credential, error) {
	var errs []error
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err := errors.Join(err1, err2); err != nil {
			return "", nil, fmt.Errorf("user %s: %w", name, err)
		}
		// No supplementary groups: root's must not leak to the server.
		return name, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
	}
	return "", nil, fmt.Errorf("no unprivileged user to run postgres as: %w", errors.Join(errs...))
}

// checkReachable fails clearly when cred cannot search every parent of dir,
// which PostgreSQL would otherwise report as a bare "permission denied".
// It reads the mode bits; ACLs are not considered.
func checkReachable(dir, account string, cred *syscall.Credential) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		bit := fs.FileMode(0o001)
		switch {
		case st.Uid == cred.Uid:
			bit = 0o100
		case st.Gid == cred.Gid:
			bit = 0o010
		}
		if fi.Mode().Perm()&bit == 0 {
			return fmt.Errorf("data dir %s is not reachable by user %s, which postgres runs as because we are root: "+
				"it cannot enter %s (mode %v); use a data dir outside /root, e.g. one made by os.MkdirTemp(\"\", ...)",
				dir, account, p, fi.Mode().Perm())
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// URL returns a connection URL for database dbname as the superuser.
func (p *Postgres) URL(dbname string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.o.Port, url.PathEscape(dbname))
}

// Port returns the TCP port the server listens on at 127.0.0.1.
func (p *Postgres) Port() int { return p.o.Port }

// Start starts the server again on the same port and data dir, after Stop or
// after it died, and returns once it accepts connections.
func (p *Postgres) Start(ctx context.Context) error {
	if err := p.start(ctx); err != nil {
		return fmt.Errorf("devstack: start postgres: %w", err)
	}
	return nil
}

func (p *Postgres) start(ctx context.Context) error {
	if p.proc != nil && !p.proc.exited() {
		return errors.New("already running")
	}
	initOut, err := p.initdb(ctx)
	if err != nil {
		return err
	}
	log, closeLog, err := openLog(p.o.Log, filepath.Join(p.o.DataDir, "postgres.log"))
	if err != nil {
		return err
	}
	_, _ = log.Write(initOut)
	if err := checkPidFile(p.o.DataDir, log); err != nil {
		closeLog()
		return err
	}

	args := []string{
		"-D", p.o.DataDir,
		"-p", strconv.Itoa(p.o.Port),
		"-c", "listen_addresses=127.0.0.1",
		// TCP only: a socket under a deep data dir can pass the 107-byte
		// limit on socket paths, and the system socket dir is not ours.
		"-c", "unix_socket_directories=",
		// Benchmarks run 200 clients, plus the app's own pools.
		"-c", "max_connections=300",
	}
	if p.o.Fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	// Not CommandContext: the server outlives the start's context.
	cmd := p.asServerUser(exec.Command(filepath.Join(p.bin, "postgres"), args...))
	// SIGINT is PostgreSQL's fast shutdown: clients are disconnected and
	// everything committed is flushed.
	proc, err := spawn(cmd, syscall.SIGINT, log, closeLog)
	if err != nil {
		return err
	}
	p.proc = proc
	if err := proc.waitReady(ctx, p.ping); err != nil {
		_ = proc.shutdown(context.WithoutCancel(ctx))
		return err
	}
	return nil
}

// asServerUser runs cmd as the server's user, from the data dir: the
// inherited working directory (say /root) may be closed to that user.
func (p *Postgres) asServerUser(cmd *exec.Cmd) *exec.Cmd {
	cmd.Dir = p.o.DataDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	return cmd
}

// initdb creates the cluster unless the data dir already holds one, and
// returns initdb's output for the server log.
func (p *Postgres) initdb(ctx context.Context) ([]byte, error) {
	_, err := os.Stat(filepath.Join(p.o.DataDir, "PG_VERSION"))
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	// C.UTF-8 sorts like C but knows what a letter is; some minimal systems
	// lack it, and initdb then names the locale in its error.
	locale := "C.UTF-8"
	for {
		args := []string{"-D", p.o.DataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=" + locale}
		if p.o.Fast {
			args = append(args, "--no-sync")
		}
		out, err := p.asServerUser(exec.CommandContext(ctx, filepath.Join(p.bin, "initdb"), args...)).CombinedOutput()
		if err == nil {
			return out, nil
		}
		if locale == "C" || ctx.Err() != nil || !bytes.Contains(out, []byte("locale")) {
			return nil, fmt.Errorf("initdb: %w\n%s", err, out)
		}
		locale = "C"
	}
}

// checkPidFile looks at a postmaster.pid left by a run that did not stop
// cleanly. When its process is gone PostgreSQL ignores the file and recovers
// from its WAL, so it is left alone. When the process is a live postgres, the
// data dir is in use and this says so. When the pid now belongs to something
// else, as after a container restart, PostgreSQL would refuse to start, so
// the file is removed.
func checkPidFile(dir string, w io.Writer) error {
	path := filepath.Join(dir, "postmaster.pid")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return nil // malformed: PostgreSQL reports it in its own words
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return nil
	}
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	switch name := strings.TrimSpace(string(comm)); name {
	case "postgres", "postmaster":
		return fmt.Errorf("data dir %s is in use by a running postgres (pid %d); stop it first", dir, pid)
	default:
		fmt.Fprintf(w, "devstack: removing stale %s: pid %d is now %q\n", path, pid, name)
		return os.Remove(path)
	}
}

// ping checks that the server answers, and that it is ours: when the port
// was taken, another server may answer while ours fails to bind it.
func (p *Postgres) ping(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var dir string
	if err := conn.QueryRow(ctx, "SELECT current_setting('data_directory')").Scan(&dir); err != nil {
		return err
	}
	if dir != p.o.DataDir {
		return fmt.Errorf("port %d is served by another postgres (data dir %s)", p.o.Port, dir)
	}
	return nil
}

// Stop shuts the server down cleanly (fast mode: clients are disconnected)
// and waits for it to exit. Stopping a stopped server does nothing.
func (p *Postgres) Stop(ctx context.Context) error {
	if p.proc == nil {
		return nil
	}
	if err := p.proc.shutdown(ctx); err != nil {
		return fmt.Errorf("devstack: stop postgres: %w", err)
	}
	return nil
}
