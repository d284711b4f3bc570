package portal

import (
	"github.com/gofiber/fiber/v2"
)

// showBookingServicesPage is the first step of booking: what the appointment is for.
func (s *Server) showBookingServicesPage(c *fiber.Ctx) error {
	services, err := s.DB.Services(c.UserContext())
	if err != nil {
		return err
	}
	z := s.localizer(c)
	return s.render(c, fiber.StatusOK, "booking_services", z.T("appointments.book.title"), s.bookingCrumbs(c),
		map[string]any{"Services": services, "Step": 1, "Guest": personID(sessionOf(c)) == 0})
}
