package portal

import (
	"bytes"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// pageCacheTTL is how long a rendered public page is reused. Public pages (home, measures, offices, legal
// texts) are the same for every visitor but for the form token; on a click day thousands of residents open the
// same home page within seconds, so each is rendered once per language per TTL instead of once per visit.
// Data shown there (calls, offices) changes by staff action, and ten seconds late is fine for an information
// page; whether a call is open is decided again, at submission, by the server.
const pageCacheTTL = 10 * time.Second

// csrfPlaceholder stands for the visitor's form token in a cached page. It is made of token characters only, so
// HTML escaping leaves it as it is.
const csrfPlaceholder = "csrf-placeholder-0f8e2c41d7a9b356"

// pageSpec is what a handler hands to the renderer.
type pageSpec struct {
	Name   string // template
	Title  string
	Crumbs []views.Crumb
	Data   any
}

type pageCache struct {
	mu      sync.RWMutex
	entries map[string]cachedPage
}

type cachedPage struct {
	body    []byte
	expires time.Time
}

func (pc *pageCache) get(key string, now time.Time) ([]byte, bool) {
	pc.mu.RLock()
	e, ok := pc.entries[key]
	pc.mu.RUnlock()
	return e.body, ok && now.Before(e.expires)
}

func (pc *pageCache) put(key string, body []byte, expires time.Time) {
	pc.mu.Lock()
	if pc.entries == nil {
		pc.entries = map[string]cachedPage{}
	}
	pc.entries[key] = cachedPage{body: body, expires: expires}
	pc.mu.Unlock()
}

// renderPublic serves a public page from the cache, building and rendering it on a miss. path is the page's
// canonical path (never the raw request path, so the cache holds one entry per page and language).
func (s *Server) renderPublic(c *fiber.Ctx, path string, build func() (*pageSpec, error)) error {
	z := s.localizer(c)
	key := z.Lang.Code + " " + path
	now := s.now()
	body, ok := s.pages.get(key, now)
	if !ok {
		spec, err := build()
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		p := &views.Page{Lang: z.Lang, Title: spec.Title, Path: path, Crumbs: spec.Crumbs, Data: spec.Data, CSRF: csrfPlaceholder}
		if err := s.views.Render(&buf, spec.Name, p); err != nil {
			return err
		}
		body = buf.Bytes()
		s.pages.put(key, body, now.Add(pageCacheTTL))
	}
	token := ""
	if sess := sessionOf(c); sess != nil {
		token = s.csrfToken(sess.ID())
	}
	c.Status(fiber.StatusOK)
	c.Type("html", "utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(bytes.ReplaceAll(body, []byte(csrfPlaceholder), []byte(token)))
}
