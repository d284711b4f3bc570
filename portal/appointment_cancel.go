package portal

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// showAppointmentCancelPage asks to confirm cancelling: one tap on a phone must not cancel by mistake.
func (s *Server) showAppointmentCancelPage(c *fiber.Ctx) error {
	b, err := s.loadAppointment(c)
	if err != nil {
		return err
	}
	if !b.Upcoming(s.now()) {
		return s.renderAppointment(c, fiber.StatusConflict, b, "appointments.error.not_cancellable")
	}
	z := s.localizer(c)
	return s.render(c, fiber.StatusOK, "appointment_cancel", z.T("appointments.cancel.title"),
		s.bookingCrumbs(c, views.Crumb{Title: z.T("appointments.show.title", map[string]any{"Date": z.Date(b.StartsAt)}),
			URL: appointmentPath(b.ID)}), map[string]any{"Booking": b, "Base": appointmentPath(b.ID)})
}

// submitAppointmentCancel cancels the resident's appointment; its place is free again at once, and its reminder
// is withdrawn.
func (s *Server) submitAppointmentCancel(c *fiber.Ctx) error {
	b, err := s.loadAppointment(c)
	if err != nil {
		return err
	}
	if _, err := s.cancelAppointment(c.UserContext(), storage.BookingWhere{ID: b.ID, PersonID: personID(sessionOf(c))}); errors.Is(err, storage.ErrNotCancellable) {
		return s.renderAppointment(c, fiber.StatusConflict, b, "appointments.error.not_cancellable")
	} else if err != nil {
		return err
	}
	return c.Redirect(appointmentsPath+"?annullato=1", fiber.StatusSeeOther)
}
