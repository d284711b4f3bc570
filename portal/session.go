package portal

import (
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
}

func newSessions(storage fiber.Storage, idle, max time.Duration) *sessions {
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
	return &sessions{secure: session.New(cfg(true)), plain: session.New(cfg(false)), max: max}
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

func sessionOf(c *fiber.Ctx) *Session {
	s, _ := c.Locals(localSession).(*Session)
	return s
}
