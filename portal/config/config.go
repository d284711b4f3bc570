// Package config reads the portal's configuration from environment variables and validates it once, at start,
// with one clear message per bad value.
package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is everything the portal reads from its environment. The README's configuration table lists the same
// variables; TestREADMEListsEveryVariable keeps the two in step.
type Config struct {
	ListenAddr      string        // LISTEN_ADDR
	BaseURL         *url.URL      // BASE_URL: the public address, used for links in messages
	DatabaseURL     string        // DATABASE_URL
	DBMaxConns      int32         // DB_MAX_CONNS
	RedisURL        string        // REDIS_URL (single server)
	RedisAddrs      []string      // REDIS_ADDRS (Sentinel or Cluster)
	RedisMasterName string        // REDIS_MASTER_NAME (Sentinel)
	RedisPassword   string        // REDIS_PASSWORD (with REDIS_ADDRS)
	RedisPrefix     string        // REDIS_PREFIX
	SessionSecret   []byte        // SESSION_SECRET
	SessionIdle     time.Duration // SESSION_IDLE
	SessionMax      time.Duration // SESSION_MAX
	TrustedProxies  []string      // TRUSTED_PROXIES
	BodyLimit       int           // BODY_LIMIT
	FormRateLimit   int           // FORM_RATE_LIMIT: state-changing requests per minute per client address
	ShutdownDrain   time.Duration // SHUTDOWN_DRAIN
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT
	MetricsAllow    []netip.Prefix
	LogLevel        string // LOG_LEVEL
	LogFormat       string // LOG_FORMAT

	Notify Notify // SMTP_*, SMS_*, NOTIFY_*: how messages reach residents

	Identity Identity // OIDC_*, EMAIL_SIGNIN: how residents sign in

	Documents Documents // DOCUMENTS_*, S3_*, CLAMD_ADDRESS: where uploaded files are kept and how they are checked

	Video Video // STUN_URLS, TURN_*, JITSI_*: the video rooms of online colloqui
}

// Video configures the rooms of online appointments: the ICE servers the browsers use to reach each other
// (STUN to learn their public address, TURN to relay when no direct path exists), or a self-hosted Jitsi.
type Video struct {
	STUNURLs       []string // STUN_URLS: stun: or stuns: URLs
	TURNURLs       []string // TURN_URLS: turn: or turns: URLs
	TURNUsername   string   // TURN_USERNAME: a fixed TURN account
	TURNCredential string   // TURN_CREDENTIAL
	TURNSecret     string   // TURN_SECRET: coturn's static-auth-secret, for short-lived credentials instead
	JitsiURL       string   // JITSI_URL: https:// base of a self-hosted Jitsi Meet; empty: the portal's own rooms
	JitsiAppID     string   // JITSI_APP_ID: the JWT issuer Jitsi accepts
	JitsiAppSecret string   // JITSI_APP_SECRET: the HS256 key Jitsi verifies tokens with
}

// Documents configures the storage and checks of uploaded files.
type Documents struct {
	Store          string // DOCUMENTS_STORE: "file" (one node, or a shared volume) or "s3"
	Dir            string // DOCUMENTS_DIR: the file store's directory, outside any web root
	Key            []byte // DOCUMENTS_KEY: 32 bytes for AES-256-GCM at rest; nil: derived from SESSION_SECRET
	MaxFileBytes   int64  // DOCUMENTS_MAX_FILE: per file
	MaxApplication int64  // DOCUMENTS_MAX_APPLICATION: all files of one application
	S3Endpoint     string // S3_ENDPOINT: https://host[:port] of an S3-compatible service
	S3Bucket       string // S3_BUCKET
	S3Region       string // S3_REGION
	S3AccessKey    string // S3_ACCESS_KEY
	S3SecretKey    string // S3_SECRET_KEY
	ClamdAddress   string // CLAMD_ADDRESS: tcp://host:port or unix:///path of clamd; empty: no virus scan
}

// Identity configures citizen sign-in: SPID/CIE through an OpenID Connect provider or broker, and e-mail codes.
type Identity struct {
	OIDCIssuer       string // OIDC_ISSUER: discovery URL base; empty: SPID/CIE sign-in is off
	OIDCClientID     string // OIDC_CLIENT_ID
	OIDCClientSecret string // OIDC_CLIENT_SECRET
	OIDCACR          string // OIDC_ACR: the SPID level required, e.g. https://www.spid.gov.it/SpidL2
	EmailSignIn      bool   // EMAIL_SIGNIN: on/off
}

