package portal

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// submitStaffPatternAdd adds a weekly opening of the service at the office: a weekday, from one time to another
// holding whole appointments, for every desk or one worker, from and to some days if given.
func (s *Server) submitStaffPatternAdd(c *fiber.Ctx) error {
	t, err := s.editableAvailabilityTarget(c)
	if err != nil {
		return err
	}
	f := newForm()
	for _, k := range []string{"giorno", "dalle", "alle", "per", "dal", "al"} {
		f.Values[k] = strings.TrimSpace(c.FormValue(k))
	}
	np := storage.NewPattern{Office: t.Office.Code, Service: t.Service.Code}
	var ok bool
	if np.Weekday, ok = intIn(f.Values["giorno"], 1, 7); !ok {
		f.fail("giorno", "svcadmin.pattern.error.weekday")
	}
	if np.Start, np.End, ok = hoursOf(f, "dalle", "alle", true); ok {
		f.fail("alle", fitMessage(f, "alle", np.Start, np.End, t.Service.SlotMinutes))
	}
	np.Worker = workerOf(f, "per")
	today := slots.DayOf(s.now(), i18n.Rome)
	np.ValidFrom = dayOf(f, "dal")
	np.ValidTo = dayOf(f, "al")
	switch {
	case np.ValidTo == 0:
	case np.ValidFrom != 0 && np.ValidTo < np.ValidFrom:
		f.fail("al", "svcadmin.pattern.error.valid_order")
	case np.ValidTo < today:
		f.fail("al", "svcadmin.pattern.error.valid_past")
	}
	if !f.ok() {
		return s.renderAvailability(c, fiber.StatusUnprocessableEntity, t, f, nil, nil)
	}
	_, err = s.DB.AddPattern(c.UserContext(), staffActor(c), np)
	switch {
	case errors.Is(err, storage.ErrPatternOverlap):
		f.fail("dalle", "svcadmin.pattern.error.overlap")
		return s.renderAvailability(c, fiber.StatusUnprocessableEntity, t, f, nil, nil)
	case errors.Is(err, storage.ErrUnknownWorker):
		f.fail("per", "svcadmin.error.worker")
		return s.renderAvailability(c, fiber.StatusUnprocessableEntity, t, f, nil, nil)
	case err != nil:
		return err
	}
	return s.redirectWithNotice(c, t.Query.url(), "svcadmin.pattern.added")
}

// submitStaffPatternRemove removes a weekly opening of the service at the office; when booked appointments would
// be left outside the hours the page lists them and asks to confirm. ErrNotFound: another office's or service's
// pattern, or one already removed.
func (s *Server) submitStaffPatternRemove(c *fiber.Ctx) error {
	return s.removeAvailability(c, "svcadmin.pattern.removed", func(t availabilityTarget, id int64, confirm bool) error {
		return s.DB.RemovePattern(c.UserContext(), staffActor(c), t.Office.Code, t.Service.Code, id, confirm, s.now())
	})
}

// editableAvailabilityTarget is the office and service the form names, which must have been offered there once:
// hours are added only where the service can be booked (again).
func (s *Server) editableAvailabilityTarget(c *fiber.Ctx) (availabilityTarget, error) {
	t, err := s.availabilityTargetOf(c, c.FormValue)
	if err == nil && !t.Editable() {
		err = errNotFound(errors.New("availability: " + t.Service.Code + " never offered at " + t.Office.Code))
	}
	return t, err
}

// removeAvailability removes the row named in the path with remove: done (notice), or the page listing the
// appointments it would leave outside the hours, asking to confirm.
func (s *Server) removeAvailability(c *fiber.Ctx, notice string, remove func(t availabilityTarget, id int64, confirm bool) error) error {
	t, err := s.availabilityTargetOf(c, c.FormValue)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return errNotFound(err)
	}
	confirm := c.FormValue("conferma") == "1"
	var stranded *storage.StrandedError
	switch err := remove(t, id, confirm); {
	case errors.As(err, &stranded):
		return s.renderAvailability(c, fiber.StatusConflict, t, nil, nil, s.strandedViewOf(c, stranded))
	case err != nil:
		return err
	}
	return s.redirectWithNotice(c, t.Query.url(), noticeOf(notice, confirm))
}

// noticeOf is the confirmation of a change, or the one that reminds of the appointments left outside the hours.
func noticeOf(msg string, confirmed bool) string {
	if confirmed {
		return "svcadmin.saved_stranded"
	}
	return msg
}

// hoursOf reads a pair of times of day typed as "15:04" and reports ok when both were read and the second comes
// after the first; a missing, malformed or reversed time gets its message. With required false, two empty fields
// are no error (and not ok: no hours were given).
func hoursOf(f *formState, fromKey, toKey string, required bool) (slots.Clock, slots.Clock, bool) {
	fromText, toText := f.Values[fromKey], f.Values[toKey]
	if fromText == "" && toText == "" {
		if required {
			f.fail(fromKey, "svcadmin.error.time_required")
		}
		return 0, 0, false
	}
	from, okFrom := clockOf(fromText)
	to, okTo := clockOf(toText)
	switch {
	case fromText == "":
		f.fail(fromKey, "svcadmin.error.time_required")
	case toText == "":
		f.fail(toKey, "svcadmin.error.time_required")
	case !okFrom:
		f.fail(fromKey, "svcadmin.error.time")
	case !okTo:
		f.fail(toKey, "svcadmin.error.time")
	case to <= from:
		f.fail(toKey, "svcadmin.error.time_order")
	default:
		return from, to, true
	}
	return 0, 0, false
}

// fitMessage is the message ID when from–to does not hold whole appointments of the service ("" when it does),
// with the nearest end that would hold them kept in the form's values (key_fit) for the message.
func fitMessage(f *formState, key string, from, to slots.Clock, minutes int) string {
	n := slots.Clock(minutes)
	if n <= 0 || (to-from)%n == 0 {
		return ""
	}
	end := from + (to-from)/n*n
	if end == from {
		end += n
	}
	f.Values[key+"_fit"] = end.String()
	return "svcadmin.error.fit"
}

// workerOf reads the worker chosen in a select: 0 for every desk; a value that is no account ID gets the message.
func workerOf(f *formState, key string) int64 {
	v := f.Values[key]
	if v == "" {
		return 0
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		f.fail(key, "svcadmin.error.worker")
		return 0
	}
	return id
}

// dayOf reads an optional date ("2006-01-02", what a date field sends): 0 when empty; a malformed one gets the
// message.
func dayOf(f *formState, key string) slots.Day {
	v := f.Values[key]
	if v == "" {
		return 0
	}
	d, err := slots.ParseDay(v)
	if err != nil {
		f.fail(key, "svcadmin.error.date")
		return 0
	}
	return d
}
