package portal

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// submitStaffBookingAssign makes a worker (or nobody) the one who receives an appointment of an office in scope,
// from the calendar: for an online appointment, the one who may enter its room and invite a mediator. A worker
// who cannot work at the office, or an appointment cancelled or moved, is refused on the calendar (409).
func (s *Server) submitStaffBookingAssign(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return errNotFound(err)
	}
	var worker int64
	if v := c.FormValue("assegna"); v != "" {
		if worker, err = strconv.ParseInt(v, 10, 64); err != nil || worker <= 0 {
			return errBadRequest(errors.New("assign: worker " + v))
		}
	}
	office, at, err := s.DB.AssignBooking(c.UserContext(), staffActor(c), id, worker)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return errNotFound(err)
	case err != nil && !errors.Is(err, storage.ErrNotAssignable):
		return err
	}
	q, qerr := s.calendarQueryOf(c, c.FormValue)
	if qerr != nil {
		return qerr
	}
	if q.Office != office { // the calendar to go back to is the booking's
		q = calendarQuery{Office: office, Day: slots.DayOf(at, i18n.Rome)}
	}
	if err != nil {
		return s.renderCalendar(c, fiber.StatusConflict, q, nil, s.localizer(c).T("colloqui.assign.error"))
	}
	return s.redirectWithNotice(c, q.url(), "colloqui.assign.done")
}
