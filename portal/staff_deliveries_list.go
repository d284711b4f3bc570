package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/notifications"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// showFailedDeliveriesPage lists notifications that are failing (retried with back-off) or dead (attempts used
// up), for admins: recipients are masked, errors are classes, never message bodies.
func (s *Server) showFailedDeliveriesPage(c *fiber.Ctx) error {
	rows, err := notifications.FailedDeliveries(c.UserContext(), s.DB.Pool, 200)
	if err != nil {
		return err
	}
	z := s.localizer(c)
	return s.renderStaff(c, fiber.StatusOK, "staff_deliveries", z.T("staff.deliveries.title"),
		[]views.Crumb{s.staffCrumb(c)}, map[string]any{"Deliveries": rows})
}