// Notify configures the notification channels and their delivery.
type Notify struct {
	SMTPURL     string // SMTP_URL: smtp://user:pass@host:port (STARTTLS when offered) or smtps:// (TLS); empty: log e-mails
	SMTPFrom    string // SMTP_FROM: the From header
	SMSURL      string // SMS_URL: the HTTP provider's endpoint; empty: log SMS with the number masked
	SMSToken    string // SMS_TOKEN: bearer token for SMS_URL
	MaxAttempts int    // NOTIFY_MAX_ATTEMPTS: deliveries tried this many times, then dead (listed for admins)
}

// Secure reports whether the portal is served over HTTPS (directly or behind a TLS-terminating proxy).
func (c *Config) Secure() bool { return c.BaseURL.Scheme == "https" }

// Variables lists every variable Load reads, for the README test and `portal config`.
var Variables = []string{
	"LISTEN_ADDR", "BASE_URL", "DATABASE_URL", "DB_MAX_CONNS", "REDIS_URL", "REDIS_ADDRS", "REDIS_MASTER_NAME",
	"REDIS_PASSWORD", "REDIS_PREFIX", "SESSION_SECRET", "SESSION_IDLE", "SESSION_MAX", "TRUSTED_PROXIES", "BODY_LIMIT",
	"FORM_RATE_LIMIT", "SHUTDOWN_DRAIN", "SHUTDOWN_TIMEOUT", "METRICS_ALLOW", "LOG_LEVEL", "LOG_FORMAT",
	"SMTP_URL", "SMTP_FROM", "SMS_URL", "SMS_TOKEN", "NOTIFY_MAX_ATTEMPTS",
	"OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_ACR", "EMAIL_SIGNIN",
	"DOCUMENTS_STORE", "DOCUMENTS_DIR", "DOCUMENTS_KEY", "DOCUMENTS_MAX_FILE", "DOCUMENTS_MAX_APPLICATION",
	"S3_ENDPOINT", "S3_BUCKET", "S3_REGION", "S3_ACCESS_KEY", "S3_SECRET_KEY", "CLAMD_ADDRESS",
	"STUN_URLS", "TURN_URLS", "TURN_USERNAME", "TURN_CREDENTIAL", "TURN_SECRET", "JITSI_URL", "JITSI_APP_ID",
	"JITSI_APP_SECRET",
}

