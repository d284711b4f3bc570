package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// The services residents book, as admins and coordinatori set them (operatori are refused: the settings are the
// district's): length, modes, bookable window, limits, and which offices offer each with how many desks. A
// service's name stays a message ID (appointments.service.<msg>.title) translated with the portal, never typed
// by staff.

const servicesPath = "/backoffice/servizi"

// showStaffServicesPage lists every service, offered or not, in the residents' order.
func (s *Server) showStaffServicesPage(c *fiber.Ctx) error {
	services, err := s.DB.AllServices(c.UserContext())
	if err != nil {
		return err
	}
	return s.renderStaff(c, fiber.StatusOK, "staff_services", s.localizer(c).T("svcadmin.services.title"),
		[]views.Crumb{s.staffCrumb(c)}, map[string]any{"Services": services})
}
