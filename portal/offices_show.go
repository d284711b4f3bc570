package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

func (s *Server) showOfficesPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	offices, err := s.DB.Offices(ctx)
	if err != nil {
		return err
	}
	subAmbiti, err := s.DB.SubAmbiti(ctx)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "offices", s.localizer(c).T("page.offices.title"), []views.Crumb{s.home(c)},
		map[string]any{"Offices": offices, "SubAmbiti": subAmbiti})
}