// Load reads the configuration from getenv (os.Getenv when nil). The error lists every bad value, one per line.
func Load(getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	p := parser{getenv: getenv}
	c := &Config{
		ListenAddr:      p.str("LISTEN_ADDR", "127.0.0.1:8080"),
		DatabaseURL:     p.str("DATABASE_URL", ""),
		DBMaxConns:      int32(p.integer("DB_MAX_CONNS", 20, 1, 1000)),
		RedisURL:        p.str("REDIS_URL", ""),
		RedisAddrs:      p.list("REDIS_ADDRS"),
		RedisMasterName: p.str("REDIS_MASTER_NAME", ""),
		RedisPassword:   p.str("REDIS_PASSWORD", ""),
		RedisPrefix:     p.str("REDIS_PREFIX", "csc:"),
		SessionIdle:     p.duration("SESSION_IDLE", 30*time.Minute),
		SessionMax:      p.duration("SESSION_MAX", 12*time.Hour),
		TrustedProxies:  p.list("TRUSTED_PROXIES"),
		BodyLimit:       p.size("BODY_LIMIT", 1<<20),
		FormRateLimit:   p.integer("FORM_RATE_LIMIT", 60, 1, 100000),
		ShutdownDrain:   p.duration("SHUTDOWN_DRAIN", 5*time.Second),
		ShutdownTimeout: p.duration("SHUTDOWN_TIMEOUT", 25*time.Second),
		LogLevel:        p.oneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		LogFormat:       p.oneOf("LOG_FORMAT", "json", "json", "text"),
	}
	c.BaseURL = p.baseURL("BASE_URL", "http://"+c.ListenAddr)
	c.MetricsAllow = p.prefixes("METRICS_ALLOW", "127.0.0.0/8,::1/128")

	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		p.bad("LISTEN_ADDR", "must be host:port, e.g. 127.0.0.1:8080")
	}
	if c.DatabaseURL == "" {
		p.bad("DATABASE_URL", "is required, e.g. postgres://portal@127.0.0.1:5432/portal (make run sets it)")
	} else if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		p.bad("DATABASE_URL", "must be a postgres:// URL")
	}
	switch {
	case c.RedisURL == "" && len(c.RedisAddrs) == 0:
		p.bad("REDIS_URL", "is required (or REDIS_ADDRS for Sentinel/Cluster), e.g. redis://127.0.0.1:6379/0")
	case c.RedisURL != "" && len(c.RedisAddrs) > 0:
		p.bad("REDIS_ADDRS", "set either REDIS_URL or REDIS_ADDRS, not both")
	case c.RedisURL != "":
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			p.bad("REDIS_URL", "must be a redis:// or rediss:// URL")
		}
	}
	for _, a := range c.RedisAddrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			p.bad("REDIS_ADDRS", fmt.Sprintf("%q is not host:port", a))
		}
	}
	secret := getenv("SESSION_SECRET")
	if len(secret) < 32 {
		p.bad("SESSION_SECRET", "must be at least 32 characters of random text (e.g. openssl rand -hex 32)")
	}
	c.SessionSecret = []byte(secret)
	if c.SessionIdle > c.SessionMax {
		p.bad("SESSION_IDLE", "must not exceed SESSION_MAX")
	}
	for _, tp := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(tp); err != nil {
			if _, err := netip.ParseAddr(tp); err != nil {
				p.bad("TRUSTED_PROXIES", fmt.Sprintf("%q is neither an IP address nor a CIDR range", tp))
			}
		}
	}
	c.Notify = p.notify()
	c.Identity = p.identity()
	c.Documents = p.documents()
	c.Video = p.video()
	if len(p.errs) > 0 {
		return nil, errors.New("invalid configuration:\n  " + strings.Join(p.errs, "\n  "))
	}
	return c, nil
}

