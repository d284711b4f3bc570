package portal

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// serviceOfficeField is one office on the service's form: whether it offers the service and its desks, as typed.
type serviceOfficeField struct {
	storage.ServiceOfficeSetting
	Offer, Desks string // field names: offerta-<office>, posti-<office>
}

// serviceFormFrom fills the form from the stored service and offices.
func serviceFormFrom(svc storage.ServiceAdmin, offices []storage.ServiceOfficeSetting) *formState {
	f := newForm()
	f.Values["minuti"] = strconv.Itoa(svc.SlotMinutes)
	f.Values["da_giorni"] = strconv.Itoa(svc.FromDays)
	f.Values["a_giorni"] = strconv.Itoa(svc.ToDays)
	f.Values["max_aperti"] = strconv.Itoa(svc.MaxOpen)
	f.Values["posizione"] = strconv.Itoa(svc.Position)
	if svc.GuestAllowed {
		f.Values["ospiti"] = "yes"
	}
	for _, m := range svc.Modes {
		f.Values["modo-"+m] = "yes"
	}
	for _, o := range serviceOfficeFields(offices) {
		if o.Offered {
			f.Values[o.Offer] = "yes"
		}
		if o.Capacity > 0 {
			f.Values[o.Desks] = strconv.Itoa(o.Capacity)
		}
	}
	return f
}

func serviceOfficeFields(offices []storage.ServiceOfficeSetting) []serviceOfficeField {
	out := make([]serviceOfficeField, 0, len(offices))
	for _, o := range offices {
		out = append(out, serviceOfficeField{ServiceOfficeSetting: o, Offer: "offerta-" + o.Office, Desks: "posti-" + o.Office})
	}
	return out
}

// parseServiceForm reads and validates the posted service; every value is kept as typed. Only the offices in the
// staff member's scope are read: fields naming any other office are ignored.
func parseServiceForm(c *fiber.Ctx, svc storage.ServiceAdmin, offices []storage.ServiceOfficeSetting) (*formState, storage.ServiceChange) {
	f := newForm()
	for _, k := range []string{"minuti", "da_giorni", "a_giorni", "max_aperti", "posizione"} {
		f.Values[k] = strings.TrimSpace(c.FormValue(k))
	}
	yes := func(k string) bool {
		if c.FormValue(k) == "yes" {
			f.Values[k] = "yes"
			return true
		}
		return false
	}
	ch := storage.ServiceChange{Service: svc.Service}
	ch.Service.GuestAllowed = yes("ospiti")
	ch.Service.Modes = nil
	for _, m := range storage.Modes {
		if yes("modo-" + m) {
			ch.Service.Modes = append(ch.Service.Modes, m)
		}
	}
	if len(ch.Service.Modes) == 0 {
		f.fail("modi", "svcadmin.service.error.modes")
	}
	var ok bool
	if ch.Service.SlotMinutes, ok = intIn(f.Values["minuti"], 5, 240); !ok || ch.Service.SlotMinutes%5 != 0 {
		f.fail("minuti", "svcadmin.service.error.minutes")
	}
	fromOK, toOK := true, true
	if ch.Service.FromDays, fromOK = intIn(f.Values["da_giorni"], 0, 365); !fromOK {
		f.fail("da_giorni", "svcadmin.service.error.days")
	}
	if ch.Service.ToDays, toOK = intIn(f.Values["a_giorni"], 0, 365); !toOK {
		f.fail("a_giorni", "svcadmin.service.error.days")
	}
	if fromOK && toOK && ch.Service.ToDays < ch.Service.FromDays {
		f.fail("a_giorni", "svcadmin.service.error.days_order")
	}
	if ch.Service.MaxOpen, ok = intIn(f.Values["max_aperti"], 1, 10); !ok {
		f.fail("max_aperti", "svcadmin.service.error.max_open")
	}
	if ch.Position, ok = intIn(f.Values["posizione"], 0, 999); !ok {
		f.fail("posizione", "svcadmin.service.error.position")
	}
	for _, o := range serviceOfficeFields(offices) {
		set := o.ServiceOfficeSetting
		set.Offered = yes(o.Offer)
		f.Values[o.Desks] = strings.TrimSpace(c.FormValue(o.Desks))
		if n, ok := intIn(f.Values[o.Desks], 1, 20); ok {
			set.Capacity = n
		} else if set.Offered || f.Values[o.Desks] != "" {
			f.fail(o.Desks, "svcadmin.service.error.capacity")
		}
		ch.Offices = append(ch.Offices, set) // the storage leaves unchanged ones alone
	}
	return f, ch
}

