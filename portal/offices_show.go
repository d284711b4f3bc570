package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

func (s *Server) showOfficesPage(c *fiber.Ctx) error {
	return s.renderPublic(c, "/sedi", func() (*pageSpec, error) {
		ctx := c.UserContext()
		offices, err := s.DB.Offices(ctx)
		if err != nil {
			return nil, err
		}
		subAmbiti, err := s.DB.SubAmbiti(ctx)
		if err != nil {
			return nil, err
		}
		return &pageSpec{Name: "offices", Title: s.localizer(c).T("page.offices.title"), Crumbs: []views.Crumb{s.home(c)},
			Data: map[string]any{"Offices": offices, "SubAmbiti": subAmbiti}}, nil
	})
}
