package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// staffCodePending returns the enrolled account awaiting its code in this session; when there is none it returns
// nil, having redirected (to the password, or to enrolment).
func (s *Server) staffCodePending(c *fiber.Ctx) (*storage.StaffUser, error) {
	u, err := s.staffPendingUser(c)
	if u == nil {
		return nil, err
	}
	if !u.Enrolled() {
		return nil, c.Redirect("/backoffice/accesso/attivazione", fiber.StatusSeeOther)
	}
	return u, nil
}

func (s *Server) showStaffTOTPPage(c *fiber.Ctx) error {
	if u, err := s.staffCodePending(c); u == nil {
		return err
	}
	return s.renderStaffTOTP(c, fiber.StatusOK, "", "")
}

func (s *Server) renderStaffTOTP(c *fiber.Ctx, status int, codeErr, alert string) error {
	errs := map[string]string{}
	if codeErr != "" {
		errs["code"] = codeErr
	}
	return s.renderStaff(c, status, "staff_totp", s.localizer(c).T("staff.totp.title"), nil,
		map[string]any{"Errors": errs, "Alert": alert})
}

// submitStaffTOTP completes sign-in with a code from the app: one step either side of the server's clock is
// accepted, a code already used (or older than the last one used) is not.
func (s *Server) submitStaffTOTP(c *fiber.Ctx) error {
	u, err := s.staffCodePending(c)
	if u == nil {
		return err
	}
	ctx := c.UserContext()
	typed := c.FormValue("code")
	code := normalizeDigits(typed)
	if msg := codeFormatError(typed, code); msg != "" {
		return s.renderStaffTOTP(c, fiber.StatusUnprocessableEntity, msg, s.localizer(c).T("staff.error.form"))
	}
	_, ok, wait, err := s.staffTry(ctx, u.ID, func(u *storage.StaffUser) (bool, error) {
		step := totpMatch(*u.TOTPSecret, code, s.now(), u.TOTPLastStep)
		if step == 0 {
			return false, nil
		}
		return s.DB.UseStaffTOTPStep(ctx, u.ID, step) // false: a concurrent request used this step first
	})
	if err != nil {
		return err
	}
	if wait != nil {
		return s.renderStaffWait(c, wait, func(alert string) error {
			return s.renderStaffTOTP(c, fiber.StatusTooManyRequests, "", alert)
		})
	}
	if !ok {
		return s.renderStaffTOTP(c, fiber.StatusUnprocessableEntity, "staff.error.code_wrong", s.localizer(c).T("staff.error.form"))
	}
	if err := s.completeStaffSignIn(ctx, s.staffSessions.of(c), u.ID); err != nil {
		return err
	}
	return c.Redirect("/backoffice", fiber.StatusSeeOther)
}
