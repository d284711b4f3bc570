package portal

import (
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
)

// submitGuestDetails is "continue without an account" on the confirm page: the guest's name, e-mail, optional
// mobile number and the meeting's choices. Bad input is explained next to its field with everything kept; a time
// no longer held or offered gets the next free times; an address that asked for too many codes is told so on the
// form. Otherwise a code goes to the e-mail and the code page follows.
func (s *Server) submitGuestDetails(c *fiber.Ctx) error {
	t, err := s.bookingTargetOf(c)
	if err != nil {
		return err
	}
	typed := choicesOf(c.FormValue)
	start, err := strconv.ParseInt(c.FormValue("inizio"), 10, 64)
	if err != nil {
		return c.Redirect(slotsPath(t.Service.Code, t.Office.Code), fiber.StatusSeeOther)
	}
	if personID(sessionOf(c)) != 0 { // signed in meanwhile: their own confirm form
		return c.Redirect(confirmURL(t, start, typed), fiber.StatusSeeOther)
	}
	if !t.Service.GuestAllowed {
		return s.renderGuestSignIn(c, t, start, typed)
	}
	setTyped(c, guestTyped{Name: c.FormValue("nome"), Email: c.FormValue("email"), Phone: c.FormValue("cellulare")})
	sl, until, ok, err := s.heldSlot(c, t, start, typed)
	if !ok {
		return err
	}
	f := newForm()
	for _, k := range []string{"nome", "email", "cellulare", "modalita", "lingua", "interprete", "key"} {
		f.Values[k] = c.FormValue(k)
	}
	f.Values["key"] = orNewKey(f.Values["key"])
	p := guestPending{Service: t.Service.Code, Office: t.Office.Code, Start: start, Mode: typed.Mode, Lang: typed.Lang,
		Key: f.Values["key"], MsgLang: s.localizer(c).Lang.Code}
	if typed.Interpreter == "yes" {
		p.Interpreter = "yes"
	}
	p.Name = forms.CleanName(f.Values["nome"])
	switch {
	case p.Name == "":
		f.fail("nome", "form.error.required")
	case utf8.RuneCountInString(p.Name) > guestNameMax:
		f.fail("nome", "appointments.guest.error.name_long")
	}
	var msg string
	p.Email, msg = forms.NormalizeEmail(f.Values["email"])
	f.fail("email", msg)
	p.Phone, msg = forms.NormalizePhone(f.Values["cellulare"])
	f.fail("cellulare", msg)
	if !slices.Contains(t.Service.Modes, typed.Mode) {
		f.fail("modalita", "appointments.error.mode")
	} else if typed.Mode == "online" {
		f.fail("modalita", "appointments.guest.error.online") // the video room's door is the personal area
	} else if typed.Mode == "phone" && p.Phone == "" && msg == "" {
		f.fail("cellulare", "appointments.guest.error.phone_needed")
	}
	if !meetingLanguage(typed.Lang) {
		f.fail("lingua", "appointments.error.lang")
	}
	if !f.ok() {
		return s.renderConfirm(c, fiber.StatusUnprocessableEntity, t, sl, until, f)
	}
	why, status, err := s.sendGuestCode(c, t, sl, p)
	switch {
	case err != nil:
		return err
	case why == holdByOther:
		return s.renderUnavailable(c, status, t, why, typed)
	case why != "":
		f.fail("email", why)
		return s.renderConfirm(c, status, t, sl, until, f)
	}
	return c.Redirect(guestCodePath(t, start), fiber.StatusSeeOther)
}

// resendGuestCode sends a new code for the guest booking waiting in the session (the first expired, was mistyped
// too often, or never arrived), holding the time again if the hold ended and the time is still free.
func (s *Server) resendGuestCode(c *fiber.Ctx) error {
	t, err := s.bookingTargetOf(c)
	if err != nil {
		return err
	}
	start, err := strconv.ParseInt(c.FormValue("inizio"), 10, 64)
	if err != nil {
		return c.Redirect(slotsPath(t.Service.Code, t.Office.Code), fiber.StatusSeeOther)
	}
	p, ok := pendingOf(c)
	if !ok || !p.isFor(t, start) || p.Booked || personID(sessionOf(c)) != 0 {
		return c.Redirect(confirmURL(t, start, typedChoices{}), fiber.StatusSeeOther)
	}
	if !t.Service.GuestAllowed {
		return s.renderGuestSignIn(c, t, start, p.choices())
	}
	sl, why, err := s.findSlot(c, t, start)
	if err != nil {
		return err
	}
	if why == "" && sl.Left() == 0 {
		why = "appointments.error.taken"
	}
	if why != "" {
		return s.renderUnavailable(c, fiber.StatusConflict, t, why, p.choices())
	}
	p.MsgLang = s.localizer(c).Lang.Code
	why, status, err := s.sendGuestCode(c, t, sl, p)
	switch {
	case err != nil:
		return err
	case why == holdByOther:
		return s.renderUnavailable(c, status, t, why, p.choices())
	case why != "":
		f := newForm()
		f.Error = why
		return s.renderGuestCode(c, status, t, sl, p, f, 0)
	}
	return c.Redirect(guestCodePath(t, start)+"&nuovo=1", fiber.StatusSeeOther)
}
