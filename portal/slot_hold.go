package portal

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
)

// submitSlotHold holds the chosen time for the resident (or the visitor, for a service that allows guests) while
// they confirm, then shows the confirm page. A time that is not offered (past, outside the opening hours, off the
// window), a full one, one that others are confirming and a resident at the service's limit are refused with the
// reason and the next free times. A guest's limit is checked by e-mail, once they give it.
func (s *Server) submitSlotHold(c *fiber.Ctx) error {
	t, err := s.bookingTargetOf(c)
	if err != nil {
		return err
	}
	if ok, err := s.bookingAllowed(c, t.Service); !ok {
		return err
	}
	typed := choicesOf(c.FormValue)
	start, err := strconv.ParseInt(c.FormValue("inizio"), 10, 64)
	if err != nil {
		return s.renderSlots(c, fiber.StatusUnprocessableEntity, t, c.FormValue("giorno"), "appointments.error.choose", typed)
	}
	sl, why, err := s.findSlot(c, t, start)
	if err != nil {
		return err
	}
	if why != "" {
		return s.renderUnavailable(c, fiber.StatusUnprocessableEntity, t, why, typed)
	}
	ctx := c.UserContext()
	if person := personID(sessionOf(c)); person != 0 {
		open, err := s.DB.OpenBookings(ctx, person, t.Service.Code, s.now())
		if err != nil {
			return err
		}
		if open >= t.Service.MaxOpen {
			return s.renderSlots(c, fiber.StatusConflict, t, c.FormValue("giorno"), "appointments.error.limit", typed)
		}
	}
	if sl.Left() == 0 {
		return s.renderUnavailable(c, fiber.StatusConflict, t, "appointments.error.taken", typed)
	}
	_, ok, err := s.hold(ctx, t, sl, holderOf(c, true), holdersOf(c), holdTTL)
	if err != nil {
		return err
	}
	if !ok {
		return s.renderUnavailable(c, fiber.StatusConflict, t, holdByOther, typed)
	}
	to := slotsPath(t.Service.Code, t.Office.Code) + "/conferma?inizio=" + strconv.FormatInt(start, 10)
	if q := typed.query(); q != "" {
		to += "&" + q
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}
