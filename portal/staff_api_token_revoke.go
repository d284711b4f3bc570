package portal

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
)

// submitStaffAPITokenRevoke revokes a token at once: its next request is refused. The row stays, so the audit
// log keeps naming the system that did what.
func (s *Server) submitStaffAPITokenRevoke(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return errNotFound(err)
	}
	if _, err := s.DB.RevokeAPIToken(c.UserContext(), staffActor(c), id, s.now()); err != nil {
		return err
	}
	return s.redirectWithNotice(c, staffAPIPath, "staff.api.done_revoke")
}
