package portal

import (
	"github.com/gofiber/fiber/v2"
)

// signOut ends this session on the server: the cookie the browser still holds is worthless afterwards.
func (s *Server) signOut(c *fiber.Ctx) error {
	if err := sessionOf(c).SignOut(c.UserContext()); err != nil {
		return err
	}
	return c.Redirect("/accesso?uscita=1", fiber.StatusSeeOther)
}

// signOutEverywhere ends every session of the resident, on every device.
func (s *Server) signOutEverywhere(c *fiber.Ctx) error {
	sess := sessionOf(c)
	if u := sess.User(); u != "" {
		if err := s.sessions.EndAll(c.UserContext(), u); err != nil {
			return err
		}
	}
	if err := sess.SignOut(c.UserContext()); err != nil {
		return err
	}
	return c.Redirect("/accesso?uscita=1", fiber.StatusSeeOther)
}
