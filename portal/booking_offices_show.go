package portal

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// officeChoice is an office offering the service, with its first day with free places (nil: none in the window).
type officeChoice struct {
	storage.ServiceOffice
	FirstFree *dayView
}

// showBookingOfficesPage is the second step: where. Residents pick their comune (a form that works without
// JavaScript) and see the offices of its sub-ambito, each with its first free day; or every office.
func (s *Server) showBookingOfficesPage(c *fiber.Ctx) error {
	svc, err := s.bookingService(c)
	if err != nil {
		return err
	}
	if ok, err := s.bookingAllowed(c, svc); !ok {
		return err
	}
	ctx := c.UserContext()
	offices, err := s.DB.ServiceOffices(ctx, svc.Code)
	if err != nil {
		return err
	}
	subAmbiti, err := s.DB.SubAmbiti(ctx)
	if err != nil {
		return err
	}
	comune := strings.TrimSpace(c.Query("comune"))
	area := ""
	for _, sa := range subAmbiti {
		for _, name := range sa.Comuni {
			if name == comune {
				area = sa.Code
			}
		}
	}
	if area == "" {
		comune = "" // unknown: every office
	}
	now := s.now()
	today := slots.DayOf(now, i18n.Rome)
	var choices []officeChoice
	for _, o := range offices {
		if area != "" && o.SubAmbito != area {
			continue
		}
		free, err := s.DB.FreeSlots(ctx, svc, o, today, today+slots.Day(svc.ToDays), now)
		if err != nil {
			return err
		}
		ch := officeChoice{ServiceOffice: o}
		if len(free) > 0 {
			d := viewDay(slots.DayOf(free[0].Start, i18n.Rome), 0)
			ch.FirstFree = &d
		}
		choices = append(choices, ch)
	}
	z := s.localizer(c)
	title := s.serviceTitle(c, svc.Msg)
	return s.render(c, fiber.StatusOK, "booking_offices", title,
		s.bookingCrumbs(c, views.Crumb{Title: z.T("appointments.book.title"), URL: bookingPath}),
		map[string]any{"Service": svc, "Offices": choices, "SubAmbiti": subAmbiti, "Comune": comune, "Step": 2})
}
