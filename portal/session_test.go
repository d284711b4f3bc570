package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/comunitasocialecremasca/smartservices/portal"
)

func sessionCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == portal.SessionCookie {
			return c
		}
	}
	return nil
}

func TestSessionCookieFlags(t *testing.T) {
	e := newEnv(t, withVar("TRUSTED_PROXIES", "0.0.0.0/0"))
	resp, _ := e.client(t).get("/lingua")
	ck := sessionCookie(t, resp)
	if ck == nil {
		t.Fatal("no session cookie on first visit")
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure || ck.MaxAge != 0 || !ck.Expires.IsZero() {
		t.Errorf("cookie over plain HTTP: %+v", ck)
	}
	// Behind a trusted TLS-terminating proxy the cookie is Secure and HSTS is sent.
	c := e.client(t)
	c.headers["X-Forwarded-Proto"] = "https"
	resp, _ = c.get("/lingua")
	if ck := sessionCookie(t, resp); ck == nil || !ck.Secure {
		t.Errorf("cookie behind TLS proxy not Secure: %+v", ck)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS behind TLS proxy")
	}
}

func TestForwardedProtoFromUntrustedClientIsIgnored(t *testing.T) {
	e := newEnv(t) // no trusted proxies
	c := e.client(t)
	c.headers["X-Forwarded-Proto"] = "https"
	resp, _ := c.get("/lingua")
	if ck := sessionCookie(t, resp); ck == nil || ck.Secure {
		t.Errorf("untrusted X-Forwarded-Proto changed the cookie: %+v", ck)
	}
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent over plain HTTP")
	}
}

// Two portal instances sharing Redis serve the same session: a language chosen on one is seen on the other.
func TestSessionSharedAcrossInstances(t *testing.T) {
	a := newEnv(t)
	b := &env{srv: newEnvSharingRedis(t, a).srv}
	ca := a.client(t)
	resp, _ := ca.do("POST", "/lingua", url.Values{"lang": {"ro"}, "next": {"/sedi"}})
	wantStatus(t, resp, http.StatusSeeOther)
	// Instance B gets only the session cookie (not the language cookie): the language must come from Redis.
	cb := b.client(t)
	cb.jar.SetCookies(base, []*http.Cookie{{Name: portal.SessionCookie, Value: ca.cookie(portal.SessionCookie)}})
	_, body := cb.get("/lingua")
	wantContains(t, body, `<html lang="ro" dir="ltr">`)
	if cb.cookie(portal.SessionCookie) != ca.cookie(portal.SessionCookie) {
		t.Error("instance B replaced a valid session")
	}
}

// newEnvSharingRedis builds a second portal on the same database and Redis prefix as e.
func newEnvSharingRedis(t *testing.T, e *env) *env {
	t.Helper()
	cfg := *e.srv.Config
	d := e.srv.Deps
	d.Config = &cfg
	d.Registry = prometheus.NewRegistry()
	srv, err := portal.New(d)
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, servers: e.servers, db: e.db, prefix: e.prefix}
}

// Public pages are the same for everyone: they neither read nor create sessions, so they keep working without
// Redis and cost no Redis round trip on a click day.
func TestPublicPagesNeedNoSession(t *testing.T) {
	e := newEnv(t)
	resp, _ := e.client(t).get("/")
	if ck := sessionCookie(t, resp); ck != nil {
		t.Errorf("home page created a session: %+v", ck)
	}
	if n, _ := e.srv.Redis.Keys(context.Background(), e.prefix+"*").Result(); len(n) != 0 {
		t.Errorf("home page wrote to Redis: %v", n)
	}
}

func TestSessionIdleExpiryIsTheRedisTTL(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	c.get("/lingua")
	rdb := e.srv.Redis
	ttl, err := rdb.TTL(context.Background(), e.prefix+"sess:"+c.cookie(portal.SessionCookie)).Result()
	if err != nil || ttl <= 29*time.Minute || ttl > 30*time.Minute {
		t.Fatalf("session TTL %v (%v), want 30 minutes", ttl, err)
	}
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC).Unix())
	e := newEnv(t, withNow(func() time.Time { return time.Unix(now.Load(), 0) }))
	c := e.client(t)
	c.get("/lingua")
	first := c.cookie(portal.SessionCookie)
	now.Add(int64((11 * time.Hour).Seconds()))
	c.get("/lingua")
	if c.cookie(portal.SessionCookie) != first {
		t.Fatal("session replaced before 12 hours")
	}
	now.Add(int64((2 * time.Hour).Seconds()))
	c.get("/lingua")
	if got := c.cookie(portal.SessionCookie); got == first || got == "" {
		t.Fatal("session not replaced after 12 hours")
	}
	if n, _ := e.srv.Redis.Exists(context.Background(), e.prefix+"sess:"+first).Result(); n != 0 {
		t.Error("expired session still stored")
	}
}

func TestMalformedSessionCookieStartsANewSession(t *testing.T) {
	e := newEnv(t)
	for _, v := range []string{"garbage", strings.Repeat("A", 3000), "../../etc/passwd", "%00%ff", "x;y"} {
		c := e.client(t)
		req, _ := http.NewRequest("GET", "http://127.0.0.1:8080/lingua", nil)
		req.Header.Set("Cookie", portal.SessionCookie+"="+v+"; "+portal.LangCookie+"=zz-ZZ")
		resp, body := c.send(req)
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, body, `lang="it"`)
		if ck := sessionCookie(t, resp); ck == nil || ck.Value == v {
			t.Errorf("cookie %q: no fresh session issued", v)
		}
	}
}
