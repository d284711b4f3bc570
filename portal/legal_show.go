package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// showLegalPage renders the accessibility statement, the privacy notice or the cookie notice.
func (s *Server) showLegalPage(name string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		z := s.localizer(c)
		return s.render(c, fiber.StatusOK, "legal", z.T("page."+name+".title"), []views.Crumb{s.home(c)},
			map[string]any{"Body": "page." + name + ".body"})
	}
}
