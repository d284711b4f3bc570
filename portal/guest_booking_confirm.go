package portal

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// guestCodeTarget reads the code pages' URL and form: the time, its slot (or the page explaining why it cannot be
// had), and the guest booking waiting in the session. done is true when the response is written already.
func (s *Server) guestCodeTarget(c *fiber.Ctx, get func(string, ...string) string) (bookingTarget, slots.Slot, guestPending, bool, error) {
	t, err := s.bookingTargetOf(c)
	if err != nil {
		return t, slots.Slot{}, guestPending{}, true, err
	}
	start, err := strconv.ParseInt(get("inizio"), 10, 64)
	if err != nil {
		return t, slots.Slot{}, guestPending{}, true, c.Redirect(slotsPath(t.Service.Code, t.Office.Code), fiber.StatusSeeOther)
	}
	p, ok := pendingOf(c)
	if !ok || personID(sessionOf(c)) != 0 {
		// nothing asked in this browser (or signed in since): the confirm page says what can be done
		return t, slots.Slot{}, p, true, c.Redirect(confirmURL(t, start, typedChoices{}), fiber.StatusSeeOther)
	}
	if !t.Service.GuestAllowed {
		return t, slots.Slot{}, p, true, s.renderGuestSignIn(c, t, start, p.choices())
	}
	sl, why, err := s.findSlot(c, t, start)
	if err != nil {
		return t, sl, p, true, err
	}
	if why != "" {
		return t, sl, p, true, s.renderUnavailable(c, fiber.StatusUnprocessableEntity, t, why, p.choices())
	}
	return t, sl, p, false, nil
}

// showGuestCodePage asks for the code sent to the guest's e-mail.
func (s *Server) showGuestCodePage(c *fiber.Ctx) error {
	t, sl, p, done, err := s.guestCodeTarget(c, c.Query)
	if done {
		return err
	}
	f := newForm()
	if !p.isFor(t, sl.Key()) {
		f.Error = "appointments.guest.error.other_hold"
	}
	return s.renderGuestCode(c, fiber.StatusOK, t, sl, p, f, 0)
}

