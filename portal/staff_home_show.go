package portal

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// showStaffHomePage is the back office's first page: who is signed in, with which role and scope, and what they
// can do.
func (s *Server) showStaffHomePage(c *fiber.Ctx) error {
	return s.renderStaff(c, fiber.StatusOK, "staff_home", s.localizer(c).T("staff.home.title"), nil, nil)
}

// showStaffRecoveryCodesPage shows the recovery codes made at enrolment, once: they leave the session as they are
// shown, and only their hashes are stored.
func (s *Server) showStaffRecoveryCodesPage(c *fiber.Ctx) error {
	sess := s.staffSessions.of(c)
	codes, _ := sess.Get(keyStaffCodes).(string)
	if codes == "" {
		return c.Redirect("/backoffice", fiber.StatusSeeOther)
	}
	sess.Set(keyStaffCodes, "")
	return s.renderStaff(c, fiber.StatusOK, "staff_recovery_codes", s.localizer(c).T("staff.codes.title"), nil,
		map[string]any{"Codes": strings.Split(codes, "\n")})
}
