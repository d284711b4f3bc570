package portal

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// showAppointmentsPage is "I miei appuntamenti": the appointments to come first, then those past or cancelled.
func (s *Server) showAppointmentsPage(c *fiber.Ctx) error {
	all, err := s.DB.BookingsOf(c.UserContext(), personID(sessionOf(c)))
	if err != nil {
		return err
	}
	now := s.now()
	var upcoming, other []storage.Booking
	for _, b := range all {
		if b.Upcoming(now) {
			upcoming = append(upcoming, b)
		} else {
			other = append(other, b)
		}
	}
	// the most recent past appointments first
	for i, j := 0, len(other)-1; i < j; i, j = i+1, j-1 {
		other[i], other[j] = other[j], other[i]
	}
	z := s.localizer(c)
	return s.render(c, fiber.StatusOK, "appointments", z.T("appointments.mine.title"),
		[]views.Crumb{s.home(c), {Title: z.T("nav.personal_area"), URL: "/area-personale"}},
		map[string]any{"Upcoming": upcoming, "Other": other, "Cancelled": c.Query("annullato") == "1", "Rooms": roomsOf(all, now)})
}

// loadAppointment is the resident's own appointment in the URL; anyone else's does not exist for them.
func (s *Server) loadAppointment(c *fiber.Ctx) (storage.Booking, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return storage.Booking{}, errNotFound(err)
	}
	return s.DB.BookingOf(c.UserContext(), id, personID(sessionOf(c)))
}

// showAppointmentPage is one appointment with everything about it, and how to cancel it while it is to come.
func (s *Server) showAppointmentPage(c *fiber.Ctx) error {
	b, err := s.loadAppointment(c)
	if err != nil {
		return err
	}
	return s.renderAppointment(c, fiber.StatusOK, b, "")
}

func (s *Server) renderAppointment(c *fiber.Ctx, status int, b storage.Booking, alert string) error {
	z := s.localizer(c)
	lang, _ := s.I18n.Lookup(b.Lang)
	return s.render(c, status, "appointment", z.T("appointments.show.title", map[string]any{"Date": z.Date(b.StartsAt)}),
		s.bookingCrumbs(c), map[string]any{"Booking": b, "Upcoming": b.Upcoming(s.now()), "Language": lang,
			"Booked": c.Query("prenotato") == "1", "Moved": c.Query("spostato") == "1", "Alert": alert,
			"Room": len(roomsOf([]storage.Booking{b}, s.now())) > 0})
}
