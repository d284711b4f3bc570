package portal

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// staffRow is an account with its state, as the admin pages show it.
type staffRow struct {
	storage.StaffUser
	State string // message suffix: active, disabled, locked, not_enrolled
}

func staffState(u storage.StaffUser, now time.Time) string {
	switch {
	case u.DisabledAt != nil:
		return "disabled"
	case u.LockedUntil != nil && now.Before(*u.LockedUntil):
		return "locked"
	case !u.Enrolled():
		return "not_enrolled"
	}
	return "active"
}

// showStaffUsersPage lists the back-office accounts (admins only).
func (s *Server) showStaffUsersPage(c *fiber.Ctx) error {
	users, err := s.DB.StaffUsers(c.UserContext())
	if err != nil {
		return err
	}
	rows := make([]staffRow, len(users))
	for i, u := range users {
		rows[i] = staffRow{StaffUser: u, State: staffState(u, s.now())}
	}
	return s.renderStaff(c, fiber.StatusOK, "staff_users", s.localizer(c).T("staff.users.title"),
		[]views.Crumb{s.staffCrumb(c)}, map[string]any{"Users": rows})
}
