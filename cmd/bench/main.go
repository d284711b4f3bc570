// Command bench is `make bench`: it starts a real PostgreSQL, Redis and the portal on loopback, measures the portal
// with wrk, and measures baselines in the same run — a bare Fiber handler, redis-benchmark, pgbench — so the
// figures are ratios that mean something on a shared, noisy machine.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/notifications"
	"github.com/comunitasocialecremasca/smartservices/portal"
	"github.com/comunitasocialecremasca/smartservices/portal/auth"
	"github.com/comunitasocialecremasca/smartservices/portal/config"
	"github.com/comunitasocialecremasca/smartservices/portal/devstack"
	"github.com/comunitasocialecremasca/smartservices/portal/documents"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

const (
	duration    = "10s"
	connections = "64"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("wrk not found: run `make bench`, which installs it")
	}
	dir, err := os.MkdirTemp("", "portal-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	pg, err := devstack.StartPostgres(ctx, devstack.PostgresOptions{DataDir: filepath.Join(dir, "pg"), Log: io.Discard})
	if err != nil {
		return err
	}
	defer pg.Stop(context.Background()) //nolint:errcheck
	rd, err := devstack.StartRedis(ctx, devstack.RedisOptions{DataDir: filepath.Join(dir, "redis"), Log: io.Discard})
	if err != nil {
		return err
	}
	defer rd.Stop(context.Background()) //nolint:errcheck

	fmt.Println("== CSC Smart Services benchmark: one machine, one run; ratios against baselines measured alongside ==")

	// Baselines.
	bare, err := startBareFiber()
	if err != nil {
		return err
	}
	bareRes, err := wrk(bare+"/", nil)
	if err != nil {
		return err
	}
	redisOps, err := redisBenchmark(rd.Port())
	if err != nil {
		return err
	}
	if err := pgbenchInit(ctx, pg); err != nil {
		return err
	}

	// The portal, as deployed: real config, Redis sessions, PostgreSQL, access log formatted (to nowhere).
	base, db, err := startPortal(ctx, pg, rd, dir)
	if err != nil {
		return err
	}
	cookie, err := sessionCookie(base + "/lingua")
	if err != nil {
		return err
	}
	// BENCH_CPUPROFILE=file writes a CPU profile of the portal run, for `go tool pprof`.
	if path := os.Getenv("BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer f.Close()
	}
	home, err := wrk(base+"/", map[string]string{"Cookie": cookie, "Accept-Encoding": "gzip", "Accept-Language": "it"})
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	// A page that loads the visitor's session from Redis on every request (the language page shows the choice
	// stored there): what every signed-in page will cost.
	withSession, err := wrk(base+"/lingua", map[string]string{"Cookie": cookie, "Accept-Encoding": "gzip", "Accept-Language": "it"})
	if err != nil {
		return err
	}
	first, parts, err := firstLoad(base)
	if err != nil {
		return err
	}
	// pgbench runs right before the submissions (once their residents and drafts are ready) and again right after,
	// on the database they just grew: the machine's load drifts, and the submissions are compared with the mean of
	// the two measures that bracket them.
	pgDir := filepath.Join(dir, "pg")
	var pgBefore pgbenchResult
	var pgCPU0, selfCPU0 float64
	sub, err := benchSubmissions(ctx, base, db.Pool, func() (err error) {
		if pgBefore, err = pgbench(ctx, pg, pgDir); err != nil {
			return err
		}
		selfCPU0 = selfCPU()
		pgCPU0, err = postgresCPU(pgDir)
		return err
	})
	if err != nil {
		return fmt.Errorf("submissions: %w", err)
	}
	pgCPU1, err := postgresCPU(pgDir)
	if err != nil {
		return err
	}
	subPgMs := (pgCPU1 - pgCPU0) * 1000 / float64(max(sub.ok, 1))
	subSelfMs := (selfCPU() - selfCPU0) * 1000 / float64(max(sub.ok, 1))
	pgAfter, err := pgbench(ctx, pg, pgDir)
	if err != nil {
		return err
	}
	pgTPS := (pgBefore.tps + pgAfter.tps) / 2
	pgMs := (pgBefore.cpuMs + pgAfter.cpuMs) / 2
	book, err := benchBookings(ctx, base, db)
	if err != nil {
		return fmt.Errorf("bookings: %w", err)
	}

	ratio := home.rps / bareRes.rps
	fmt.Printf("\n%-48s %10.0f req/s   p99 %6.2f ms\n", "baseline: bare Fiber handler", bareRes.rps, bareRes.p99ms)
	fmt.Printf("%-48s %10.0f ops/s\n", "baseline: redis-benchmark GET (50 clients)", redisOps)
	fmt.Printf("%-48s %10.0f tps   (%.0f before the submissions, %.0f after; server CPU %.2f ms/txn)\n",
		"baseline: pgbench TPC-B (16 clients)", pgTPS, pgBefore.tps, pgAfter.tps, pgMs)
	fmt.Printf("%-48s %10.0f req/s   p99 %6.2f ms\n", "portal: home page (visitor with session cookie)", home.rps, home.p99ms)
	fmt.Printf("%-48s %10.0f req/s   p99 %6.2f ms\n", "portal: page loading the Redis session", withSession.rps, withSession.p99ms)
	fmt.Printf("\n%-48s %10.3f   target >= 0.25   %s\n", "ratio home / bare Fiber (req/s)", ratio, verdict(ratio >= 0.25))
	fmt.Printf("%-48s %10.3f\n", "ratio page with Redis session / bare Fiber", withSession.rps/bareRes.rps)
	fmt.Printf("%-48s %8.1f KB (%s)   target <= 50 KB   %s\n", "first load of the home page, compressed",
		float64(first)/1024, parts, verdict(first <= 50*1024))
	fmt.Printf("\n%-48s %10.0f subm/s  p99 %6.2f ms   (%d clients, %d received, %d refused)\n",
		"portal: durable submissions (full HTTP path)", sub.rps, sub.p99ms, submitClients, sub.ok, sub.failed)
	subRatio := sub.rps / pgTPS
	fmt.Printf("%-48s PostgreSQL %.2f ms, portal and clients %.2f ms; PostgreSQL ratio to a TPC-B txn %.2f\n",
		"CPU per submission", subPgMs, subSelfMs, subPgMs/pgMs)
	fmt.Printf("%-48s %10.3f   target >= 0.5    %s\n", "ratio submissions / pgbench TPC-B (tps)", subRatio, verdict(subRatio >= 0.5))
	fmt.Printf("%-48s lost %d, duplicated %d, protocol gaps %d, retried submit unchanged: %v   %s\n", "submissions checked in PostgreSQL",
		sub.lost, sub.dup, sub.gap, sub.resubmitSame, verdict(sub.lost == 0 && sub.dup == 0 && sub.gap == 0 && sub.resubmitSame))
	book.print(pgTPS)
	if n := home.errors + withSession.errors; n > 0 {
		fmt.Printf("portal non-2xx/3xx responses or socket errors during the runs: %d\n", n)
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func startBareFiber() (string, error) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/", func(c *fiber.Ctx) error { return c.SendString("ok") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go app.Listener(ln) //nolint:errcheck // lives as long as the benchmark
	return "http://" + ln.Addr().String(), nil
}

func startPortal(ctx context.Context, pg *devstack.Postgres, rd *devstack.Redis, dir string) (string, *storage.DB, error) {
	vars := map[string]string{
		"DATABASE_URL": pg.URL("postgres"), "REDIS_URL": rd.URL(), "SESSION_SECRET": strings.Repeat("b", 40),
		"LOG_LEVEL": "info", "DOCUMENTS_DIR": filepath.Join(dir, "documents"),
		// the submission benchmark's residents each have an address of their own (X-Forwarded-For from loopback)
		"TRUSTED_PROXIES": "127.0.0.1", "FORM_RATE_LIMIT": "100000", "DB_MAX_CONNS": "40",
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		return "", nil, err
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return "", nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		return "", nil, err
	}
	if _, err := db.Seed(ctx, time.Now().In(i18n.Rome), auth.HashPassword); err != nil {
		return "", nil, err
	}
	opt, _ := redis.ParseURL(cfg.RedisURL)
	bundle, err := i18n.New()
	if err != nil {
		return "", nil, err
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	outbox, err := notifications.NewOutbox(db.Pool, cfg.Notify.MaxAttempts, log)
	if err != nil {
		return "", nil, err
	}
	store, err := documents.Open(ctx, cfg.Documents, cfg.SessionSecret)
	if err != nil {
		return "", nil, err
	}
	srv, err := portal.New(portal.Deps{Config: cfg, DB: db, Redis: redis.NewClient(opt), I18n: bundle,
		Log: log, Registry: prometheus.NewRegistry(), Outbox: outbox, Documents: store})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go srv.Serve(ln) //nolint:errcheck
	return "http://" + ln.Addr().String(), db, nil
}

// sessionCookie visits a page with a session once, as a browser would, and returns the cookie it was given.
func sessionCookie(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == portal.SessionCookie {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", fmt.Errorf("no session cookie")
}

type wrkResult struct {
	rps, p99ms float64
	errors     int
}

var (
	rpsRe    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	p99Re    = regexp.MustCompile(`\s99%\s+([0-9.]+)(us|ms|s)`)
	errorsRe = regexp.MustCompile(`(?:Non-2xx or 3xx responses|Socket errors: connect) ?:?\s*(\d+)`)
)

// wrk loads url from 2 threads and 64 connections, after a short warm-up, and reads req/s and p99.
func wrk(url string, headers map[string]string) (wrkResult, error) {
	args := []string{"-t2", "-c" + connections, "--latency"}
	for k, v := range headers {
		args = append(args, "-H", k+": "+v)
	}
	if out, err := exec.Command("wrk", append(append([]string{}, args...), "-d2s", url)...).CombinedOutput(); err != nil {
		return wrkResult{}, fmt.Errorf("wrk warm-up: %v: %s", err, out)
	}
	out, err := exec.Command("wrk", append(args, "-d"+duration, url)...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	var r wrkResult
	if m := rpsRe.FindSubmatch(out); m != nil {
		r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	if m := p99Re.FindSubmatch(out); m != nil {
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		r.p99ms = map[string]float64{"us": v / 1000, "ms": v, "s": v * 1000}[string(m[2])]
	}
	for _, m := range errorsRe.FindAllSubmatch(out, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		r.errors += n
	}
	if r.rps == 0 {
		return r, fmt.Errorf("wrk printed no rate:\n%s", out)
	}
	return r, nil
}

func redisBenchmark(port int) (float64, error) {
	out, err := exec.Command("redis-benchmark", "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-q", "-t", "get",
		"-n", "200000", "-c", "50").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("redis-benchmark: %v: %s", err, out)
	}
	// "GET: 123456.79 requests per second, p50=0.199 msec"; the output may contain progress lines with \r.
	m := regexp.MustCompile(`GET: ([0-9.]+) requests per second`).FindAllSubmatch(out, -1)
	if m == nil {
		return 0, fmt.Errorf("redis-benchmark printed no rate: %s", out)
	}
	return strconv.ParseFloat(string(m[len(m)-1][1]), 64)
}

// pgbenchResult is pgbench's rate and what one of its transactions cost the server, in processor milliseconds.
type pgbenchResult struct{ tps, cpuMs float64 }

// pgbenchInit creates pgbench's tables (scale 4) in the portal's database.
func pgbenchInit(ctx context.Context, pg *devstack.Postgres) error {
	bin, err := devstack.PostgresBinDir()
	if err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, filepath.Join(bin, "pgbench"), "-i", "-q", "-s", "4", pg.URL("postgres")).CombinedOutput(); err != nil {
		return fmt.Errorf("pgbench -i: %v: %s", err, out)
	}
	return nil
}

// pgbench runs TPC-B with 16 clients for 10 s.
func pgbench(ctx context.Context, pg *devstack.Postgres, dataDir string) (pgbenchResult, error) {
	var r pgbenchResult
	bin, err := devstack.PostgresBinDir()
	if err != nil {
		return r, err
	}
	url := pg.URL("postgres")
	cpu0, err := postgresCPU(dataDir)
	if err != nil {
		return r, err
	}
	out, err := exec.CommandContext(ctx, filepath.Join(bin, "pgbench"), "-c", "16", "-j", "2", "-T", "10", url).CombinedOutput()
	if err != nil {
		return r, fmt.Errorf("pgbench: %v: %s", err, out)
	}
	cpu1, err := postgresCPU(dataDir)
	if err != nil {
		return r, err
	}
	m := regexp.MustCompile(`tps = ([0-9.]+)`).FindSubmatch(out)
	n := regexp.MustCompile(`transactions actually processed: ([0-9]+)`).FindSubmatch(out)
	if m == nil || n == nil {
		return r, fmt.Errorf("pgbench printed no tps: %s", out)
	}
	r.tps, _ = strconv.ParseFloat(string(m[1]), 64)
	txns, _ := strconv.ParseFloat(string(n[1]), 64)
	r.cpuMs = (cpu1 - cpu0) * 1000 / max(txns, 1)
	return r, nil
}

var (
	linkRe = regexp.MustCompile(`(?:href|src)="(/assets/[^"#]+)`)
	urlRe  = regexp.MustCompile(`url\((/assets/[^)]+)\)`)
)

// firstLoad adds up the compressed bytes a first visit downloads: the page, every asset it links (stylesheet,
// icon sprite, favicon) and every font the stylesheet can request. Fonts the page may never use are counted too,
// so the figure is an upper bound.
func firstLoad(base string) (int, string, error) {
	seen := map[string]bool{}
	sizes := map[string]int{}
	var fetch func(path string) error
	fetch = func(path string) error {
		if seen[path] {
			return nil
		}
		seen[path] = true
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Accept-Encoding", "gzip") // set by hand, so the client leaves the body compressed
		req.Header.Set("Accept-Language", "it")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: status %d", path, resp.StatusCode)
		}
		kind := "html"
		switch {
		case strings.HasSuffix(path, ".css"):
			kind = "css"
		case strings.HasSuffix(path, ".woff2"):
			kind = "fonts"
		case strings.HasSuffix(path, ".svg"):
			kind = "icons"
		}
		sizes[kind] += len(body)
		text := string(body)
		if resp.Header.Get("Content-Encoding") == "gzip" {
			text, err = gunzip(body)
			if err != nil {
				return err
			}
		}
		var refs []string
		for _, m := range linkRe.FindAllStringSubmatch(text, -1) {
			refs = append(refs, m[1])
		}
		for _, m := range urlRe.FindAllStringSubmatch(text, -1) {
			refs = append(refs, m[1])
		}
		for _, r := range refs {
			if err := fetch(r); err != nil {
				return err
			}
		}
		return nil
	}
	if err := fetch("/"); err != nil {
		return 0, "", err
	}
	total := 0
	var parts []string
	for _, k := range []string{"html", "css", "fonts", "icons"} {
		total += sizes[k]
		parts = append(parts, fmt.Sprintf("%s %.1f", k, float64(sizes[k])/1024))
	}
	return total, strings.Join(parts, ", "), nil
}

func gunzip(b []byte) (string, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	out, err := io.ReadAll(zr)
	return string(out), err
}
