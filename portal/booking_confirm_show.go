package portal

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// showBookingConfirmPage is the last step: the held time with until when it is held, and the choices of the
// meeting (mode, language, interpreter or cultural mediator).
func (s *Server) showBookingConfirmPage(c *fiber.Ctx) error {
	t, err := s.bookingTargetOf(c)
	if err != nil {
		return err
	}
	typed := choicesOf(c.Query)
	start, err := strconv.ParseInt(c.Query("inizio"), 10, 64)
	if err != nil {
		return c.Redirect(slotsPath(t.Service.Code, t.Office.Code), fiber.StatusSeeOther)
	}
	sl, why, err := s.findSlot(c, t, start)
	if err != nil {
		return err
	}
	if why != "" {
		return s.renderUnavailable(c, fiber.StatusUnprocessableEntity, t, why, typed)
	}
	until, state, err := s.heldFor(c.UserContext(), t, start, personID(sessionOf(c)))
	if err != nil {
		return err
	}
	if state != holdOK {
		return s.renderUnavailable(c, fiber.StatusConflict, t, state, typed)
	}
	f := newForm()
	f.Values["modalita"], f.Values["lingua"], f.Values["interprete"] = typed.Mode, typed.Lang, typed.Interpreter
	if f.Values["modalita"] == "" {
		f.Values["modalita"] = t.Service.Modes[0]
	}
	if !meetingLanguage(f.Values["lingua"]) {
		f.Values["lingua"] = s.localizer(c).Lang.Code
	}
	return s.renderConfirm(c, fiber.StatusOK, t, sl, until, f)
}

// renderConfirm renders the confirm page with the form as typed.
func (s *Server) renderConfirm(c *fiber.Ctx, status int, t bookingTarget, sl slots.Slot, until time.Time, f *formState) error {
	z := s.localizer(c)
	f.Values["key"] = orNewKey(f.Values["key"])
	return s.render(c, status, "booking_confirm", z.T("appointments.confirm.title"),
		s.bookingCrumbs(c, views.Crumb{Title: z.T("appointments.book.title"), URL: bookingPath},
			views.Crumb{Title: s.serviceTitle(c, t.Service.Msg), URL: slotsPath(t.Service.Code, t.Office.Code)}),
		map[string]any{"Target": t, "Slot": viewSlots([]slots.Slot{sl})[0], "Until": until.In(i18n.Rome).Format("15:04"), "Form": f,
			"Action": slotsPath(t.Service.Code, t.Office.Code) + "/conferma", "SlotsURL": slotsPath(t.Service.Code, t.Office.Code),
			"Step": 4})
}
