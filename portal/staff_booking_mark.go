package portal

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// submitStaffBookingArrived records that the resident came to an appointment of today or before.
func (s *Server) submitStaffBookingArrived(c *fiber.Ctx) error {
	return s.markBooking(c, storage.BookingArrived)
}

// submitStaffBookingNoShow records that the resident did not come.
func (s *Server) submitStaffBookingNoShow(c *fiber.Ctx) error {
	return s.markBooking(c, storage.BookingNoShow)
}

// markBooking marks a booking of an office in scope (404 otherwise) and goes back to the calendar it came from.
// An appointment still to come, or one cancelled or moved, is refused on the calendar with the reason (409).
func (s *Server) markBooking(c *fiber.Ctx, status string) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return errNotFound(err)
	}
	office, at, err := s.DB.MarkBooking(c.UserContext(), staffActor(c), id, status, s.now())
	why := ""
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return errNotFound(err)
	case errors.Is(err, storage.ErrNotYet):
		why = "calendar.mark.error.future"
	case errors.Is(err, storage.ErrNotMarkable):
		why = "calendar.mark.error.cancelled"
	case err != nil:
		return err
	}
	q, qerr := s.calendarQueryOf(c, c.FormValue)
	if qerr != nil {
		return qerr
	}
	if q.Office != office { // the calendar to go back to is the booking's
		q = calendarQuery{Office: office}
		q.Day = slots.DayOf(at, i18n.Rome)
	}
	if why != "" {
		return s.renderCalendar(c, fiber.StatusConflict, q, nil, s.localizer(c).T(why))
	}
	return s.redirectWithNotice(c, q.url(), "calendar.mark.done_"+status)
}
