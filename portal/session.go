package portal

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"
	"github.com/redis/go-redis/v9"
)

// Cookie names, documented on the cookie page. Staff have a cookie (and sessions) of their own, so a citizen
// session can never be mistaken for a staff one.
const (
	SessionCookie      = "csc_session"
	StaffSessionCookie = "csc_staff"
)

// Session keys.
const (
	keyCreated = "created" // unix seconds: enforces the absolute lifetime
	keySeen    = "seen"    // unix seconds of the last write: idle expiry is the storage TTL, refreshed at most once a minute
	keyLang    = "lang"
	keyUser    = "user" // the signed-in person (citizen: "p:<id>", staff: "s:<id>"), for sign-out everywhere
)

// sessions is one kind of session (citizen or staff) on Fiber's session middleware with Redis storage. There are
// two Fiber stores over one storage because Fiber fixes the cookie's Secure flag per store, and the portal can be
// reached over TLS (directly or via a trusted proxy) or not.
type sessions struct {
	secure, plain *session.Store
	max           time.Duration
	local         string // Locals key of the request's *Session
	rdb           redis.UniversalClient
	prefix        string // Redis key prefix of the storage
}

func newSessions(rdb redis.UniversalClient, storage *prefixedStorage, cookie string, idle, max time.Duration) *sessions {
	cfg := func(secure bool) session.Config {
		return session.Config{
			Storage:           storage,
			Expiration:        idle,
			KeyLookup:         "cookie:" + cookie,
			CookiePath:        "/", // else browsers scope it to the directory of the page that set it (e.g. /backoffice/accesso)
			CookieHTTPOnly:    true,
			CookieSameSite:    "Lax",
			CookieSecure:      secure,
			CookieSessionOnly: true,
			KeyGenerator:      rand.Text, // 130 random bits
		}
	}
	return &sessions{secure: session.New(cfg(true)), plain: session.New(cfg(false)), max: max,
		local: "portal.session." + cookie, rdb: rdb, prefix: storage.prefix}
}

// Session is the request's session. Changes are saved once, after the handler, by the session middleware.
type Session struct {
	s     *session.Session
	owner *sessions
	dirty bool
}

func (s *Session) Get(key string) any { return s.s.Get(key) }

func (s *Session) Set(key string, v any) { s.s.Set(key, v); s.dirty = true }

// Delete removes keys; like Set, the change is saved when the request ends.
func (s *Session) Delete(keys ...string) {
	for _, k := range keys {
		s.s.Delete(k)
	}
	s.dirty = true
}

// ID is the session ID. It is set for new sessions too, which are stored when the request ends.
func (s *Session) ID() string { return s.s.ID() }

// User is the signed-in person's key ("p:<id>" or "s:<id>"), or "".
func (s *Session) User() string { u, _ := s.s.Get(keyUser).(string); return u }

// Renew gives the session a new ID and deletes the old one from storage: call it whenever privilege changes
// (sign-in, sign-out, role change), so an ID planted or seen before cannot ride on the new privilege.
func (s *Session) Renew() error {
	if err := s.s.Regenerate(); err != nil {
		return fmt.Errorf("session: renew: %w", err)
	}
	s.dirty = true
	return nil
}

// SignIn renews the session and binds it to user; the user's index of sessions lets "sign out everywhere" end
// them all.
func (s *Session) SignIn(ctx context.Context, user string) error {
	if err := s.Renew(); err != nil {
		return err
	}
	s.Set(keyUser, user)
	key := s.owner.userIndex(user)
	pipe := s.owner.rdb.TxPipeline()
	pipe.SAdd(ctx, key, s.ID())
	pipe.Expire(ctx, key, s.owner.max)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("session: index: %w", err)
	}
	return nil
}

// SignOut deletes this session server-side and starts a fresh, anonymous one: the old cookie is worthless.
func (s *Session) SignOut(ctx context.Context) error {
	if u := s.User(); u != "" {
		if err := s.owner.rdb.SRem(ctx, s.owner.userIndex(u), s.ID()).Err(); err != nil {
			return fmt.Errorf("session: index: %w", err)
		}
	}
	lang, _ := s.Get(keyLang).(string)
	if err := s.s.Reset(); err != nil {
		return fmt.Errorf("session: sign out: %w", err)
	}
	s.dirty = true
	if lang != "" {
		s.Set(keyLang, lang)
	}
	return nil
}

// EndAll deletes every session of user, wherever it was opened ("sign out everywhere").
func (m *sessions) EndAll(ctx context.Context, user string) error {
	key := m.userIndex(user)
	ids, err := m.rdb.SMembers(ctx, key).Result()
	if err != nil {
		return fmt.Errorf("session: end all: %w", err)
	}
	keys := []string{key}
	for _, id := range ids {
		keys = append(keys, m.prefix+id)
	}
	if err := m.rdb.Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("session: end all: %w", err)
	}
	return nil
}

func (m *sessions) userIndex(user string) string { return m.prefix + "user:" + user }

// middleware loads the session (one Redis GET), enforces the absolute lifetime, and after the handler saves it
// when it is new, changed, or last written over a minute ago (which refreshes the idle TTL).
func (m *sessions) middleware(now func() time.Time) fiber.Handler {
	return func(c *fiber.Ctx) error {
		store := m.plain
		if c.Protocol() == "https" {
			store = m.secure
		}
		raw, err := store.Get(c)
		if err != nil {
			return fmt.Errorf("session: load: %w", err)
		}
		t := now().Unix()
		sess := &Session{s: raw, owner: m}
		created, _ := raw.Get(keyCreated).(int64)
		if !raw.Fresh() && (created == 0 || t-created > int64(m.max/time.Second)) {
			if err := raw.Reset(); err != nil { // absolute lifetime reached: start over with a new ID and no data
				return fmt.Errorf("session: expire: %w", err)
			}
			created = 0
		}
		if created == 0 {
			sess.Set(keyCreated, t)
		}
		c.Locals(m.local, sess)
		handlerErr := c.Next()
		seen, _ := raw.Get(keySeen).(int64)
		if sess.dirty || t-seen >= 60 {
			raw.Set(keySeen, t)
			if err := raw.Save(); err != nil && handlerErr == nil {
				return fmt.Errorf("session: save: %w", err)
			}
		}
		return handlerErr
	}
}

// of returns the request's session of this kind, or nil on routes without it.
func (m *sessions) of(c *fiber.Ctx) *Session {
	s, _ := c.Locals(m.local).(*Session)
	return s
}

func sessionOf(c *fiber.Ctx) *Session {
	s, _ := c.Locals("portal.session." + SessionCookie).(*Session)
	return s
}