// notify reads and checks the notification variables.
func (p *parser) notify() Notify {
	n := Notify{
		SMTPURL:     p.str("SMTP_URL", ""),
		SMTPFrom:    p.str("SMTP_FROM", "CSC Smart Services <noreply@localhost>"),
		SMSURL:      p.str("SMS_URL", ""),
		SMSToken:    p.str("SMS_TOKEN", ""),
		MaxAttempts: p.integer("NOTIFY_MAX_ATTEMPTS", 8, 1, 50),
	}
	if n.SMTPURL != "" {
		u, err := url.Parse(n.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" || (u.Path != "" && u.Path != "/") {
			p.bad("SMTP_URL", "must be smtp://user:password@host:port or smtps://user:password@host:port (or empty to log e-mails instead)")
		} else if port := u.Port(); port != "" {
			if num, err := strconv.Atoi(port); err != nil || num < 1 || num > 65535 {
				p.bad("SMTP_URL", fmt.Sprintf("has a bad port %q", port))
			}
		}
	}
	if a, err := mail.ParseAddress(n.SMTPFrom); err != nil || !strings.Contains(a.Address, "@") {
		p.bad("SMTP_FROM", fmt.Sprintf("must be an e-mail address such as \"CSC Smart Services <noreply@example.it>\", not %q", n.SMTPFrom))
	}
	if n.SMSURL != "" {
		u, err := url.Parse(n.SMSURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			p.bad("SMS_URL", "must be the provider's https:// URL (or empty to log SMS instead)")
		case u.Scheme == "http" && !loopback(u.Hostname()):
			p.bad("SMS_URL", "must use https:// (http:// only on this machine: 127.0.0.1, ::1, localhost): the token travels with every SMS")
		}
	} else if n.SMSToken != "" {
		p.bad("SMS_TOKEN", "is set but SMS_URL is empty")
	}
	return n
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

type parser struct {
	getenv func(string) string
	errs   []string
}

func (p *parser) bad(name, msg string) { p.errs = append(p.errs, name+" "+msg) }

func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

func (p *parser) list(name string) []string {
	var out []string
	for _, s := range strings.Split(p.getenv(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) integer(name string, def, lo, hi int) int {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.bad(name, fmt.Sprintf("must be a whole number from %d to %d, not %q", lo, hi, v))
		return def
	}
	return n
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		p.bad(name, fmt.Sprintf("must be a duration such as 30s, 5m or 12h, not %q", v))
		return def
	}
	return d
}

// size reads a byte size: a number with an optional KB/MB suffix (powers of 1024).
func (p *parser) size(name string, def int) int {
	v := strings.ToUpper(strings.TrimSpace(p.getenv(name)))
	if v == "" {
		return def
	}
	mult := 1
	for suffix, m := range map[string]int{"KB": 1 << 10, "MB": 1 << 20, "K": 1 << 10, "M": 1 << 20} {
		if strings.HasSuffix(v, suffix) {
			v, mult = strings.TrimSpace(strings.TrimSuffix(v, suffix)), m
			break
		}
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > (1<<30)/mult {
		p.bad(name, fmt.Sprintf("must be a size such as 512KB or 10MB, not %q", p.getenv(name)))
		return def
	}
	return n * mult
}

func (p *parser) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(p.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.bad(name, fmt.Sprintf("must be one of %s, not %q", strings.Join(allowed, ", "), v))
	return def
}

func (p *parser) baseURL(name, def string) *url.URL {
	v := p.str(name, def)
	u, err := url.Parse(strings.TrimRight(v, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		p.bad(name, fmt.Sprintf("must be an absolute http(s) URL such as https://servizi.example.it, not %q", v))
		u, _ = url.Parse("http://127.0.0.1:8080")
	}
	return u
}

func (p *parser) prefixes(name, def string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range strings.Split(p.str(name, def), ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		pr, err := netip.ParsePrefix(s)
		if err != nil {
			if a, aerr := netip.ParseAddr(s); aerr == nil {
				pr = netip.PrefixFrom(a, a.BitLen())
			} else {
				p.bad(name, fmt.Sprintf("%q is not a CIDR range", s))
				continue
			}
		}
		out = append(out, pr)
	}
	return out
}

// documents reads and checks the upload variables.
func (p *parser) documents() Documents {
	d := Documents{
		Store:          p.oneOf("DOCUMENTS_STORE", "file", "file", "s3"),
		Dir:            p.str("DOCUMENTS_DIR", "/var/lib/csc-portal/documents"),
		MaxFileBytes:   int64(p.size("DOCUMENTS_MAX_FILE", 10<<20)),
		MaxApplication: int64(p.size("DOCUMENTS_MAX_APPLICATION", 50<<20)),
		S3Endpoint:     strings.TrimRight(p.str("S3_ENDPOINT", ""), "/"),
		S3Bucket:       p.str("S3_BUCKET", ""),
		S3Region:       p.str("S3_REGION", "us-east-1"),
		S3AccessKey:    p.str("S3_ACCESS_KEY", ""),
		S3SecretKey:    p.str("S3_SECRET_KEY", ""),
		ClamdAddress:   p.str("CLAMD_ADDRESS", ""),
	}
	if k := p.str("DOCUMENTS_KEY", ""); k != "" {
		key, err := hex.DecodeString(k)
		if err != nil || len(key) != 32 {
			p.bad("DOCUMENTS_KEY", "must be 64 hexadecimal characters (openssl rand -hex 32)")
		}
		d.Key = key
	}
	if d.MaxFileBytes > d.MaxApplication {
		p.bad("DOCUMENTS_MAX_FILE", "must not exceed DOCUMENTS_MAX_APPLICATION")
	}
	if d.Store == "s3" {
		u, err := url.Parse(d.S3Endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
			p.bad("S3_ENDPOINT", "must be the service's https:// URL (http:// only on this machine)")
		}
		for name, v := range map[string]string{"S3_BUCKET": d.S3Bucket, "S3_ACCESS_KEY": d.S3AccessKey, "S3_SECRET_KEY": d.S3SecretKey} {
			if v == "" {
				p.bad(name, "is required with DOCUMENTS_STORE=s3")
			}
		}
	}
	if a := d.ClamdAddress; a != "" && !strings.HasPrefix(a, "tcp://") && !strings.HasPrefix(a, "unix://") {
		p.bad("CLAMD_ADDRESS", "must be tcp://host:port or unix:///path/to/clamd.sock")
	}
	return d
}

// identity reads and checks the citizen sign-in variables.
func (p *parser) identity() Identity {
	id := Identity{
		OIDCIssuer:       strings.TrimRight(p.str("OIDC_ISSUER", ""), "/"),
		OIDCClientID:     p.str("OIDC_CLIENT_ID", ""),
		OIDCClientSecret: p.str("OIDC_CLIENT_SECRET", ""),
		OIDCACR:          p.str("OIDC_ACR", "https://www.spid.gov.it/SpidL2"),
		EmailSignIn:      p.oneOf("EMAIL_SIGNIN", "on", "on", "off") == "on",
	}
	if id.OIDCIssuer != "" {
		u, err := url.Parse(id.OIDCIssuer)
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
			p.bad("OIDC_ISSUER", "must be the provider's https:// issuer URL (http:// only on this machine)")
		}
		if id.OIDCClientID == "" {
			p.bad("OIDC_CLIENT_ID", "is required with OIDC_ISSUER")
		}
		if id.OIDCClientSecret == "" {
			p.bad("OIDC_CLIENT_SECRET", "is required with OIDC_ISSUER")
		}
	}
	if id.OIDCIssuer == "" && !id.EmailSignIn {
		p.bad("EMAIL_SIGNIN", "cannot be off when OIDC_ISSUER is empty: residents would have no way to sign in")
	}
	return id
}

// video reads and checks the variables of the online colloqui's rooms.
func (p *parser) video() Video {
	v := Video{
		STUNURLs:       p.list("STUN_URLS"),
		TURNURLs:       p.list("TURN_URLS"),
		TURNUsername:   p.str("TURN_USERNAME", ""),
		TURNCredential: p.str("TURN_CREDENTIAL", ""),
		TURNSecret:     p.str("TURN_SECRET", ""),
		JitsiURL:       strings.TrimRight(p.str("JITSI_URL", ""), "/"),
		JitsiAppID:     p.str("JITSI_APP_ID", ""),
		JitsiAppSecret: p.str("JITSI_APP_SECRET", ""),
	}
	iceURL := func(name, u string, schemes ...string) {
		scheme, rest, ok := strings.Cut(u, ":")
		if !ok || rest == "" || strings.HasPrefix(rest, "//") || !slices.Contains(schemes, scheme) {
			p.bad(name, fmt.Sprintf("%q must look like %s:host:port (comma-separated)", u, schemes[0]))
		}
	}
	for _, u := range v.STUNURLs {
		iceURL("STUN_URLS", u, "stun", "stuns")
	}
	for _, u := range v.TURNURLs {
		iceURL("TURN_URLS", u, "turn", "turns")
	}
	fixed := v.TURNUsername != "" || v.TURNCredential != ""
	switch {
	case len(v.TURNURLs) == 0 && (fixed || v.TURNSecret != ""):
		p.bad("TURN_URLS", "is required with TURN_USERNAME, TURN_CREDENTIAL or TURN_SECRET")
	case len(v.TURNURLs) > 0 && fixed && v.TURNSecret != "":
		p.bad("TURN_SECRET", "set either TURN_SECRET (short-lived credentials) or TURN_USERNAME and TURN_CREDENTIAL, not both")
	case len(v.TURNURLs) > 0 && v.TURNSecret == "" && (v.TURNUsername == "" || v.TURNCredential == ""):
		p.bad("TURN_USERNAME", "and TURN_CREDENTIAL are required with TURN_URLS (or TURN_SECRET, coturn's static-auth-secret)")
	}
	if v.JitsiURL != "" {
		u, err := url.Parse(v.JitsiURL)
		if err != nil || u.Host == "" || u.RawQuery != "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
			p.bad("JITSI_URL", "must be the https:// address of a self-hosted Jitsi Meet (http:// only on this machine)")
		}
		if v.JitsiAppID == "" {
			p.bad("JITSI_APP_ID", "is required with JITSI_URL")
		}
		if len(v.JitsiAppSecret) < 32 {
			p.bad("JITSI_APP_SECRET", "must be at least 32 characters with JITSI_URL (the HS256 key of Jitsi's JWT authentication)")
		}
	} else if v.JitsiAppID != "" || v.JitsiAppSecret != "" {
		p.bad("JITSI_URL", "is required with JITSI_APP_ID and JITSI_APP_SECRET")
	}
	return v
}
