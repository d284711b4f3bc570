package portal

import (
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/auth"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// Staff password length: NIST SP 800-63B asks for at least 8 characters and any characters allowed; staff
// accounts see personal data, so 12.
const (
	staffPasswordMin = 12
	staffPasswordMax = 128
)

func (s *Server) showStaffPasswordPage(c *fiber.Ctx) error {
	return s.renderStaffPassword(c, fiber.StatusOK, nil, "")
}

func (s *Server) renderStaffPassword(c *fiber.Ctx, status int, errs map[string]string, alert string) error {
	z := s.localizer(c)
	return s.renderStaff(c, status, "staff_password", z.T("staff.password.title"), nil,
		map[string]any{"Errors": errs, "Alert": alert, "Min": staffPasswordMin})
}

// submitStaffPassword changes the signed-in person's password. The current password is asked again (and counts
// towards the lockout like any sign-in), and every other session of the account ends.
func (s *Server) submitStaffPassword(c *fiber.Ctx) error {
	ctx := c.UserContext()
	me := currentStaff(c)
	z := s.localizer(c)
	current, next, confirm := c.FormValue("current"), c.FormValue("new"), c.FormValue("confirm")
	errs := map[string]string{}
	if current == "" {
		errs["current"] = "staff.error.password_required"
	}
	switch n := utf8.RuneCountInString(next); {
	case n < staffPasswordMin:
		errs["new"] = "staff.error.password_short"
	case n > staffPasswordMax:
		errs["new"] = "staff.error.password_long"
	case next == current:
		errs["new"] = "staff.error.password_same"
	case confirm != next:
		errs["confirm"] = "staff.error.password_mismatch"
	}
	if len(errs) > 0 {
		return s.renderStaffPassword(c, fiber.StatusUnprocessableEntity, errs, z.T("staff.error.form"))
	}
	_, ok, wait, err := s.staffTry(ctx, me.ID, func(u *storage.StaffUser) (bool, error) {
		return auth.CheckPassword(u.PasswordHash, current)
	})
	if err != nil {
		return err
	}
	if wait != nil {
		return s.renderStaffWait(c, wait, func(alert string) error {
			return s.renderStaffPassword(c, fiber.StatusTooManyRequests, nil, alert)
		})
	}
	if !ok {
		return s.renderStaffPassword(c, fiber.StatusUnprocessableEntity,
			map[string]string{"current": "staff.error.password_wrong"}, z.T("staff.error.form"))
	}
	hash, err := auth.HashPassword(next)
	if err != nil {
		return err
	}
	if err := s.DB.SetStaffPassword(ctx, me.ID, hash, false); err != nil {
		return err
	}
	if err := s.DB.ResetStaffAttempts(ctx, me.ID); err != nil {
		return err
	}
	// Sign out everywhere, then sign this session back in with a new ID.
	if err := s.staffSessions.EndAll(ctx, staffKey(me.ID)); err != nil {
		return err
	}
	sess := s.staffSessions.of(c)
	if err := sess.SignIn(ctx, staffKey(me.ID)); err != nil {
		return err
	}
	return s.redirectWithNotice(c, "/backoffice", "staff.password.done")
}
