package portal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
)

// LangCookie remembers the language chosen on this device for a year.
const LangCookie = "csc_lang"

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b) //nolint:errcheck // never fails on Linux
	return hex.EncodeToString(b)
}

// timeout bounds the time a page may spend on PostgreSQL and Redis, so a hung server turns into a 503 page.
func (s *Server) timeout(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

// accessLog writes one structured line per request: method, route pattern (not the raw path, which may carry
// identifiers), status, duration, size and request ID. No addresses, no query strings, no personal data.
func (s *Server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	route := c.Route().Path
	status := c.Response().StatusCode()
	elapsed := time.Since(start)
	s.metrics.observe(c.Method(), route, status, elapsed)
	if route == "/healthz" || route == "/readyz" || route == "/metrics" || route == assetsRoute {
		return nil
	}
	s.Log.Info("request", "method", c.Method(), "route", route, "status", status,
		"ms", float64(elapsed.Microseconds())/1000, "bytes", len(c.Response().Body()),
		"request_id", c.GetRespHeader("X-Request-ID"))
	return nil
}

// languageMiddleware picks the request's language: the choice stored in the session, then the csc_lang cookie,
// then Accept-Language, then Italian.
func (s *Server) languageMiddleware(c *fiber.Ctx) error {
	choice := c.Cookies(LangCookie)
	if sess := sessionOf(c); sess != nil {
		if l, ok := sess.Get(keyLang).(string); ok && l != "" {
			choice = l
		}
	}
	lang := s.I18n.Negotiate(choice, c.Get(fiber.HeaderAcceptLanguage))
	c.Locals(localLocalizer, s.I18n.Localizer(lang.Code))
	c.Set(fiber.HeaderContentLanguage, lang.Code)
	c.Vary(fiber.HeaderAcceptLanguage, fiber.HeaderCookie)
	return c.Next()
}

// localizer returns the request's localizer, negotiating it when the language middleware did not run (errors
// raised before it, such as an oversized body).
func (s *Server) localizer(c *fiber.Ctx) *i18n.Localizer {
	if z, ok := c.Locals(localLocalizer).(*i18n.Localizer); ok {
		return z
	}
	return s.I18n.Localizer(s.I18n.Negotiate(c.Cookies(LangCookie), c.Get(fiber.HeaderAcceptLanguage)).Code)
}

// formRateLimit limits state-changing requests per client address with Redis (GCRA, atomic across nodes).
// Page views are not limited: on a click day many residents share one carrier NAT address.
func (s *Server) formRateLimit(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		return c.Next()
	}
	key := s.Config.RedisPrefix + "rl:form:" + clientAddr(c)
	res, err := s.limiter.Allow(c.UserContext(), key, redis_rate.PerMinute(s.Config.FormRateLimit))
	if err != nil {
		return fmt.Errorf("rate limit: %w", err)
	}
	c.Set("RateLimit-Remaining", strconv.Itoa(res.Remaining))
	if res.Allowed == 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(res.RetryAfter/time.Second)+1))
		return errTooMany(nil)
	}
	return c.Next()
}
