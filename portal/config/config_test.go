package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func valid() map[string]string {
	return map[string]string{
		"DATABASE_URL":   "postgres://portal@127.0.0.1:5432/portal",
		"REDIS_URL":      "redis://127.0.0.1:6379/0",
		"SESSION_SECRET": strings.Repeat("s", 32),
	}
}

func TestDefaults(t *testing.T) {
	c, err := Load(env(valid()))
	if err != nil {
		t.Fatal(err)
	}
	if c.ListenAddr != "127.0.0.1:8080" || c.SessionIdle != 30*time.Minute || c.SessionMax != 12*time.Hour ||
		c.BodyLimit != 1<<20 || c.RedisPrefix != "csc:" || c.Secure() || c.BaseURL.String() != "http://127.0.0.1:8080" {
		t.Errorf("unexpected defaults: %+v", c)
	}
	m := valid()
	m["BASE_URL"] = "https://servizi.example.it/"
	m["BODY_LIMIT"] = "10MB"
	m["TRUSTED_PROXIES"] = "10.0.0.0/8, 192.168.1.1"
	c, err = Load(env(m))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Secure() || c.BodyLimit != 10<<20 || len(c.TrustedProxies) != 2 || c.BaseURL.String() != "https://servizi.example.it" {
		t.Errorf("unexpected: %+v", c)
	}
}

