package portal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"crypto/rand"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"
)

// SessionCookie is the name of the session cookie, documented on the cookie page.
const SessionCookie = "csc_session"

// Session keys.
const (
	keyCreated = "created" // unix seconds: enforces the absolute lifetime
	keySeen    = "seen"    // unix seconds of the last write: idle expiry is the storage TTL, refreshed at most once a minute
	keyLang    = "lang"
)

// sessions wraps Fiber's session store on Redis. There are two stores over one storage because Fiber fixes the
// cookie's Secure flag per store, and the portal can be reached over TLS (directly or via a trusted proxy) or not.
type sessions struct {
	secure, plain *session.Store
	max           time.Duration
	secret        []byte
}

func newSessions(storage fiber.Storage, idle, max time.Duration, secret []byte) *sessions {
	cfg := func(secure bool) session.Config {
		return session.Config{
			Storage:           storage,
			Expiration:        idle,
			KeyLookup:         "cookie:" + SessionCookie,
			CookieHTTPOnly:    true,
			CookieSameSite:    "Lax",
			CookieSecure:      secure,
			CookieSessionOnly: true,
			KeyGenerator:      rand.Text, // 130 random bits
		}
	}
	return &sessions{secure: session.New(cfg(true)), plain: session.New(cfg(false)), max: max, secret: secret}
}

// Session is the request's session. Changes are saved once, after the handler, by the session middleware.
type Session struct {
	s     *session.Session
	dirty bool
}

func (s *Session) Get(key string) any { return s.s.Get(key) }

func (s *Session) Set(key string, v any) { s.s.Set(key, v); s.dirty = true }

// ID is the session ID. It is set for new sessions too, which are stored when the request ends.
func (s *Session) ID() string { return s.s.ID() }

// Renew gives the session a new ID and deletes the old one from storage: call it whenever privilege changes
// (sign-in, sign-out, role change), so an ID planted or seen before cannot ride on the new privilege.
func (s *Session) Renew() error {
	if err := s.s.Regenerate(); err != nil {
		return fmt.Errorf("session: renew: %w", err)
	}
	s.dirty = true
	return nil
}

// sessionMiddleware loads the session (one Redis GET), enforces the absolute lifetime, and after the handler saves
// it when it is new, changed, or last written over a minute ago (which refreshes the idle TTL).
func (srv *Server) sessionMiddleware(c *fiber.Ctx) error {
	store := srv.sessions.plain
	if c.Protocol() == "https" {
		store = srv.sessions.secure
	}
	raw, err := store.Get(c)
	if err != nil {
		return fmt.Errorf("session: load: %w", err)
	}
	now := srv.now().Unix()
	sess := &Session{s: raw}
	created, _ := raw.Get(keyCreated).(int64)
	if !raw.Fresh() && (created == 0 || now-created > int64(srv.sessions.max/time.Second)) {
		if err := raw.Reset(); err != nil { // absolute lifetime reached: start over with a new ID and no data
			return fmt.Errorf("session: expire: %w", err)
		}
		created = 0
	}
	if created == 0 {
		sess.Set(keyCreated, now)
	}
	c.Locals(localSession, sess)
	handlerErr := c.Next()
	seen, _ := raw.Get(keySeen).(int64)
	if sess.dirty || now-seen >= 60 {
		raw.Set(keySeen, now)
		if err := raw.Save(); err != nil && handlerErr == nil {
			return fmt.Errorf("session: save: %w", err)
		}
	}
	return handlerErr
}

// csrfToken derives the form token from the session ID (HMAC), so it needs no storage of its own and changes
// whenever the session ID does.
func (srv *Server) csrfToken(sessionID string) string {
	m := hmac.New(sha256.New, srv.sessions.secret)
	m.Write([]byte("csrf\x00" + sessionID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfMiddleware rejects state-changing requests whose token does not match the session's. A new session (no
// cookie, or an expired one) cannot carry a valid token, so forms posted after expiry get a clear "form expired".
func (srv *Server) csrfMiddleware(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	sess := sessionOf(c)
	if sess == nil || sess.s.Fresh() {
		return errCSRF(fmt.Errorf("csrf: no session"))
	}
	got := c.FormValue("_csrf")
	if got == "" {
		got = c.Get("X-CSRF-Token")
	}
	if !hmac.Equal([]byte(got), []byte(srv.csrfToken(sess.ID()))) {
		return errCSRF(fmt.Errorf("csrf: token mismatch"))
	}
	return c.Next()
}

func sessionOf(c *fiber.Ctx) *Session {
	s, _ := c.Locals(localSession).(*Session)
	return s
}
