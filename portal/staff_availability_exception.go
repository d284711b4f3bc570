package portal

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// maxExceptionDays is the longest exception: a year, holidays and long leave included.
const maxExceptionDays = 366

// submitStaffExceptionAdd records days that differ from the week at the office: closed (whole days or some
// hours; for this service or all the office's; for every desk or one worker's leave) or an extra opening of this
// service. A closure over booked appointments is shown first with them and goes through only when confirmed.
func (s *Server) submitStaffExceptionAdd(c *fiber.Ctx) error {
	t, err := s.editableAvailabilityTarget(c)
	if err != nil {
		return err
	}
	f := newForm()
	for _, k := range []string{"tipo", "primo", "ultimo", "ex_dalle", "ex_alle", "ambito", "ex_per", "nota"} {
		f.Values[k] = strings.TrimSpace(c.FormValue(k))
	}
	ne := storage.NewException{Office: t.Office.Code, Service: t.Service.Code, Note: f.Values["nota"],
		Confirm: c.FormValue("conferma") == "1", Now: s.now()}
	switch f.Values["tipo"] {
	case "closed":
	case "open":
		ne.Open = true
	default:
		f.fail("tipo", "svcadmin.exception.error.kind")
	}
	today := slots.DayOf(s.now(), i18n.Rome)
	if f.Values["primo"] == "" {
		f.fail("primo", "svcadmin.exception.error.first_required")
	} else if ne.First = dayOf(f, "primo"); ne.First != 0 && ne.First < today {
		f.fail("primo", "svcadmin.exception.error.past")
	}
	ne.Last = ne.First
	if f.Values["ultimo"] != "" {
		ne.Last = dayOf(f, "ultimo")
		switch {
		case ne.Last == 0 || ne.First == 0:
		case ne.Last < ne.First:
			f.fail("ultimo", "svcadmin.exception.error.order")
		case ne.Last-ne.First >= maxExceptionDays:
			f.fail("ultimo", "svcadmin.exception.error.span")
		}
	}
	var hours bool
	if ne.Start, ne.End, hours = hoursOf(f, "ex_dalle", "ex_alle", ne.Open); hours && ne.Open {
		f.fail("ex_alle", fitMessage(f, "ex_alle", ne.Start, ne.End, t.Service.SlotMinutes))
	}
	switch f.Values["ambito"] {
	case "servizio":
	case "tutti":
		if ne.Open {
			f.fail("ambito", "svcadmin.exception.error.open_all")
		}
		ne.Service = ""
	default:
		f.fail("ambito", "svcadmin.exception.error.scope")
	}
	ne.Worker = workerOf(f, "ex_per")
	if ne.Note == "" {
		f.fail("nota", "svcadmin.exception.error.note_required")
	} else if utf8.RuneCountInString(ne.Note) > 200 {
		f.fail("nota", "svcadmin.exception.error.note_long")
	}
	if !f.ok() {
		return s.renderAvailability(c, fiber.StatusUnprocessableEntity, t, nil, f, nil)
	}
	_, err = s.DB.AddException(c.UserContext(), staffActor(c), ne)
	var stranded *storage.StrandedError
	switch {
	case errors.As(err, &stranded):
		return s.renderAvailability(c, fiber.StatusConflict, t, nil, f, s.strandedViewOf(c, stranded))
	case errors.Is(err, storage.ErrUnknownWorker):
		f.fail("ex_per", "svcadmin.error.worker")
		return s.renderAvailability(c, fiber.StatusUnprocessableEntity, t, nil, f, nil)
	case err != nil:
		return err
	}
	return s.redirectWithNotice(c, t.Query.url(), noticeOf("svcadmin.exception.added", ne.Confirm))
}

// submitStaffExceptionRemove removes an exception of the office; removing an extra opening with booked
// appointments is shown first with them and goes through only when confirmed. ErrNotFound: another office's
// exception, or one already removed.
func (s *Server) submitStaffExceptionRemove(c *fiber.Ctx) error {
	return s.removeAvailability(c, "svcadmin.exception.removed", func(t availabilityTarget, id int64, confirm bool) error {
		return s.DB.RemoveException(c.UserContext(), staffActor(c), t.Office.Code, id, confirm, s.now())
	})
}
