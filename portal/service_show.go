package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// servicePages describe how each online service works, with the offices that help residents use it.
var servicePages = map[string]struct{ Title, Text, Body string }{
	"prenota-appuntamento": {"service.booking.title", "service.booking.text", "page.service.booking.body"},
	"le-mie-pratiche":      {"service.cases.title", "service.cases.text", "page.service.cases.body"},
	"colloquio-online":     {"service.interview.title", "service.interview.text", "page.service.interview.body"},
}

func (s *Server) showServicePage(c *fiber.Ctx) error {
	sp, ok := servicePages[c.Params("slug")]
	if !ok {
		return errNotFound(nil)
	}
	offices, err := s.DB.Offices(c.UserContext())
	if err != nil {
		return err
	}
	z := s.localizer(c)
	return s.render(c, fiber.StatusOK, "service", z.T(sp.Title), []views.Crumb{s.home(c)},
		map[string]any{"Text": sp.Text, "Body": sp.Body, "Offices": offices})
}
