package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// showBookingSlotsPage is the third step: the first day with free places comes first, with its free times to
// choose from, then the other days with free places. ?giorno= shows another day.
func (s *Server) showBookingSlotsPage(c *fiber.Ctx) error {
	t, err := s.bookingTargetOf(c)
	if err != nil {
		return err
	}
	if ok, err := s.bookingAllowed(c, t.Service); !ok {
		return err
	}
	return s.renderSlots(c, fiber.StatusOK, t, c.Query("giorno"), "", choicesOf(c.Query))
}

// renderSlots renders the times of one day (the first free day when day is "" or not a day with free times), with
// an alert (message ID) when a choice was refused.
func (s *Server) renderSlots(c *fiber.Ctx, status int, t bookingTarget, day, alert string, typed typedChoices) error {
	now := s.now()
	today := slots.DayOf(now, i18n.Rome)
	free, err := s.DB.FreeSlots(c.UserContext(), t.Service, t.Office, today, today+slots.Day(t.Service.ToDays), now)
	if err != nil {
		return err
	}
	days := slots.Days(free, i18n.Rome)
	var shown []dayView
	for _, d := range days {
		shown = append(shown, viewDay(d, len(slots.On(free, d, i18n.Rome))))
	}
	var current *dayView
	asked := ""
	if d, err := slots.ParseDay(day); err == nil {
		asked = d.String()
		for i := range shown {
			if shown[i].Param == asked {
				current = &shown[i]
			}
		}
	}
	if current == nil && len(shown) > 0 && asked == "" {
		current = &shown[0]
	}
	var times []slotView
	if current != nil {
		d, _ := slots.ParseDay(current.Param)
		times = viewSlots(slots.On(free, d, i18n.Rome))
	}
	z := s.localizer(c)
	return s.render(c, status, "booking_slots", s.serviceTitle(c, t.Service.Msg),
		s.bookingCrumbs(c, views.Crumb{Title: z.T("appointments.book.title"), URL: bookingPath},
			views.Crumb{Title: s.serviceTitle(c, t.Service.Msg), URL: bookingPath + "/" + t.Service.Code}),
		map[string]any{"Target": t, "Days": shown, "Day": current, "First": current != nil && len(shown) > 0 &&
			current.Param == shown[0].Param, "AskedFull": current == nil && asked != "", "Times": times,
			"Alert": alert, "Typed": typed, "Action": slotsPath(t.Service.Code, t.Office.Code), "Step": 3})
}
