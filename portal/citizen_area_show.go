package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/notifications"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// showPersonalArea is the signed-in resident's home: who they are, how they signed in, where to go next.
func (s *Server) showPersonalArea(c *fiber.Ctx) error {
	p, err := s.currentPerson(c)
	if err != nil {
		return err
	}
	sess := sessionOf(c)
	method, _ := sess.Get(keyAuthMethod).(string)
	unread, err := notifications.UnreadCount(c.UserContext(), s.DB.Pool, p.ID)
	if err != nil {
		return err
	}
	z := s.localizer(c)
	return s.render(c, fiber.StatusOK, "area", z.T("nav.personal_area"), []views.Crumb{s.home(c)},
		map[string]any{"Person": p, "Method": method, "Unread": unread})
}
