package portal

import (
	"errors"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// The weekly availability of a service at an office, as admins and coordinatori set it: the weekly patterns
// (weekday, hours, every desk or one worker's, valid from and to) and the days that differ (closed days or hours:
// holidays, leave; extra openings). The slots residents book are computed from these rows (package slots), so a
// change shows on the booking pages at once. Changes never cancel a booking: one that would leave booked
// appointments outside the hours is shown first with those appointments, and goes through only when confirmed.

const availabilityPath = "/backoffice/disponibilita"

// availabilityQuery is the office and service shown, as in the page's address.
type availabilityQuery struct{ Office, Service string }

func (q availabilityQuery) url() string {
	v := url.Values{}
	v.Set("sede", q.Office)
	v.Set("servizio", q.Service)
	return availabilityPath + "?" + v.Encode()
}

// availabilityTarget is the office (in scope) and the service a page or a change is about.
type availabilityTarget struct {
	Query     availabilityQuery
	Office    storage.Office
	Service   storage.ServiceAdmin
	Offered   bool // the office offers the service now
	Withdrawn bool // it did, and stopped: its hours are kept for when it offers it again
	Offices   []storage.Office
	Services  []storage.ServiceAdmin
}

// Editable reports whether hours can be set: the office offers the service, or did.
func (t availabilityTarget) Editable() bool { return t.Offered || t.Withdrawn }

// availabilityTargetOf reads the office and service from get (the query or a form): by default the first office
// in scope offering the service (or, with no service either, offering appointments) and its first service. An office outside the scope or an unknown service is 404.
func (s *Server) availabilityTargetOf(c *fiber.Ctx, get func(string, ...string) string) (availabilityTarget, error) {
	ctx := c.UserContext()
	me := currentStaff(c).ID
	t := availabilityTarget{Query: availabilityQuery{Office: get("sede"), Service: get("servizio")}}
	var err error
	if t.Offices, err = s.DB.StaffOffices(ctx, me); err != nil {
		return t, err
	}
	if t.Services, err = s.DB.AllServices(ctx); err != nil {
		return t, err
	}
	if t.Query.Office == "" && t.Query.Service != "" { // from the list of services: the first office offering it
		settings, err := s.DB.ServiceOfficeSettings(ctx, me, t.Query.Service)
		if err != nil {
			return t, err
		}
		for _, o := range settings {
			if o.Offered && t.Query.Office == "" {
				t.Query.Office = o.Office
			}
		}
	}
	if t.Query.Office == "" {
		withAppointments, err := s.DB.CalendarOffices(ctx, me)
		if err != nil {
			return t, err
		}
		if len(withAppointments) > 0 {
			t.Query.Office = withAppointments[0].Code
		} else if len(t.Offices) > 0 {
			t.Query.Office = t.Offices[0].Code
		}
	}
	for _, o := range t.Offices {
		if o.Code == t.Query.Office {
			t.Office = o
		}
	}
	if t.Office.Code == "" {
		return t, errNotFound(errors.New("availability: office " + t.Query.Office + " not in scope"))
	}
	if t.Query.Service == "" {
		offered, err := s.DB.OfficeServices(ctx, t.Office.Code)
		if err != nil {
			return t, err
		}
		if len(offered) > 0 {
			t.Query.Service = offered[0].Code
		} else if len(t.Services) > 0 {
			t.Query.Service = t.Services[0].Code
		}
	}
	for _, svc := range t.Services {
		if svc.Code == t.Query.Service {
			t.Service = svc
		}
	}
	if t.Service.Code == "" {
		return t, errNotFound(errors.New("availability: service " + t.Query.Service))
	}
	offered, err := s.DB.OfficeServiceState(ctx, me, t.Office.Code, t.Service.Code)
	switch {
	case errors.Is(err, storage.ErrNotFound): // never offered there
	case err != nil:
		return t, err
	default:
		t.Offered, t.Withdrawn = offered, !offered
	}
	return t, nil
}

// patternView is a weekly pattern with, when its hours do not hold whole appointments, when the last one ends.
type patternView struct {
	storage.WeeklyPattern
	LastEnds string
}

func (s *Server) showStaffAvailabilityPage(c *fiber.Ctx) error {
	t, err := s.availabilityTargetOf(c, c.Query)
	if err != nil {
		return err
	}
	return s.renderAvailability(c, fiber.StatusOK, t, nil, nil, nil)
}

// renderAvailability renders the page of t with the forms as typed (nil: empty) and, when a change waits for
// confirmation, the appointments it would leave outside the hours.
func (s *Server) renderAvailability(c *fiber.Ctx, status int, t availabilityTarget, pattern, exception *formState, stranded *strandedView) error {
	ctx := c.UserContext()
	me := currentStaff(c).ID
	z := s.localizer(c)
	data := map[string]any{"T": t, "Stranded": stranded, "Weekdays": []int{1, 2, 3, 4, 5, 6, 7},
		"ServiceTitle": z.T("appointments.service." + t.Service.Msg + ".title"),
		"ServiceURL":   servicesPath + "/" + t.Service.Code, "CalendarURL": calendarQuery{Office: t.Office.Code,
			Day: slots.DayOf(s.now(), i18n.Rome), Week: true}.url()}
	if pattern == nil {
		pattern = newForm()
	}
	if exception == nil {
		exception = newForm()
		exception.Values["tipo"] = "closed"
		exception.Values["ambito"] = "servizio"
	}
	data["Pattern"], data["Exception"] = pattern, exception
	if !pattern.ok() || !exception.ok() {
		data["Alert"] = z.T("staff.error.form")
	}
	if t.Editable() {
		patterns, err := s.DB.WeeklyPatterns(ctx, me, t.Office.Code, t.Service.Code)
		if err != nil {
			return err
		}
		shown := make([]patternView, 0, len(patterns))
		for _, p := range patterns {
			v := patternView{WeeklyPattern: p}
			from, _ := clockOf(p.Starts)
			to, _ := clockOf(p.Ends)
			if n := slots.Clock(t.Service.SlotMinutes); n > 0 && (to-from)%n != 0 {
				v.LastEnds = (from + (to-from)/n*n).String()
			}
			shown = append(shown, v)
		}
		exceptions, err := s.DB.Exceptions(ctx, me, t.Office.Code, t.Service.Code, slots.DayOf(s.now(), i18n.Rome))
		if err != nil {
			return err
		}
		workers, err := s.DB.OfficeWorkers(ctx, me, t.Office.Code)
		if err != nil {
			return err
		}
		data["Patterns"], data["Exceptions"], data["Workers"] = shown, exceptions, workers
	}
	return s.renderStaff(c, status, "staff_availability", z.T("svcadmin.availability.title"),
		[]views.Crumb{s.staffCrumb(c), {Title: z.T("svcadmin.services.title"), URL: servicesPath}}, data)
}
