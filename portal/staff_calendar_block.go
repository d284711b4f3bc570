package portal

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// submitStaffCalendarBlock closes time at an office in scope (or for one of its workers): a day, whole or from one
// time to another, with a reason. Time with booked appointments is refused, naming them, so nobody is left with an
// appointment at a closed desk without being told; the staff member moves or cancels those first.
func (s *Server) submitStaffCalendarBlock(c *fiber.Ctx) error {
	q, err := s.calendarQueryOf(c, c.FormValue)
	if err != nil {
		return err
	}
	if _, err := s.DB.StaffOffice(c.UserContext(), currentStaff(c).ID, q.Office); errors.Is(err, storage.ErrNotFound) {
		return errNotFound(err)
	} else if err != nil {
		return err
	}
	f := newForm()
	for _, k := range []string{"data", "dalle", "alle", "motivo", "per"} {
		f.Values[k] = strings.TrimSpace(c.FormValue(k))
	}
	nb := storage.NewBlock{Office: q.Office, Note: f.Values["motivo"], Now: s.now()}
	day, err := slots.ParseDay(f.Values["data"])
	switch {
	case f.Values["data"] == "":
		f.fail("data", "calendar.block.error.day_required")
	case err != nil:
		f.fail("data", "calendar.block.error.day")
	case day < slots.DayOf(s.now(), i18n.Rome):
		f.fail("data", "calendar.block.error.past")
	}
	nb.Day = day
	from, okFrom := clockOf(f.Values["dalle"])
	to, okTo := clockOf(f.Values["alle"])
	switch {
	case f.Values["dalle"] == "" && f.Values["alle"] == "": // the whole day
	case !okFrom:
		f.fail("dalle", "calendar.block.error.time")
	case !okTo:
		f.fail("alle", "calendar.block.error.time")
	case to <= from:
		f.fail("alle", "calendar.block.error.range")
	default:
		nb.Start, nb.End = from, to
	}
	if nb.Note == "" {
		f.fail("motivo", "calendar.block.error.reason_required")
	} else if utf8.RuneCountInString(nb.Note) > 200 {
		f.fail("motivo", "calendar.block.error.reason_long")
	}
	if w := f.Values["per"]; w != "" {
		nb.Worker, _ = strconv.ParseInt(w, 10, 64)
		if nb.Worker <= 0 {
			f.fail("per", "calendar.block.error.worker")
		}
	}
	if !f.ok() {
		return s.renderCalendar(c, fiber.StatusUnprocessableEntity, q, f, "")
	}
	_, err = s.DB.AddBlock(c.UserContext(), staffActor(c), nb)
	var clash *storage.BlockConflictError
	switch {
	case errors.As(err, &clash):
		z := s.localizer(c)
		names := make([]string, 0, len(clash.Bookings))
		for _, b := range clash.Bookings {
			names = append(names, b.StartsAt.In(i18n.Rome).Format("15:04")+" "+b.Name)
		}
		return s.renderCalendar(c, fiber.StatusConflict, q, f,
			z.T("calendar.block.error.booked", map[string]any{"Count": len(names), "List": strings.Join(names, "; ")}))
	case errors.Is(err, storage.ErrBlockPast):
		f.fail("data", "calendar.block.error.past")
		return s.renderCalendar(c, fiber.StatusUnprocessableEntity, q, f, "")
	case errors.Is(err, storage.ErrNotFound):
		return errNotFound(err)
	case err != nil:
		return err
	}
	q.Day = nb.Day
	return s.redirectWithNotice(c, q.url(), "calendar.block.added")
}

// submitStaffCalendarUnblock reopens blocked time of an office in scope.
func (s *Server) submitStaffCalendarUnblock(c *fiber.Ctx) error {
	q, err := s.calendarQueryOf(c, c.FormValue)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return errNotFound(err)
	}
	err = s.DB.RemoveBlock(c.UserContext(), staffActor(c), q.Office, id)
	if errors.Is(err, storage.ErrNotFound) {
		return errNotFound(err)
	}
	if err != nil {
		return err
	}
	return s.redirectWithNotice(c, q.url(), "calendar.block.removed")
}

// clockOf reads a time of day typed as "15:04".
func clockOf(v string) (slots.Clock, bool) {
	t, err := time.Parse("15:04", v)
	if err != nil {
		return 0, false
	}
	return slots.At(t.Hour(), t.Minute()), true
}