// submitGuestCode books the held time when the code is right: the code is checked (and used up) before booking,
// then PostgreSQL books as for a resident, with the address as the booking's owner, and the confirmation with the
// link and the .ics goes out in the same transaction. The guest lands on the appointment's page (the link's).
// A wrong code says how many tries are left; an expired one, one tried too often or one for another time asks for
// a new code; a replayed one is refused and points to the booking it made.
func (s *Server) submitGuestCode(c *fiber.Ctx) error {
	t, sl, p, done, err := s.guestCodeTarget(c, c.FormValue)
	if done {
		return err
	}
	f := newForm()
	f.Values["code"] = c.FormValue("code")
	switch {
	case !p.isFor(t, sl.Key()):
		f.Error = "appointments.guest.error.other_hold"
		return s.renderGuestCode(c, fiber.StatusUnprocessableEntity, t, sl, p, f, 0)
	case p.Booked:
		f.fail("code", "appointments.guest.error.code_used")
		return s.renderGuestCode(c, fiber.StatusConflict, t, sl, p, f, 0)
	}
	code := digitsOnly(f.Values["code"])
	if len(code) != 6 {
		f.fail("code", "form.error.code_format")
		return s.renderGuestCode(c, fiber.StatusUnprocessableEntity, t, sl, p, f, 0)
	}
	ctx := c.UserContext()
	holder := holderOf(c, false)
	res, err := checkGuestCode.Run(ctx, s.Redis, []string{s.guestCodeKey(holder)}, s.guestCodeHash(holder, p, code),
		guestCodeTries, s.now().Unix()).Int()
	if err != nil {
		return err
	}
	switch {
	case res == -3:
		f.fail("code", "appointments.guest.error.code_used")
		return s.renderGuestCode(c, fiber.StatusConflict, t, sl, p, f, 0)
	case res == -2:
		f.fail("code", "appointments.guest.error.code_expired")
		return s.renderGuestCode(c, fiber.StatusUnprocessableEntity, t, sl, p, f, 0)
	case res == -1:
		f.fail("code", "appointments.guest.error.code_tries")
		return s.renderGuestCode(c, fiber.StatusUnprocessableEntity, t, sl, p, f, 0)
	case res != guestCodeMatch:
		f.fail("code", "appointments.guest.error.code_wrong")
		return s.renderGuestCode(c, fiber.StatusUnprocessableEntity, t, sl, p, f, res)
	}

	// The address is proved. The hold lasted as long as the code; a time taken meanwhile is PostgreSQL's to refuse.
	if _, state, err := s.heldFor(ctx, t, sl.Key(), holdersOf(c)); err != nil {
		return err
	} else if state != holdOK {
		return s.renderUnavailable(c, fiber.StatusConflict, t, state, p.choices())
	}
	secret, hash := newLinkSecret()
	now := s.now()
	guest := &storage.Guest{Email: p.Email, Name: p.Name, Phone: p.Phone, Lang: p.MsgLang, VerifiedAt: now}
	made := false // Book calls back only when it makes the booking, not when the key finds one made before
	_, err = s.DB.Book(ctx, storage.NewBooking{Guest: guest, Service: t.Service, Office: t.Office.Code, Slot: sl,
		Mode: p.Mode, Lang: p.Lang, Interpreter: p.Interpreter == "yes", Key: p.Key, TokenHash: hash, Now: now},
		func(tx pgx.Tx, b storage.Booking) error {
			made = true
			to, channels := guestRecipient(b)
			return s.notifyBooked(ctx, tx, b, to, channels, secret)
		})
	confirmAgain := func(status int, msg string) error {
		f := newForm()
		f.Values["nome"], f.Values["email"], f.Values["cellulare"], f.Values["key"] = p.Name, p.Email, p.Phone, p.Key
		f.Values["modalita"], f.Values["lingua"], f.Values["interprete"] = p.Mode, p.Lang, p.Interpreter
		f.Error = msg
		until, _, err := s.heldFor(ctx, t, sl.Key(), holdersOf(c))
		if err != nil {
			return err
		}
		return s.renderConfirm(c, status, t, sl, until, f)
	}
	switch {
	case errors.Is(err, storage.ErrSlotTaken):
		if err := s.release(ctx, t, sl.Key(), holdersOf(c)); err != nil {
			return err
		}
		return s.renderUnavailable(c, fiber.StatusConflict, t, "appointments.error.taken", p.choices())
	case errors.Is(err, storage.ErrBookingLimit):
		return confirmAgain(fiber.StatusConflict, "appointments.guest.error.limit")
	case errors.Is(err, storage.ErrAlreadyBooked):
		return confirmAgain(fiber.StatusConflict, "appointments.guest.error.already")
	case err != nil:
		return err
	}
	if err := s.release(ctx, t, sl.Key(), holdersOf(c)); err != nil {
		s.Log.Warn("hold not released", "err", err) // it ends by itself
	}
	p.Booked = true
	if !made {
		// The key found a booking made before (a retry after a lost response): its link went out with its
		// confirmation, and this secret was never stored. The guest is pointed to that message.
		setPending(c, p)
		f.fail("code", "appointments.guest.error.code_used")
		return s.renderGuestCode(c, fiber.StatusConflict, t, sl, p, f, 0)
	}
	p.Link = managePath + secret
	setPending(c, p)
	return c.Redirect(p.Link+"?prenotato=1", fiber.StatusSeeOther)
}

// renderGuestCode renders the code page; triesLeft (after a wrong code) is said next to the field. The address is
// isolated (FSI … PDI) in the sentences it is part of, so it reads whole in right-to-left languages too.
func (s *Server) renderGuestCode(c *fiber.Ctx, status int, t bookingTarget, sl slots.Slot, p guestPending, f *formState, triesLeft int) error {
	z := s.localizer(c)
	until, _, err := s.heldFor(c.UserContext(), t, sl.Key(), holdersOf(c))
	if err != nil {
		return err
	}
	untilText := ""
	if !until.IsZero() {
		untilText = until.In(i18n.Rome).Format("15:04")
	}
	base := slotsPath(t.Service.Code, t.Office.Code)
	return s.render(c, status, "booking_guest_code", z.T("appointments.guest.code.title"),
		s.bookingCrumbs(c, views.Crumb{Title: z.T("appointments.book.title"), URL: bookingPath},
			views.Crumb{Title: s.serviceTitle(c, t.Service.Msg), URL: base}),
		map[string]any{"Target": t, "Slot": viewSlots([]slots.Slot{sl})[0], "Until": untilText, "Form": f,
			"Email": "\u2068" + p.Email + "\u2069", "TriesLeft": triesLeft, "Other": !p.isFor(t, sl.Key()),
			"Booked": p.Link, "New": c.Query("nuovo") == "1" && f.ok(), "Action": base + "/ospite/codice",
			"Resend": base + "/ospite/nuovo-codice", "Change": confirmURL(t, sl.Key(), p.choices()), "Step": 4})
}