// intIn reads a whole number typed in a field and reports whether it is between lo and hi.
func intIn(v string, lo, hi int) (int, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

func (s *Server) showStaffServiceEditPage(c *fiber.Ctx) error {
	svc, offices, err := s.serviceAndOffices(c)
	if err != nil {
		return err
	}
	return s.renderStaffService(c, fiber.StatusOK, svc, offices, serviceFormFrom(svc, offices), nil)
}

func (s *Server) serviceAndOffices(c *fiber.Ctx) (storage.ServiceAdmin, []storage.ServiceOfficeSetting, error) {
	svc, err := s.DB.ServiceForAdmin(c.UserContext(), c.Params("code"))
	if err != nil {
		return svc, nil, err
	}
	offices, err := s.DB.ServiceOfficeSettings(c.UserContext(), currentStaff(c).ID, svc.Code)
	return svc, offices, err
}

func (s *Server) renderStaffService(c *fiber.Ctx, status int, svc storage.ServiceAdmin, offices []storage.ServiceOfficeSetting,
	f *formState, stranded *strandedView) error {
	z := s.localizer(c)
	title := z.T("svcadmin.service.title", map[string]any{"Name": z.T("appointments.service." + svc.Msg + ".title")})
	data := map[string]any{"Service": svc, "Offices": serviceOfficeFields(offices), "Form": f, "Modes": storage.Modes,
		"Stranded": stranded}
	if !f.ok() {
		data["Alert"] = z.T("staff.error.form")
	}
	return s.renderStaff(c, status, "staff_service_edit", title,
		[]views.Crumb{s.staffCrumb(c), {Title: z.T("svcadmin.services.title"), URL: servicesPath}}, data)
}

// submitStaffService saves a service and its offices. A change that would leave booked appointments outside the
// hours (a new length, an office that stops offering it) is shown first with the appointments it concerns; the
// staff member confirms it or changes it. Nothing is ever cancelled.
func (s *Server) submitStaffService(c *fiber.Ctx) error {
	svc, offices, err := s.serviceAndOffices(c)
	if err != nil {
		return err
	}
	f, ch := parseServiceForm(c, svc, offices)
	if !f.ok() {
		return s.renderStaffService(c, fiber.StatusUnprocessableEntity, svc, offices, f, nil)
	}
	ch.Confirm, ch.Now = c.FormValue("conferma") == "1", s.now()
	err = s.DB.UpdateService(c.UserContext(), staffActor(c), ch)
	var stranded *storage.StrandedError
	switch {
	case errors.As(err, &stranded):
		return s.renderStaffService(c, fiber.StatusConflict, svc, offices, f, s.strandedViewOf(c, stranded))
	case err != nil:
		return err
	}
	notice := "svcadmin.service.saved"
	if ch.Confirm {
		notice = "svcadmin.saved_stranded"
	}
	return s.redirectWithNotice(c, servicesPath, notice)
}

// strandedView is the warning of a change that would leave booked appointments outside the hours: which ones,
// each with its day in the calendar, and a form that sends the same change again, confirmed.
type strandedView struct {
	Bookings []strandedLine
	Action   string
	Fields   [][2]string // the posted form, name and value, repeated in hidden fields
}

type strandedLine struct {
	storage.StrandedBooking
	CalendarURL string
}

func (s *Server) strandedViewOf(c *fiber.Ctx, e *storage.StrandedError) *strandedView {
	v := &strandedView{Action: c.Path()}
	for _, b := range e.Bookings {
		v.Bookings = append(v.Bookings, strandedLine{StrandedBooking: b, CalendarURL: calendarURL(b.Office, b.StartsAt)})
	}
	c.Request().PostArgs().VisitAll(func(k, val []byte) {
		if string(k) != "conferma" {
			v.Fields = append(v.Fields, [2]string{string(k), string(val)})
		}
	})
	slices.SortStableFunc(v.Fields, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return v
}
