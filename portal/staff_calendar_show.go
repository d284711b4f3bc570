package portal

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// The staff calendar of appointments: an office's day or week as a list of slots with their bookings and free
// places (a list, not a grid: it reads the same on a phone and with a screen reader), the time blocked, arrivals
// and no-shows, and booking for a resident on the phone. Only offices in the account's scope exist here: every
// query carries the scope condition, and any other office is 404.

const calendarPath = "/backoffice/appuntamenti"

// calendarQuery is what the calendar shows, as in its address (a GET form, so a view can be bookmarked).
type calendarQuery struct {
	Office string
	Day    slots.Day
	Week   bool
	Worker int64
}

// url is the calendar's address for q.
func (q calendarQuery) url() string {
	v := url.Values{}
	v.Set("sede", q.Office)
	v.Set("giorno", q.Day.String())
	if q.Week {
		v.Set("vista", "settimana")
	}
	if q.Worker != 0 {
		v.Set("operatore", strconv.FormatInt(q.Worker, 10))
	}
	return calendarPath + "?" + v.Encode()
}

// calendarURL is the day view of an office on the day of t.
func calendarURL(office string, t time.Time) string {
	return calendarQuery{Office: office, Day: slots.DayOf(t, i18n.Rome)}.url()
}

// span is the first and last day shown: the day, or its week from Monday.
func (q calendarQuery) span() (slots.Day, slots.Day) {
	if !q.Week {
		return q.Day, q.Day
	}
	first := q.Day - slots.Day(q.Day.Weekday()-1)
	return first, first + 6
}

// calendarDay is one day of the calendar with its slots.
type calendarDay struct {
	Day      dayView
	Past     bool // today or before: bookings can be marked arrived or missed
	Slots    []calendarSlotView
	HasSlots bool
}

type calendarSlotView struct {
	storage.CalendarSlot
	Time string // "09:30–10:00"
}

// showStaffCalendarPage is the calendar of an office in scope (the first one by default), today by default.
func (s *Server) showStaffCalendarPage(c *fiber.Ctx) error {
	q, err := s.calendarQueryOf(c, c.Query)
	if err != nil {
		return err
	}
	return s.renderCalendar(c, fiber.StatusOK, q, nil, "")
}

// calendarQueryOf reads the office, day, view and worker from get (the query or a form), defaulting to the
// first office in scope and today. An office outside the scope is 404.
func (s *Server) calendarQueryOf(c *fiber.Ctx, get func(string, ...string) string) (calendarQuery, error) {
	q := calendarQuery{Office: get("sede"), Day: slots.DayOf(s.now(), i18n.Rome), Week: get("vista") == "settimana"}
	if q.Office == "" {
		offices, err := s.DB.CalendarOffices(c.UserContext(), currentStaff(c).ID)
		if err != nil {
			return q, err
		}
		if len(offices) > 0 {
			q.Office = offices[0].Code
		}
	}
	if d, err := slots.ParseDay(get("giorno")); err == nil {
		q.Day = d
	}
	if w := get("operatore"); w != "" {
		id, err := strconv.ParseInt(w, 10, 64)
		if err != nil || id <= 0 {
			return q, errNotFound(errors.New("calendar: worker " + w))
		}
		q.Worker = id
	}
	return q, nil
}

// renderCalendar renders the calendar of q with the block form as typed (nil: empty), and an alert (already
// localized) such as the bookings a block would overlap.
func (s *Server) renderCalendar(c *fiber.Ctx, status int, q calendarQuery, block *formState, alert string) error {
	ctx := c.UserContext()
	u := currentStaff(c)
	z := s.localizer(c)
	offices, err := s.DB.CalendarOffices(ctx, u.ID)
	if err != nil {
		return err
	}
	data := map[string]any{"Offices": offices, "Query": q}
	if alert != "" {
		data["Alert"] = alert
	}
	if q.Office == "" { // nothing in scope offers appointments
		return s.renderStaff(c, status, "staff_calendar", z.T("calendar.title"), []views.Crumb{s.staffCrumb(c)}, data)
	}
	var office storage.Office
	for _, o := range offices {
		if o.Code == q.Office {
			office = o
		}
	}
	if office.Code == "" {
		return errNotFound(errors.New("calendar: office " + q.Office + " not in scope"))
	}
	workers, err := s.DB.CalendarWorkers(ctx, u.ID, q.Office)
	if err != nil {
		return err
	}
	if q.Worker != 0 && !slices.ContainsFunc(workers, func(w storage.CalendarWorker) bool { return w.ID == q.Worker }) {
		return errNotFound(errors.New("calendar: worker without hours at " + q.Office))
	}
	first, last := q.span()
	all, err := s.DB.Calendar(ctx, u.ID, q.Office, q.Worker, first, last)
	if err != nil {
		return err
	}
	blocks, err := s.DB.CalendarBlocks(ctx, u.ID, q.Office, first, last)
	if err != nil {
		return err
	}
	today := slots.DayOf(s.now(), i18n.Rome)
	var days []calendarDay
	for d := first; d <= last; d++ {
		day := calendarDay{Day: viewDay(d, 0), Past: d <= today}
		for _, sl := range all {
			if slots.DayOf(sl.Start, i18n.Rome) == d {
				day.Slots = append(day.Slots, calendarSlotView{CalendarSlot: sl,
					Time: sl.Start.In(i18n.Rome).Format("15:04") + "–" + sl.End.In(i18n.Rome).Format("15:04")})
			}
		}
		day.HasSlots = len(day.Slots) > 0
		days = append(days, day)
	}
	step := slots.Day(1)
	if q.Week {
		step = 7
	}
	prev, next, now := q, q, q
	prev.Day, next.Day, now.Day = q.Day-step, q.Day+step, today
	asDay, asWeek := q, q
	asDay.Week, asWeek.Week = false, true
	if block == nil {
		block = newForm()
		block.Values["data"] = q.Day.String()
	}
	data["Office"] = office
	data["Workers"] = workers
	data["Days"] = days
	data["Blocks"] = blocks
	data["Block"] = block
	data["Prev"], data["Next"], data["Today"] = prev.url(), next.url(), now.url()
	data["DayURL"], data["WeekURL"] = asDay.url(), asWeek.url()
	data["Self"] = q.url()
	data["BookURL"] = calendarPath + "/prenota?sede=" + url.QueryEscape(q.Office)
	data["Languages"] = i18n.Languages
	// who may receive the appointments (colloqui): the form on each booking, and the room's link for one's own
	if data["Assignable"], err = s.DB.AssignableWorkers(ctx, u.ID, q.Office); err != nil {
		return err
	}
	data["Me"], data["Now"] = u.ID, s.now()
	return s.renderStaff(c, status, "staff_calendar", z.T("calendar.title"), []views.Crumb{s.staffCrumb(c)}, data)
}
