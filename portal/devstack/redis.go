package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// RedisOptions configures StartRedis.
type RedisOptions struct {
	// DataDir is the server's working directory, where it keeps its
	// snapshot and append-only file when Persist is set.
	DataDir string
	// Port to listen on at 127.0.0.1; 0 picks a free one.
	Port int
	// Persist keeps data across restarts (RDB snapshots and AOF), for
	// `make run`. Without it the server starts empty every time, as tests
	// want.
	Persist bool
	// Log receives the server's output; nil means redis.log in DataDir.
	Log io.Writer
}

// Redis is a redis-server run as a child process, without a password.
// Start and Stop must not be called concurrently; URL may.
type Redis struct {
	o    RedisOptions // DataDir absolute, Port chosen
	bin  string
	proc *child
}

// StartRedis starts a Redis server and returns once it answers PING.
func StartRedis(ctx context.Context, o RedisOptions) (*Redis, error) {
	r, err := newRedis(o)
	if err != nil {
		return nil, fmt.Errorf("devstack: start redis: %w", err)
	}
	if err := r.Start(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func newRedis(o RedisOptions) (*Redis, error) {
	if o.DataDir == "" {
		return nil, errors.New("no data dir")
	}
	dir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, err
	}
	o.DataDir = dir
	bin, err := redisServerPath()
	if err != nil {
		return nil, err
	}
	if o.Port == 0 {
		if o.Port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	return &Redis{o: o, bin: bin}, os.MkdirAll(dir, 0o700)
}

// Port is the TCP port Redis listens on.
func (r *Redis) Port() int { return r.o.Port }

// URL is the server's address as a redis:// URL.
func (r *Redis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.o.Port) }

// Start starts the server again on the same port and data dir, after Stop or
// after it died, and returns once it answers PING.
func (r *Redis) Start(ctx context.Context) error {
	if err := r.start(ctx); err != nil {
		return fmt.Errorf("devstack: start redis: %w", err)
	}
	return nil
}

func (r *Redis) start(ctx context.Context) error {
	if r.proc != nil && !r.proc.exited() {
		return errors.New("already running")
	}
	log, closeLog, err := openLog(r.o.Log, filepath.Join(r.o.DataDir, "redis.log"))
	if err != nil {
		return err
	}
	args := []string{
		"--bind", "127.0.0.1",
		"--port", strconv.Itoa(r.o.Port),
		"--dir", r.o.DataDir,
		"--daemonize", "no",
		"--protected-mode", "yes",
	}
	if r.o.Persist {
		// RDB keeps redis-server's default save points.
		args = append(args, "--appendonly", "yes")
	} else {
		args = append(args, "--save", "", "--appendonly", "no")
	}
	// Not CommandContext: the server outlives the start's context.
	cmd := exec.Command(r.bin, args...)
	cmd.Dir = r.o.DataDir
	// SIGTERM is redis-server's clean shutdown, saving first when persistent.
	proc, err := spawn(cmd, syscall.SIGTERM, log, closeLog)
	if err != nil {
		return err
	}
	r.proc = proc
	if err := proc.waitReady(ctx, r.ping); err != nil {
		_ = proc.shutdown(context.WithoutCancel(ctx))
		return err
	}
	return nil
}

// ping checks that the server answers, and that it is ours: when the port
// was taken, another server may answer while ours fails to bind it.
func (r *Redis) ping(ctx context.Context) error {
	c := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:" + strconv.Itoa(r.o.Port),
		MaxRetries:            -1, // waitReady does the retrying
		ContextTimeoutEnabled: true,
	})
	defer c.Close()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return err
	}
	if want := "process_id:" + strconv.Itoa(r.proc.cmd.Process.Pid) + "\r\n"; !strings.Contains(info, want) {
		return fmt.Errorf("port %d is served by another redis-server", r.o.Port)
	}
	return nil
}

// Stop shuts the server down cleanly and waits for it to exit. Stopping a
// stopped server does nothing.
func (r *Redis) Stop(ctx context.Context) error {
	if r.proc == nil {
		return nil
	}
	if err := r.proc.shutdown(ctx); err != nil {
		return fmt.Errorf("devstack: stop redis: %w", err)
	}
	return nil
}
