// Package portal is the web application: routes, middleware, handlers (one file per action, named
// <noun>_<verb>.go) and the glue to storage, views and i18n. Dependencies arrive through Deps, built in cmd/.
package portal

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/gofiber/fiber/v2"
	fiberredis "github.com/gofiber/storage/redis/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/comunitasocialecremasca/smartservices/assets"
	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/notifications"
	"github.com/comunitasocialecremasca/smartservices/portal/config"
	"github.com/comunitasocialecremasca/smartservices/portal/documents"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// Deps is what the portal needs from outside; cmd/ builds it once per process.
type Deps struct {
	Config   *config.Config
	DB       *storage.DB
	Redis    redis.UniversalClient
	I18n     *i18n.Bundle
	Log      *slog.Logger
	Registry *prometheus.Registry // metrics are registered here and served on /metrics
	Outbox   notifications.Outbox
	Now      func() time.Time // nil: time.Now
	// Documents keeps uploaded files; Scanner, when set, checks them for viruses before they are stored.
	Documents documents.Store
	Scanner   documents.Scanner
}

// Server is one portal process.
type Server struct {
	Deps
	app           *fiber.App
	views         *views.Engine
	sessions      *sessions // citizens
	staffSessions *sessions // back office
	limiter       *redis_rate.Limiter
	metrics       *httpMetrics
	pages         pageCache
	crossOrigin   *http.CrossOriginProtection
	oidc          *oidcRP // nil when SPID/CIE sign-in is off
	templates     *notifications.Templates
	rooms         *roomHub // the video rooms' connections on this node (colloqui_hub.go)
	draining      atomic.Bool
}

// localLocalizer is the Locals key of the request's *i18n.Localizer.
const localLocalizer = "portal.localizer"

// New builds the Fiber application with every route.
func New(d Deps) (*Server, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	eng, err := views.New(d.I18n, assets.URL)
	if err != nil {
		return nil, err
	}
	s := &Server{Deps: d, views: eng, limiter: redis_rate.NewLimiter(d.Redis)}
	s.crossOrigin, err = newCrossOriginProtection(d.Config.BaseURL.Scheme + "://" + d.Config.BaseURL.Host)
	if err != nil {
		return nil, err
	}
	if s.templates, err = notifications.NewTemplates(d.I18n, d.Config.BaseURL); err != nil {
		return nil, err
	}
	if d.Config.Identity.OIDCIssuer != "" {
		s.oidc = newOIDCRP(d.Config.Identity, d.Config.BaseURL.String())
	}
	s.metrics, err = newHTTPMetrics(d.Registry)
	if err != nil {
		return nil, err
	}
	storage := fiberredis.NewFromConnection(d.Redis)
	s.sessions = newSessions(d.Redis, &prefixedStorage{Storage: storage, prefix: d.Config.RedisPrefix + "sess:"},
		SessionCookie, d.Config.SessionIdle, d.Config.SessionMax)
	s.staffSessions = newSessions(d.Redis, &prefixedStorage{Storage: storage, prefix: d.Config.RedisPrefix + "staff:"},
		StaffSessionCookie, d.Config.SessionIdle, d.Config.SessionMax)

	s.app = fiber.New(fiber.Config{
		AppName:      "csc-portal",
		ErrorHandler: s.handleError,
		// the largest body any route takes (an upload); limitBody holds every other route to BODY_LIMIT
		BodyLimit:               max(d.Config.BodyLimit, int(d.Config.Documents.MaxFileBytes)+64<<10),
		ReadBufferSize:          8 << 10, // request line + headers above 8 KiB get 431
		ReadTimeout:             30 * time.Second,
		WriteTimeout:            60 * time.Second,
		IdleTimeout:             75 * time.Second,
		DisableStartupMessage:   true,
		EnableTrustedProxyCheck: true,
		TrustedProxies:          d.Config.TrustedProxies,
		ProxyHeader:             proxyHeader(d.Config.TrustedProxies),
		// Fiber reuses request buffers after the handler returns; the portal keeps strings in sessions and logs.
		Immutable: true,
	})
	s.rooms = newRoomHub(d.Redis, d.Config.RedisPrefix, d.Log)
	s.app.Hooks().OnShutdown(func() error { s.rooms.close(); return nil })
	s.routes()
	return s, nil
}

func proxyHeader(trusted []string) string {
	if len(trusted) > 0 {
		return fiber.HeaderXForwardedFor
	}
	return ""
}

// limitBody refuses bodies over BODY_LIMIT (413) on every route but uploads, which Fiber's own limit bounds.
func (s *Server) limitBody(c *fiber.Ctx) error {
	if len(c.Request().Body()) > s.Config.BodyLimit {
		return fiber.ErrRequestEntityTooLarge
	}
	return c.Next()
}

// now is the clock every handler reads (injectable through Deps.Now for tests).
func (s *Server) now() time.Time { return s.Now() }

// App exposes the Fiber application, for app.Test in tests.
func (s *Server) App() *fiber.App { return s.app }

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(ln) }

// Shutdown drains the process for a rolling restart: /readyz turns 503 at once so the load balancer stops sending
// new requests, then after the drain delay the listener closes and in-flight requests finish (up to ctx).
func (s *Server) Shutdown(ctx context.Context, drain time.Duration) error {
	s.draining.Store(true)
	// Logged after the flag is set: whoever reads this line can rely on /readyz answering 503.
	s.Log.Info("draining", "delay", drain.String())
	if drain > 0 {
		t := time.NewTimer(drain)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if err := s.app.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("portal: shutdown: %w", err)
	}
	return nil
}

// prefixedStorage namespaces session keys in Redis, so several portals (or tests) can share one server.
type prefixedStorage struct {
	*fiberredis.Storage
	prefix string
}

func (p *prefixedStorage) Get(key string) ([]byte, error) { return p.Storage.Get(p.prefix + key) }
func (p *prefixedStorage) Set(key string, val []byte, exp time.Duration) error {
	return p.Storage.Set(p.prefix+key, val, exp)
}
func (p *prefixedStorage) Delete(key string) error { return p.Storage.Delete(p.prefix + key) }

// Reset deletes only this portal's sessions, never the whole Redis database.
func (p *prefixedStorage) Reset() error {
	ctx := context.Background()
	iter := p.Conn().Scan(ctx, 0, p.prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		if err := p.Conn().Del(ctx, iter.Val()).Err(); err != nil {
			return err
		}
	}
	return iter.Err()
}

func (p *prefixedStorage) Close() error { return nil } // the Redis client belongs to cmd/

// clientAddr is the client's address for rate limits: the first untrusted hop when behind trusted proxies.
func clientAddr(c *fiber.Ctx) string {
	ip := c.IP()
	if i := strings.IndexByte(ip, ','); i >= 0 {
		ip = ip[:i]
	}
	return strings.TrimSpace(ip)
}
