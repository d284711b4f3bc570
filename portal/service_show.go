package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// servicePages describe how each online service works, with the offices that help residents use it.
// Start is where the service begins, when it begins on the portal (sign-in first, for residents not signed in).
var servicePages = map[string]struct{ Title, Text, Body, Start string }{
	"prenota-appuntamento": {"service.booking.title", "service.booking.text", "page.service.booking.body", bookingPath},
	"le-mie-pratiche":      {"service.cases.title", "service.cases.text", "page.service.cases.body", ""},
	"colloquio-online":     {"service.interview.title", "service.interview.text", "page.service.interview.body", ""},
}

func (s *Server) showServicePage(c *fiber.Ctx) error {
	slug := c.Params("slug")
	sp, ok := servicePages[slug]
	if !ok {
		return errNotFound(nil)
	}
	return s.renderPublic(c, "/servizi/"+slug, func() (*pageSpec, error) {
		offices, err := s.DB.Offices(c.UserContext())
		if err != nil {
			return nil, err
		}
		return &pageSpec{Name: "service", Title: s.localizer(c).T(sp.Title), Crumbs: []views.Crumb{s.home(c)},
			Data: map[string]any{"Text": sp.Text, "Body": sp.Body, "Start": sp.Start, "Offices": offices}}, nil
	})
}
