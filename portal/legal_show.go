package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// showLegalPage renders the accessibility statement, the privacy notice or the cookie notice.
func (s *Server) showLegalPage(name string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		return s.renderPublic(c, c.Route().Path, func() (*pageSpec, error) {
			return &pageSpec{Name: "legal", Title: s.localizer(c).T("page." + name + ".title"), Crumbs: []views.Crumb{s.home(c)},
				Data: map[string]any{"Body": "page." + name + ".body"}}, nil
		})
	}
}
