package portal

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// render writes a page with the envelope every template expects.
func (s *Server) render(c *fiber.Ctx, status int, page, title string, crumbs []views.Crumb, data any) error {
	z := s.localizer(c)
	p := &views.Page{
		Lang:       z.Lang,
		Title:      title,
		Path:       c.Path(),
		Crumbs:     crumbs,
		Data:       data,
		RequestID:  c.GetRespHeader("X-Request-ID"),
		StatusCode: status,
	}
	c.Status(status)
	c.Type("html", "utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.views.Render(c.Response().BodyWriter(), page, p)
}

// home is the first breadcrumb of every page.
func (s *Server) home(c *fiber.Ctx) views.Crumb {
	return views.Crumb{Title: s.localizer(c).T("nav.home"), URL: "/"}
}

// handleError is the one place errors become pages: it logs the cause and renders a localized page with the right
// status. A failure while rendering falls back to plain text, never a stack trace.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	e := classify(err)
	rid := c.GetRespHeader("X-Request-ID")
	switch {
	case e.Status >= 500:
		s.Log.Error("request failed", "status", e.Status, "route", c.Route().Path, "request_id", rid, "err", e.Cause)
	case e.Cause != nil && e.Status != fiber.StatusNotFound:
		s.Log.Warn("request refused", "status", e.Status, "route", c.Route().Path, "request_id", rid, "err", e.Cause)
	}
	if e.Status == fiber.StatusServiceUnavailable {
		c.Set(fiber.HeaderRetryAfter, "30")
	}
	c.Response().ResetBody()
	z := s.localizer(c)
	title := z.T("error." + e.Msg + ".title")
	data := map[string]string{"Text": "error." + e.Msg + ".text"}
	if rerr := s.render(c, e.Status, "error", title, nil, data); rerr != nil {
		s.Log.Error("error page failed", "request_id", rid, "err", errors.Join(err, rerr))
		c.Type("txt", "utf-8")
		return c.Status(e.Status).SendString(title)
	}
	return nil
}
