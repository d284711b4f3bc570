package portal

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/auth"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

func (s *Server) showStaffSignInPage(c *fiber.Ctx) error {
	sess := s.staffSessions.of(c)
	if staffIDOf(sess.User()) != 0 {
		return c.Redirect("/backoffice", fiber.StatusSeeOther)
	}
	return s.renderStaffSignIn(c, fiber.StatusOK, "", nil, "")
}

// renderStaffSignIn shows the sign-in form; alert is a localized text above it.
func (s *Server) renderStaffSignIn(c *fiber.Ctx, status int, username string, errs map[string]string, alert string) error {
	return s.renderStaff(c, status, "staff_signin", s.localizer(c).T("staff.signin.title"), nil, map[string]any{
		"Username": username, "Errors": errs, "Alert": alert})
}

// submitStaffSignIn checks the username and password, the first of the two steps. A right password leads to the
// code (or to enrolment the first time); the session is not signed in before the code is right too.
func (s *Server) submitStaffSignIn(c *fiber.Ctx) error {
	ctx := c.UserContext()
	sess := s.staffSessions.of(c)
	username := strings.ToLower(strings.TrimSpace(c.FormValue("username")))
	password := c.FormValue("password")
	errs := map[string]string{}
	if username == "" {
		errs["username"] = "staff.error.username_required"
	}
	if password == "" {
		errs["password"] = "staff.error.password_required"
	}
	if len(username) > 64 || len(password) > 1024 {
		errs["username"] = "staff.error.credentials"
	}
	if len(errs) > 0 {
		return s.renderStaffSignIn(c, fiber.StatusUnprocessableEntity, username, errs, s.localizer(c).T("staff.error.form"))
	}
	u, err := s.DB.StaffUserByUsername(ctx, username)
	if err == storage.ErrNotFound || (err == nil && u.DisabledAt != nil) {
		auth.CheckPassword(dummyHash(), password) //nolint:errcheck // same time as a real check
		return s.renderStaffSignIn(c, fiber.StatusUnprocessableEntity, username, nil, s.localizer(c).T("staff.error.credentials"))
	}
	if err != nil {
		return err
	}
	_, ok, wait, err := s.staffTry(ctx, u.ID, func(u *storage.StaffUser) (bool, error) {
		ok, err := auth.CheckPassword(u.PasswordHash, password)
		return ok, err
	})
	if err != nil {
		return err
	}
	if wait != nil {
		return s.renderStaffWait(c, wait, func(alert string) error {
			return s.renderStaffSignIn(c, fiber.StatusTooManyRequests, username, nil, alert)
		})
	}
	if !ok {
		return s.renderStaffSignIn(c, fiber.StatusUnprocessableEntity, username, nil, s.localizer(c).T("staff.error.credentials"))
	}
	// A new ID already at this half-way point: whoever planted or saw the old one learns nothing from it. A session
	// still signed in as someone else is ended rather than carried over.
	if sess.User() != "" {
		err = sess.SignOut(ctx)
	} else {
		err = sess.Renew()
	}
	if err != nil {
		return err
	}
	sess.Set(keyStaffPending, u.ID)
	sess.Set(keyStaffPendingAt, s.now().Unix())
	if !u.Enrolled() {
		return c.Redirect("/backoffice/accesso/attivazione", fiber.StatusSeeOther)
	}
	return c.Redirect("/backoffice/accesso/codice", fiber.StatusSeeOther)
}

// renderStaffWait explains a refused attempt (back-off, lock, or another attempt running) with the time to wait,
// and sends Retry-After.
func (s *Server) renderStaffWait(c *fiber.Ctx, w *staffWait, render func(alert string) error) error {
	z := s.localizer(c)
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(int(w.Until.Sub(s.now())/time.Second)+1, 1)))
	switch {
	case w.Busy:
		return render(z.T("staff.error.busy"))
	case w.Locked:
		return render(z.T("staff.error.locked", map[string]any{"Time": w.Until.In(i18n.Rome).Format("15:04")}))
	default:
		return render(z.T("staff.error.backoff", map[string]any{"Time": w.Until.In(i18n.Rome).Format("15:04:05")}))
	}
}

// submitStaffSignOut deletes the session server-side: the old cookie is worthless afterwards.
func (s *Server) submitStaffSignOut(c *fiber.Ctx) error {
	if err := s.staffSessions.of(c).SignOut(c.UserContext()); err != nil {
		return err
	}
	return c.Redirect("/backoffice/accesso", fiber.StatusSeeOther)
}