// Every bad value gets its own clear message, and all of them are reported at once.
func TestInvalidValues(t *testing.T) {
	cases := []struct{ name, value, want string }{
		{"LISTEN_ADDR", "8080", "LISTEN_ADDR must be host:port"},
		{"BASE_URL", "servizi.example.it", "BASE_URL must be an absolute http(s) URL"},
		{"DATABASE_URL", "mysql://x", "DATABASE_URL must be a postgres:// URL"},
		{"DB_MAX_CONNS", "0", "DB_MAX_CONNS must be a whole number from 1 to 1000"},
		{"REDIS_URL", "http://x", "REDIS_URL must be a redis://"},
		{"SESSION_SECRET", "short", "SESSION_SECRET must be at least 32 characters"},
		{"SESSION_IDLE", "forever", "SESSION_IDLE must be a duration"},
		{"SESSION_IDLE", "13h", "SESSION_IDLE must not exceed SESSION_MAX"},
		{"SESSION_MAX", "-1h", "SESSION_MAX must be a duration"},
		{"TRUSTED_PROXIES", "proxy.local", "TRUSTED_PROXIES \"proxy.local\" is neither"},
		{"BODY_LIMIT", "lots", "BODY_LIMIT must be a size"},
		{"BODY_LIMIT", "0", "BODY_LIMIT must be a size"},
		{"FORM_RATE_LIMIT", "1.5", "FORM_RATE_LIMIT must be a whole number"},
		{"SHUTDOWN_DRAIN", "5", "SHUTDOWN_DRAIN must be a duration"},
		{"METRICS_ALLOW", "everyone", "METRICS_ALLOW \"everyone\" is not a CIDR range"},
		{"LOG_LEVEL", "verbose", "LOG_LEVEL must be one of debug, info, warn, error"},
		{"LOG_FORMAT", "xml", "LOG_FORMAT must be one of json, text"},
		{"OIDC_ISSUER", "ftp://idp", "OIDC_ISSUER must be the provider's https:// issuer URL"},
		{"OIDC_ISSUER", "http://idp.example.it", "OIDC_ISSUER must be the provider's https:// issuer URL"},
		{"OIDC_ISSUER", "https://idp.example.it", "OIDC_CLIENT_ID is required with OIDC_ISSUER"},
		{"EMAIL_SIGNIN", "off", "EMAIL_SIGNIN cannot be off when OIDC_ISSUER is empty"},
		{"EMAIL_SIGNIN", "maybe", "EMAIL_SIGNIN must be one of on, off"},
		{"REDIS_ADDRS", "a:1,b", "REDIS_ADDRS set either REDIS_URL or REDIS_ADDRS"},
		{"SMTP_URL", "mail.example.it:587", "SMTP_URL must be smtp://"},
		{"SMTP_URL", "imap://mail.example.it", "SMTP_URL must be smtp://"},
		{"SMTP_URL", "smtp://mail.example.it:99999", "SMTP_URL has a bad port"},
		{"SMTP_FROM", "noreply", "SMTP_FROM must be an e-mail address"},
		{"SMS_URL", "sms.example.it/send", "SMS_URL must be the provider's https:// URL"},
		{"SMS_URL", "http://sms.example.it/send", "SMS_URL must use https://"},
		{"SMS_TOKEN", "secret", "SMS_TOKEN is set but SMS_URL is empty"},
		{"NOTIFY_MAX_ATTEMPTS", "0", "NOTIFY_MAX_ATTEMPTS must be a whole number from 1 to 50"},
		{"STUN_URLS", "stun.example.it:3478", `STUN_URLS "stun.example.it:3478" must look like stun:host:port`},
		{"TURN_URLS", "turn://turn.example.it", `TURN_URLS "turn://turn.example.it" must look like turn:host:port`},
		{"TURN_URLS", "turn:turn.example.it:3478", "TURN_USERNAME and TURN_CREDENTIAL are required with TURN_URLS"},
		{"TURN_SECRET", "static-auth-secret", "TURN_URLS is required with"},
		{"JITSI_URL", "http://meet.example.it", "JITSI_URL must be the https:// address"},
		{"JITSI_URL", "https://meet.example.it", "JITSI_APP_ID is required with JITSI_URL"},
		{"JITSI_APP_SECRET", "x", "JITSI_URL is required with"},
	}
	for _, c := range cases {
		t.Run(c.name+"="+c.value, func(t *testing.T) {
			m := valid()
			m[c.name] = c.value
			_, err := Load(env(m))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
	_, err := Load(env(map[string]string{}))
	if err == nil {
		t.Fatal("empty environment accepted")
	}
	for _, want := range []string{"DATABASE_URL is required", "REDIS_URL is required", "SESSION_SECRET must"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestSentinelOrClusterAddresses(t *testing.T) {
	m := valid()
	delete(m, "REDIS_URL")
	m["REDIS_ADDRS"] = "10.0.0.1:26379, 10.0.0.2:26379"
	m["REDIS_MASTER_NAME"] = "csc"
	c, err := Load(env(m))
	if err != nil || len(c.RedisAddrs) != 2 || c.RedisMasterName != "csc" {
		t.Fatalf("%v %+v", err, c)
	}
	m["REDIS_ADDRS"] = "10.0.0.1"
	if _, err := Load(env(m)); err == nil || !strings.Contains(err.Error(), "is not host:port") {
		t.Errorf("bad address accepted: %v", err)
	}
}

// The README's configuration table documents every variable the portal reads.
func TestREADMEListsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Variables {
		if !strings.Contains(string(readme), "| `"+v+"`") {
			t.Errorf("README.md has no row for %s", v)
		}
	}
}

func TestNotifyVariables(t *testing.T) {
	c, err := Load(env(valid()))
	if err != nil {
		t.Fatal(err)
	}
	if n := c.Notify; n.SMTPURL != "" || n.SMTPFrom != "CSC Smart Services <noreply@localhost>" || n.SMSURL != "" || n.MaxAttempts != 8 {
		t.Errorf("unexpected notification defaults: %+v", n)
	}
	m := valid()
	m["SMTP_URL"] = "smtps://portal:secret@mail.example.it:465"
	m["SMTP_FROM"] = "Comunità Sociale Cremasca <servizi@example.it>"
	m["SMS_URL"] = "http://127.0.0.1:9000/sms"
	m["SMS_TOKEN"] = "t0ken"
	m["NOTIFY_MAX_ATTEMPTS"] = "3"
	c, err = Load(env(m))
	if err != nil {
		t.Fatal(err)
	}
	if n := c.Notify; n.SMTPURL != m["SMTP_URL"] || n.SMSURL != m["SMS_URL"] || n.SMSToken != "t0ken" || n.MaxAttempts != 3 {
		t.Errorf("unexpected: %+v", n)
	}
}

func TestVideoVariables(t *testing.T) {
	c, err := Load(env(valid()))
	if err != nil {
		t.Fatal(err)
	}
	if v := c.Video; len(v.STUNURLs)+len(v.TURNURLs) != 0 || v.JitsiURL != "" {
		t.Errorf("ICE servers or Jitsi by default: %+v", v)
	}
	m := valid()
	m["STUN_URLS"] = "stun:turn.example.it:3478"
	m["TURN_URLS"] = "turn:turn.example.it:3478?transport=udp, turns:turn.example.it:5349"
	m["TURN_SECRET"] = "coturn-static-auth-secret"
	m["JITSI_URL"] = "https://meet.example.it/"
	m["JITSI_APP_ID"] = "csc-portal"
	m["JITSI_APP_SECRET"] = strings.Repeat("j", 32)
	c, err = Load(env(m))
	if err != nil {
		t.Fatal(err)
	}
	if v := c.Video; len(v.STUNURLs) != 1 || len(v.TURNURLs) != 2 || v.TURNSecret == "" || v.JitsiURL != "https://meet.example.it" {
		t.Errorf("unexpected: %+v", v)
	}
	m["TURN_USERNAME"], m["TURN_CREDENTIAL"] = "portal", "secret"
	if _, err := Load(env(m)); err == nil || !strings.Contains(err.Error(), "TURN_SECRET set either") {
		t.Errorf("both kinds of TURN credentials accepted: %v", err)
	}
}
