package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// showStaffOfficesPage lists the sportelli in the signed-in person's scope (the query filters them).
func (s *Server) showStaffOfficesPage(c *fiber.Ctx) error {
	offices, err := s.DB.StaffOffices(c.UserContext(), currentStaff(c).ID)
	if err != nil {
		return err
	}
	return s.renderStaff(c, fiber.StatusOK, "staff_offices", s.localizer(c).T("staff.offices.title"),
		[]views.Crumb{s.staffCrumb(c)}, map[string]any{"Offices": offices})
}
