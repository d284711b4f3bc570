package devstack

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// tempDir is a data dir the server's user can reach even when we are root,
// which t.TempDir's 0700 parent is not.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "devstack-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func startPostgres(t *testing.T, o PostgresOptions) *Postgres {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = tempDir(t)
	}
	p, err := StartPostgres(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return p
}

func startRedis(t *testing.T, o RedisOptions) *Redis {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = tempDir(t)
	}
	r, err := StartRedis(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return r
}

func connect(t *testing.T, p *Postgres) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), p.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exec1(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func wantName(t *testing.T, p *Postgres, want string) {
	t.Helper()
	var got string
	if err := connect(t, p).QueryRow(t.Context(), "SELECT name FROM t").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("name = %q, want %q", got, want)
	}
}

func TestPostgresRestartKeepsData(t *testing.T) {
	t.Parallel()
	p := startPostgres(t, PostgresOptions{Fast: true})
	port := p.Port()
	if want := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port); p.URL("postgres") != want {
		t.Errorf("URL = %q, want %q", p.URL("postgres"), want)
	}
	conn := connect(t, p)
	exec1(t, conn, "CREATE TABLE t (name text)")
	exec1(t, conn, "INSERT INTO t VALUES ('kept')")
	var maxConn int
	if err := conn.QueryRow(t.Context(), "SELECT current_setting('max_connections')::int").Scan(&maxConn); err != nil {
		t.Fatal(err)
	}
	if maxConn < 300 {
		t.Errorf("max_connections = %d, want at least 300", maxConn)
	}

	if err := p.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(t.Context()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := pgx.Connect(t.Context(), p.URL("postgres")); err == nil {
		t.Fatal("connected to a stopped server")
	}
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if p.Port() != port {
		t.Errorf("port after restart = %d, want %d", p.Port(), port)
	}
	if err := p.Start(t.Context()); err == nil {
		t.Error("Start of a running server succeeded")
	}
	wantName(t, p, "kept")
}

// A second StartPostgres on the same data dir reuses the cluster instead of
// running initdb again.
func TestPostgresReusesDataDir(t *testing.T) {
	t.Parallel()
	p := startPostgres(t, PostgresOptions{Fast: true})
	exec1(t, connect(t, p), "CREATE TABLE t (name text); INSERT INTO t VALUES ('reused')")
	if err := p.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantName(t, startPostgres(t, PostgresOptions{DataDir: p.o.DataDir, Fast: true}), "reused")
}

// A server killed outright leaves its postmaster.pid behind; the next start
// recovers from the WAL.
func TestPostgresRecoversAfterKill(t *testing.T) {
	t.Parallel()
	// Not Fast: synchronous_commit=off could lose the row with the server.
	p := startPostgres(t, PostgresOptions{})
	exec1(t, connect(t, p), "CREATE TABLE t (name text); INSERT INTO t VALUES ('recovered')")
	if err := p.proc.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.proc.done // also waits for the backends, which share its output pipe
	if _, err := os.Stat(filepath.Join(p.o.DataDir, "postmaster.pid")); err != nil {
		t.Fatalf("no stale postmaster.pid to recover from: %v", err)
	}
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantName(t, p, "recovered")
}

func TestPostgresDataDirInUse(t *testing.T) {
	t.Parallel()
	p := startPostgres(t, PostgresOptions{Fast: true})
	_, err := StartPostgres(t.Context(), PostgresOptions{DataDir: p.o.DataDir, Fast: true})
	if err == nil || !strings.Contains(err.Error(), "in use by a running postgres") {
		t.Fatalf("second server on the same data dir: err = %v, want it in use", err)
	}
}

// After a container restart the pid in postmaster.pid may belong to another
// program, and PostgreSQL alone would refuse to start.
func TestPostgresPidReusedByOtherProgram(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	p := startPostgres(t, PostgresOptions{Fast: true, Log: &log})
	pidFile := filepath.Join(p.o.DataDir, "postmaster.pid")
	stale, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}

	other := exec.Command("sleep", "600")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	_, rest, _ := strings.Cut(string(stale), "\n")
	if err := os.WriteFile(pidFile, fmt.Appendf(nil, "%d\n%s", other.Process.Pid, rest), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(t.Context()); err != nil { // before reading log: the server writes to it
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "removing stale") {
		t.Errorf("log does not mention the stale postmaster.pid:\n%s", log.String())
	}
}

func TestPostgresUnreachableDataDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the server to another user")
	}
	t.Parallel()
	parent := tempDir(t) // 0700, owned by root
	_, err := StartPostgres(t.Context(), PostgresOptions{DataDir: filepath.Join(parent, "data"), Fast: true})
	if err == nil {
		t.Fatal("started with a data dir the server's user cannot reach")
	}
	for _, want := range []string{"devstack: start postgres:", "cannot enter " + parent, "outside /root"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestPostgresBinDir(t *testing.T) {
	tests := []struct {
		name     string
		versions []string // each gets bin/postgres and bin/initdb
		broken   []string // each gets bin/postgres only
		want     string
	}{
		{name: "highest", versions: []string{"15", "17", "16"}, want: "17"},
		{name: "numeric, not lexical", versions: []string{"9.6", "10"}, want: "10"},
		{name: "skips incomplete", versions: []string{"15"}, broken: []string{"17"}, want: "15"},
		{name: "skips non-versions", versions: []string{"16", "latest"}, want: "16"},
		{name: "none", broken: []string{"17"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			mk := func(ver string, names ...string) {
				bin := filepath.Join(root, ver, "bin")
				if err := os.MkdirAll(bin, 0o755); err != nil {
					t.Fatal(err)
				}
				for _, n := range names {
					if err := os.WriteFile(filepath.Join(bin, n), nil, 0o755); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, v := range tt.versions {
				mk(v, "postgres", "initdb")
			}
			for _, v := range tt.broken {
				mk(v, "postgres")
			}
			got, err := postgresBinDir(root)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("got %s, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(root, tt.want, "bin"); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func TestPostgresBinDirFromEnv(t *testing.T) {
	bin, err := PostgresBinDir()
	if err != nil {
		t.Skip(err)
	}
	t.Setenv("PG_BINDIR", bin)
	if got, err := PostgresBinDir(); err != nil || got != bin {
		t.Errorf("with PG_BINDIR=%s: got %q, %v", bin, got, err)
	}
	t.Setenv("PG_BINDIR", t.TempDir())
	if _, err := PostgresBinDir(); err == nil {
		t.Error("PG_BINDIR without postgres accepted")
	}
}

func TestRedis(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		persist bool
		want    error // from GET after a restart
	}{
		{persist: false, want: redis.Nil},
		{persist: true},
	} {
		t.Run(fmt.Sprintf("persist=%v", tt.persist), func(t *testing.T) {
			t.Parallel()
			r := startRedis(t, RedisOptions{Persist: tt.persist})
			opts, err := redis.ParseURL(r.URL())
			if err != nil {
				t.Fatal(err)
			}
			c := redis.NewClient(opts)
			t.Cleanup(func() { c.Close() })
			if err := c.Set(t.Context(), "k", "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
			if err := r.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := r.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			got, err := c.Get(t.Context(), "k").Result()
			if !errors.Is(err, tt.want) {
				t.Fatalf("GET after restart: %q, %v; want error %v", got, err, tt.want)
			}
			if tt.want == nil && got != "v" {
				t.Errorf("GET after restart = %q, want v", got)
			}
		})
	}
}

// A server that fails to start says why, in its own words, even when another
// server answers on the port it wanted.
func TestRedisPortTaken(t *testing.T) {
	t.Parallel()
	other := startRedis(t, RedisOptions{})
	_, err := StartRedis(t.Context(), RedisOptions{DataDir: tempDir(t), Port: other.o.Port})
	if err == nil || !strings.Contains(err.Error(), "Address already in use") {
		t.Fatalf("start on a taken port: err = %v, want the server's bind error", err)
	}
}

func TestFreePort(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("port %d is not bindable: %v", port, err)
	}
	l.Close()
}

func TestEnsureInstalledWhenPresent(t *testing.T) {
	_, pgErr := PostgresBinDir()
	_, redisErr := redisServerPath()
	if err := errors.Join(pgErr, redisErr); err != nil {
		t.Skip("would install packages:", err)
	}
	var out bytes.Buffer
	if err := EnsureInstalled(t.Context(), &out); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("did something with everything installed:\n%s", out.String())
	}
}

// When the parent process dies, so do its servers.
func TestServersDieWithParent(t *testing.T) {
	t.Parallel()
	helper := exec.Command(os.Args[0], "-test.run=^TestHelperParent$")
	helper.Env = append(os.Environ(), "DEVSTACK_HELPER_DIRS="+tempDir(t)+":"+tempDir(t))
	helper.Stderr = os.Stderr
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { helper.Process.Kill(); helper.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("helper gave no pids: %v", err)
	}
	var pgPid, redisPid int
	if _, err := fmt.Sscan(line, &pgPid, &redisPid); err != nil {
		t.Fatalf("helper said %q: %v", line, err)
	}
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	helper.Wait()

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for alive(pgPid) || alive(redisPid) {
		select {
		case <-ctx.Done():
			t.Fatalf("servers outlived their parent: postgres %d alive %v, redis %d alive %v",
				pgPid, alive(pgPid), redisPid, alive(redisPid))
		case <-tick.C:
		}
	}
}

// alive reports whether pid runs; an unreaped zombie counts as dead, since a
// container's init may never reap it.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, after, _ := bytes.Cut(stat, []byte(") "))
	return !bytes.HasPrefix(after, []byte("Z"))
}

// TestHelperParent is the parent process TestServersDieWithParent kills.
func TestHelperParent(t *testing.T) {
	dirs := os.Getenv("DEVSTACK_HELPER_DIRS")
	if dirs == "" {
		t.Skip("helper process for TestServersDieWithParent")
	}
	pgDir, redisDir, _ := strings.Cut(dirs, ":")
	p, err := StartPostgres(t.Context(), PostgresOptions{DataDir: pgDir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	r, err := StartRedis(t.Context(), RedisOptions{DataDir: redisDir})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%d %d\n", p.proc.cmd.Process.Pid, r.proc.cmd.Process.Pid)
	<-t.Context().Done() // killed long before
}
