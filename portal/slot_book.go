package portal

import (
	"errors"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// submitBooking books the held time. The form's key makes a double click or a retry land on the booking already
// made. What can go wrong is explained in the resident's language, keeping what they chose: a time no longer
// offered (422), a hold that ended or that someone else has, a time just taken (409, with the next free times),
// the service's limit of open appointments (409, on the confirm page).
func (s *Server) submitBooking(c *fiber.Ctx) error {
	t, err := s.bookingTargetOf(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	p, err := s.currentPerson(c)
	if err != nil {
		return err
	}
	key := c.FormValue("key")
	if !startKey.MatchString(key) {
		return errBadRequest(errors.New("booking: confirm key missing or malformed"))
	}
	if b, err := s.DB.BookingByKey(ctx, key, p.ID); err == nil {
		return c.Redirect(appointmentPath(b.ID), fiber.StatusSeeOther)
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	typed := choicesOf(c.FormValue)
	start, err := strconv.ParseInt(c.FormValue("inizio"), 10, 64)
	if err != nil {
		return errBadRequest(errors.New("booking: no time"))
	}
	sl, until, ok, err := s.heldSlot(c, t, start, typed)
	if !ok {
		return err
	}
	f := newForm()
	f.Values["modalita"], f.Values["lingua"], f.Values["interprete"], f.Values["key"] = typed.Mode, typed.Lang, typed.Interpreter, key
	if !slices.Contains(t.Service.Modes, typed.Mode) {
		f.fail("modalita", "appointments.error.mode")
	}
	if !meetingLanguage(typed.Lang) {
		f.fail("lingua", "appointments.error.lang")
	}
	if !f.ok() {
		return s.renderConfirm(c, fiber.StatusUnprocessableEntity, t, sl, until, f)
	}
	to, channels := recipientOf(p)
	secret, hash := newLinkSecret()
	b, err := s.DB.Book(ctx, storage.NewBooking{PersonID: p.ID, Service: t.Service, Office: t.Office.Code, Slot: sl,
		Mode: typed.Mode, Lang: typed.Lang, Interpreter: typed.Interpreter == "yes", Key: key, TokenHash: hash, Now: s.now()},
		func(tx pgx.Tx, b storage.Booking) error { return s.notifyBooked(ctx, tx, b, to, channels, secret) })
	switch {
	case errors.Is(err, storage.ErrSlotTaken):
		if err := s.release(ctx, t, start, holdersOf(c)); err != nil {
			return err
		}
		return s.renderUnavailable(c, fiber.StatusConflict, t, "appointments.error.taken", typed)
	case errors.Is(err, storage.ErrBookingLimit):
		f.Error = "appointments.error.limit"
		return s.renderConfirm(c, fiber.StatusConflict, t, sl, until, f)
	case errors.Is(err, storage.ErrAlreadyBooked):
		f.Error = "appointments.error.already"
		return s.renderConfirm(c, fiber.StatusConflict, t, sl, until, f)
	case err != nil:
		return err
	}
	if err := s.release(ctx, t, start, holdersOf(c)); err != nil {
		s.Log.Warn("hold not released", "err", err) // it ends by itself within holdTTL
	}
	return c.Redirect(appointmentPath(b.ID)+"?prenotato=1", fiber.StatusSeeOther)
}
