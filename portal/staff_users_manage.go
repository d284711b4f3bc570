package portal

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// staffTarget loads the account named in the URL (admins only reach these handlers).
func (s *Server) staffTarget(c *fiber.Ctx) (storage.StaffUser, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return storage.StaffUser{}, errNotFound(err)
	}
	return s.DB.StaffUserByID(c.UserContext(), id)
}

func (s *Server) showStaffUserPage(c *fiber.Ctx) error {
	u, err := s.staffTarget(c)
	if err != nil {
		return err
	}
	f := &staffUserForm{Role: u.Role, Scopes: u.Scopes, Errors: map[string]string{}}
	return s.renderStaffUser(c, fiber.StatusOK, u, f, "")
}

func (s *Server) renderStaffUser(c *fiber.Ctx, status int, u storage.StaffUser, f *staffUserForm, alert string) error {
	subAmbiti, err := s.DB.SubAmbiti(c.UserContext())
	if err != nil {
		return err
	}
	z := s.localizer(c)
	data := map[string]any{"User": staffRow{StaffUser: u, State: staffState(u, s.now())}, "Form": f, "Errors": f.Errors,
		"Alert": alert, "SubAmbiti": subAmbiti, "Roles": storage.Roles, "Self": u.ID == currentStaff(c).ID}
	if u.LockedUntil != nil {
		data["LockedUntil"] = u.LockedUntil.In(i18n.Rome).Format("15:04")
	}
	// A one-time password just made for this account is shown once.
	sess := s.staffSessions.of(c)
	if v, _ := sess.Get(keyStaffOneTime).(string); v != "" {
		if id, pw, _ := strings.Cut(v, "\n"); id == strconv.FormatInt(u.ID, 10) {
			data["OneTimePassword"] = pw
			sess.Set(keyStaffOneTime, "")
		}
	}
	return s.renderStaff(c, status, "staff_user", u.FullName,
		[]views.Crumb{s.staffCrumb(c), {Title: z.T("staff.users.title"), URL: "/backoffice/utenti"}}, data)
}

func (s *Server) userURL(u storage.StaffUser) string {
	return "/backoffice/utenti/" + strconv.FormatInt(u.ID, 10)
}

// submitStaffUserRole changes role and scope. Admins cannot change their own role: the district must not lose
// its last admin by a slip.
func (s *Server) submitStaffUserRole(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u, err := s.staffTarget(c)
	if err != nil {
		return err
	}
	subAmbiti, err := s.DB.SubAmbiti(ctx)
	if err != nil {
		return err
	}
	f := &staffUserForm{Errors: map[string]string{}}
	s.parseStaffRole(c, f, subAmbiti)
	if u.ID == currentStaff(c).ID && f.Role != u.Role {
		f.Errors["role"] = "staff.error.self"
	}
	if len(f.Errors) > 0 {
		return s.renderStaffUser(c, fiber.StatusUnprocessableEntity, u, f, s.localizer(c).T("staff.error.form"))
	}
	if err := s.DB.UpdateStaffRole(ctx, u.ID, f.Role, f.Scopes); err != nil {
		return err
	}
	return s.redirectWithNotice(c, s.userURL(u), "staff.user.done_role")
}

// submitStaffUserTOTPReset forgets the account's authenticator app and recovery codes and ends its sessions: the
// next sign-in enrols again.
func (s *Server) submitStaffUserTOTPReset(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u, err := s.staffTarget(c)
	if err != nil {
		return err
	}
	if err := s.DB.ResetStaffTOTP(ctx, u.ID); err != nil {
		return err
	}
	if err := s.endStaffSessions(c, u.ID); err != nil {
		return err
	}
	return s.redirectWithNotice(c, s.userURL(u), "staff.user.done_totp")
}

// submitStaffUserUnlock clears the account's failures and lock.
func (s *Server) submitStaffUserUnlock(c *fiber.Ctx) error {
	u, err := s.staffTarget(c)
	if err != nil {
		return err
	}
	if err := s.DB.ResetStaffAttempts(c.UserContext(), u.ID); err != nil {
		return err
	}
	return s.redirectWithNotice(c, s.userURL(u), "staff.user.done_unlock")
}

// submitStaffUserPassword replaces the password with a one-time one, shown once, and ends the account's sessions.
func (s *Server) submitStaffUserPassword(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u, err := s.staffTarget(c)
	if err != nil {
		return err
	}
	password, hash, err := oneTimePassword()
	if err != nil {
		return err
	}
	if err := s.DB.SetStaffPassword(ctx, u.ID, hash, true); err != nil {
		return err
	}
	if err := s.endStaffSessions(c, u.ID); err != nil {
		return err
	}
	s.staffSessions.of(c).Set(keyStaffOneTime, strconv.FormatInt(u.ID, 10)+"\n"+password)
	return s.redirectWithNotice(c, s.userURL(u), "staff.user.done_password")
}

// submitStaffUserDisable disables the account and ends its sessions at once; admins cannot disable themselves.
func (s *Server) submitStaffUserDisable(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u, err := s.staffTarget(c)
	if err != nil {
		return err
	}
	if u.ID == currentStaff(c).ID {
		f := &staffUserForm{Role: u.Role, Scopes: u.Scopes, Errors: map[string]string{}}
		return s.renderStaffUser(c, fiber.StatusUnprocessableEntity, u, f, s.localizer(c).T("staff.error.self"))
	}
	now := s.now()
	if err := s.DB.SetStaffDisabled(ctx, u.ID, &now); err != nil {
		return err
	}
	if err := s.endStaffSessions(c, u.ID); err != nil {
		return err
	}
	return s.redirectWithNotice(c, s.userURL(u), "staff.user.done_disable")
}

func (s *Server) submitStaffUserEnable(c *fiber.Ctx) error {
	u, err := s.staffTarget(c)
	if err != nil {
		return err
	}
	if err := s.DB.SetStaffDisabled(c.UserContext(), u.ID, nil); err != nil {
		return err
	}
	return s.redirectWithNotice(c, s.userURL(u), "staff.user.done_enable")
}

// endStaffSessions signs the account out everywhere. When admins act on their own account (a TOTP reset or a new
// password), that includes this session.
func (s *Server) endStaffSessions(c *fiber.Ctx, id int64) error {
	if err := s.staffSessions.EndAll(c.UserContext(), staffKey(id)); err != nil {
		return err
	}
	if id == currentStaff(c).ID {
		return s.staffSessions.of(c).SignOut(c.UserContext())
	}
	return nil
}
