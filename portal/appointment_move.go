package portal

import (
	"context"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// Moving an appointment to another time of the same service and office, signed in or through the link. No hold
// in Redis: the resident already has a place, and the move's one transaction decides (storage.MoveBooking) — a
// time just taken leaves the appointment where it was, with the other free times to choose from.

// targetOf is the service and office of a booking.
func (s *Server) targetOf(ctx context.Context, b storage.Booking) (bookingTarget, error) {
	svc, err := s.DB.ServiceByCode(ctx, b.Service)
	if err != nil {
		return bookingTarget{}, err
	}
	office, err := s.DB.ServiceOffice(ctx, b.Service, b.Office)
	return bookingTarget{Service: svc, Office: office}, err
}

// showAppointmentMovePage offers the free times of the appointment's service and office, a day at a time.
func (s *Server) showAppointmentMovePage(c *fiber.Ctx) error {
	a, err := s.accessOf(c)
	if err != nil {
		return err
	}
	if !a.Booking.Upcoming(s.now()) {
		return s.refuseMove(c, a, "appointments.error.not_movable")
	}
	return s.renderMove(c, fiber.StatusOK, a, c.Query("giorno"), "")
}

// refuseMove shows the appointment with why it cannot be moved.
func (s *Server) refuseMove(c *fiber.Ctx, a appointmentAccess, why string) error {
	if a.ByLink {
		return s.renderManaged(c, fiber.StatusConflict, a, why)
	}
	return s.renderAppointment(c, fiber.StatusConflict, a.Booking, why)
}

func (s *Server) renderMove(c *fiber.Ctx, status int, a appointmentAccess, day, alert string) error {
	ctx := c.UserContext()
	t, err := s.targetOf(ctx, a.Booking)
	if err != nil {
		return err
	}
	now := s.now()
	today := slots.DayOf(now, i18n.Rome)
	free, err := s.DB.FreeSlots(ctx, t.Service, t.Office, today, today+slots.Day(t.Service.ToDays), now)
	if err != nil {
		return err
	}
	days := slots.Days(free, i18n.Rome)
	var shown []dayView
	var current *dayView
	for _, d := range days {
		shown = append(shown, viewDay(d, len(slots.On(free, d, i18n.Rome))))
	}
	for i := range shown {
		if shown[i].Param == day {
			current = &shown[i]
		}
	}
	if current == nil && len(shown) > 0 {
		current = &shown[0]
	}
	var times []slotView
	if current != nil {
		d, _ := slots.ParseDay(current.Param)
		times = viewSlots(slots.On(free, d, i18n.Rome))
	}
	z := s.localizer(c)
	crumbs := []views.Crumb{s.home(c), {Title: z.T("appointments.show.title", map[string]any{"Date": z.Date(a.Booking.StartsAt)}), URL: a.Base}}
	if !a.ByLink {
		crumbs = s.bookingCrumbs(c, crumbs[1])
	}
	return s.render(c, status, "appointment_move", z.T("appointments.move.title"), crumbs,
		map[string]any{"Booking": a.Booking, "Target": t, "Days": shown, "Day": current, "Times": times,
			"Alert": alert, "Action": a.Base + "/sposta", "Base": a.Base})
}

// submitAppointmentMove moves the appointment to the chosen time: the new place is taken and the old one freed in
// one transaction, with the old reminder withdrawn and the new confirmation (with its own link) and reminder
// written. A past time, one not offered, or one just taken is refused and the appointment stays as it was.
func (s *Server) submitAppointmentMove(c *fiber.Ctx) error {
	a, err := s.accessOf(c)
	if err != nil {
		return err
	}
	if !a.Booking.Upcoming(s.now()) {
		return s.refuseMove(c, a, "appointments.error.not_movable")
	}
	ctx := c.UserContext()
	day := c.FormValue("giorno")
	start, err := strconv.ParseInt(c.FormValue("inizio"), 10, 64)
	if err != nil {
		return s.renderMove(c, fiber.StatusUnprocessableEntity, a, day, "appointments.error.choose")
	}
	t, err := s.targetOf(ctx, a.Booking)
	if err != nil {
		return err
	}
	sl, why, err := s.findSlot(c, t, start)
	if err != nil {
		return err
	}
	if why == "" && sl.Start.Equal(a.Booking.StartsAt) {
		why = "appointments.error.same_time"
	}
	if why != "" {
		return s.renderMove(c, fiber.StatusUnprocessableEntity, a, day, why)
	}
	if sl.Left() == 0 {
		return s.renderMove(c, fiber.StatusConflict, a, day, "appointments.error.taken_move")
	}
	to, channels, err := s.recipientOfBooking(ctx, a.Booking)
	if err != nil {
		return err
	}
	secret, hash := newLinkSecret()
	moved, err := s.DB.MoveBooking(ctx, a.Where, storage.Move{Slot: sl, TokenHash: hash, Now: s.now()},
		func(tx pgx.Tx, old, moved storage.Booking) error {
			if err := s.Outbox.Cancel(ctx, tx, reminderKey(old.ID), s.now()); err != nil {
				return err
			}
			return s.notifyBooked(ctx, tx, moved, to, channels, secret)
		})
	switch {
	case errors.Is(err, storage.ErrSlotTaken):
		return s.renderMove(c, fiber.StatusConflict, a, day, "appointments.error.taken_move")
	case errors.Is(err, storage.ErrSlotPast):
		return s.renderMove(c, fiber.StatusUnprocessableEntity, a, day, "appointments.error.past")
	case errors.Is(err, storage.ErrAlreadyBooked):
		return s.renderMove(c, fiber.StatusConflict, a, day, "appointments.error.already")
	case errors.Is(err, storage.ErrNotCancellable), errors.Is(err, storage.ErrNotFound):
		return s.refuseMove(c, a, "appointments.error.not_movable")
	case err != nil:
		return err
	}
	if a.ByLink {
		return c.Redirect(managePath+secret+"?spostato=1", fiber.StatusSeeOther)
	}
	return c.Redirect(appointmentPath(moved.ID)+"?spostato=1", fiber.StatusSeeOther)
}
