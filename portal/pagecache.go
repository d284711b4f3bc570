package portal

import (
	"bytes"
	"compress/gzip"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// pageCacheTTL is how long a rendered public page is reused. Public pages (home, measures, offices, legal
// texts) are the same for every visitor, and on a click day thousands of residents open the same home page within
// seconds: each is rendered and compressed once per language per TTL instead of once per visit. What they show
// (calls, offices) changes by staff action, and ten seconds late is fine for an information page; whether a call
// is open is decided again, at submission, by the server.
const pageCacheTTL = 10 * time.Second

// pageSpec is what a handler hands to the renderer.
type pageSpec struct {
	Name   string // template
	Title  string
	Crumbs []views.Crumb
	Data   any
}

type pageCache struct {
	mu      sync.RWMutex
	entries map[string]*cachedPage
}

type cachedPage struct {
	plain, gzip []byte
	expires     time.Time
}

func (pc *pageCache) get(key string, now time.Time) (*cachedPage, bool) {
	pc.mu.RLock()
	e, ok := pc.entries[key]
	pc.mu.RUnlock()
	return e, ok && now.Before(e.expires)
}

func (pc *pageCache) put(key string, e *cachedPage) {
	pc.mu.Lock()
	if pc.entries == nil {
		pc.entries = map[string]*cachedPage{}
	}
	pc.entries[key] = e
	pc.mu.Unlock()
}

// renderPublic serves a public page from the cache, building and rendering it on a miss. path is the page's
// canonical path (never the raw request path, so the cache holds one entry per page and language).
func (s *Server) renderPublic(c *fiber.Ctx, path string, build func() (*pageSpec, error)) error {
	z := s.localizer(c)
	key := z.Lang.Code + " " + path
	now := s.now()
	page, ok := s.pages.get(key, now)
	if !ok {
		spec, err := build()
		if err != nil {
			return err
		}
		var plain, zipped bytes.Buffer
		p := &views.Page{Lang: z.Lang, Title: spec.Title, Path: path, Crumbs: spec.Crumbs, Data: spec.Data}
		if err := s.views.Render(&plain, spec.Name, p); err != nil {
			return err
		}
		zw, _ := gzip.NewWriterLevel(&zipped, gzip.BestCompression)
		zw.Write(plain.Bytes()) //nolint:errcheck // writes to memory
		zw.Close()
		page = &cachedPage{plain: plain.Bytes(), gzip: zipped.Bytes(), expires: now.Add(pageCacheTTL)}
		s.pages.put(key, page)
	}
	c.Status(fiber.StatusOK)
	c.Type("html", "utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Vary(fiber.HeaderAcceptEncoding)
	if acceptsGzip(c) {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(page.gzip)
	}
	return c.Send(page.plain)
}

// acceptsGzip reports whether the client asked for gzip. (Fiber's AcceptsEncodings answers yes when the header is
// missing, and a client that did not ask cannot be sent gzip.)
func acceptsGzip(c *fiber.Ctx) bool {
	return c.Request().Header.HasAcceptEncoding("gzip")
}
