package portal

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

func (s *Server) showStaffRecoveryPage(c *fiber.Ctx) error {
	if u, err := s.staffCodePending(c); u == nil {
		return err
	}
	return s.renderStaffRecovery(c, fiber.StatusOK, "", "", "")
}

func (s *Server) renderStaffRecovery(c *fiber.Ctx, status int, typed, codeErr, alert string) error {
	errs := map[string]string{}
	if codeErr != "" {
		errs["code"] = codeErr
	}
	return s.renderStaff(c, status, "staff_recovery", s.localizer(c).T("staff.recovery.title"), nil,
		map[string]any{"Code": typed, "Errors": errs, "Alert": alert})
}

// submitStaffRecovery completes sign-in with a recovery code instead of the app; each code works once.
func (s *Server) submitStaffRecovery(c *fiber.Ctx) error {
	u, err := s.staffCodePending(c)
	if u == nil {
		return err
	}
	ctx := c.UserContext()
	typed := strings.TrimSpace(c.FormValue("code"))
	code := normalizeRecoveryCode(typed)
	if len(typed) > 64 {
		typed = typed[:64]
	}
	switch {
	case typed == "":
		return s.renderStaffRecovery(c, fiber.StatusUnprocessableEntity, typed, "staff.error.recovery_required", s.localizer(c).T("staff.error.form"))
	case code == "":
		return s.renderStaffRecovery(c, fiber.StatusUnprocessableEntity, typed, "staff.error.recovery_format", s.localizer(c).T("staff.error.form"))
	}
	_, ok, wait, err := s.staffTry(ctx, u.ID, func(u *storage.StaffUser) (bool, error) {
		return s.DB.UseStaffRecoveryCode(ctx, u.ID, recoveryHash(u.ID, code), s.now())
	})
	if err != nil {
		return err
	}
	if wait != nil {
		return s.renderStaffWait(c, wait, func(alert string) error {
			return s.renderStaffRecovery(c, fiber.StatusTooManyRequests, typed, "", alert)
		})
	}
	if !ok {
		return s.renderStaffRecovery(c, fiber.StatusUnprocessableEntity, typed, "staff.error.recovery_wrong", s.localizer(c).T("staff.error.form"))
	}
	if err := s.completeStaffSignIn(ctx, s.staffSessions.of(c), u.ID); err != nil {
		return err
	}
	return c.Redirect("/backoffice", fiber.StatusSeeOther)
}
