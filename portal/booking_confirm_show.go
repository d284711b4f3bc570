package portal

import (
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// showBookingConfirmPage is the last step: the held time with until when it is held, and the choices of the
// meeting (mode, language, interpreter or cultural mediator). A visitor not signed in (on a service that allows
// guests) chooses between signing in and continuing without an account, with their name and e-mail; what they
// typed for this time before (a new code, "change the details") is filled in again.
func (s *Server) showBookingConfirmPage(c *fiber.Ctx) error {
	t, err := s.bookingTargetOf(c)
	if err != nil {
		return err
	}
	if ok, err := s.bookingAllowed(c, t.Service); !ok {
		return err
	}
	typed := choicesOf(c.Query)
	start, err := strconv.ParseInt(c.Query("inizio"), 10, 64)
	if err != nil {
		return c.Redirect(slotsPath(t.Service.Code, t.Office.Code), fiber.StatusSeeOther)
	}
	sl, until, ok, err := s.heldSlot(c, t, start, typed)
	if !ok {
		return err
	}
	f := newForm()
	f.Values["modalita"], f.Values["lingua"], f.Values["interprete"] = typed.Mode, typed.Lang, typed.Interpreter
	if f.Values["modalita"] == "" {
		f.Values["modalita"] = t.Service.Modes[0]
	}
	if !meetingLanguage(f.Values["lingua"]) {
		f.Values["lingua"] = s.localizer(c).Lang.Code
	}
	if personID(sessionOf(c)) == 0 {
		if p, ok := pendingOf(c); ok && p.isFor(t, start) && !p.Booked {
			f.Values["nome"], f.Values["email"], f.Values["cellulare"], f.Values["key"] = p.Name, p.Email, p.Phone, p.Key
			if c.Query("modalita") == "" {
				f.Values["modalita"], f.Values["lingua"], f.Values["interprete"] = p.Mode, p.Lang, p.Interpreter
			}
		} else {
			g := typedOf(c)
			f.Values["nome"], f.Values["email"], f.Values["cellulare"] = g.Name, g.Email, g.Phone
		}
	}
	return s.renderConfirm(c, fiber.StatusOK, t, sl, until, f)
}

// renderConfirm renders the confirm page with the form as typed.
func (s *Server) renderConfirm(c *fiber.Ctx, status int, t bookingTarget, sl slots.Slot, until time.Time, f *formState) error {
	z := s.localizer(c)
	f.Values["key"] = orNewKey(f.Values["key"])
	guest := personID(sessionOf(c)) == 0
	typed := typedChoices{Mode: f.Values["modalita"], Lang: f.Values["lingua"], Interpreter: f.Values["interprete"]}
	return s.render(c, status, "booking_confirm", z.T("appointments.confirm.title"),
		s.bookingCrumbs(c, views.Crumb{Title: z.T("appointments.book.title"), URL: bookingPath},
			views.Crumb{Title: s.serviceTitle(c, t.Service.Msg), URL: slotsPath(t.Service.Code, t.Office.Code)}),
		map[string]any{"Target": t, "Slot": viewSlots([]slots.Slot{sl})[0], "Until": until.In(i18n.Rome).Format("15:04"), "Form": f,
			"Action": slotsPath(t.Service.Code, t.Office.Code) + "/conferma", "SlotsURL": slotsPath(t.Service.Code, t.Office.Code),
			"Step": 4, "Guest": guest, "GuestAction": slotsPath(t.Service.Code, t.Office.Code) + "/ospite",
			"SignIn": "/accesso?next=" + url.QueryEscape(confirmURL(t, sl.Key(), typed))})
}
