package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
)

type serviceCard struct{ Icon, Title, Text, URL string }

// The four services on the home page, in the order residents look for them.
var services = []serviceCard{
	{"it-calendar", "service.booking.title", "service.booking.text", "/servizi/prenota-appuntamento"},
	{"it-file", "service.apply.title", "service.apply.text", "/misure"},
	{"it-list", "service.cases.title", "service.cases.text", "/servizi/le-mie-pratiche"},
	{"it-video", "service.interview.title", "service.interview.text", "/servizi/colloquio-online"},
}

type measureCall struct {
	Measure forms.Measure
	Call    *callView
}

func (s *Server) showHomePage(c *fiber.Ctx) error {
	return s.renderPublic(c, "/", func() (*pageSpec, error) {
		calls, err := s.DB.CurrentCalls(c.UserContext(), s.now())
		if err != nil {
			return nil, err
		}
		var current []measureCall
		for _, m := range forms.Measures {
			if cv := s.callView(calls, m.Code); cv != nil && cv.State != "closed" {
				current = append(current, measureCall{Measure: m, Call: cv})
			}
		}
		return &pageSpec{Name: "home", Title: s.localizer(c).T("page.home.title"),
			Data: map[string]any{"Services": services, "Calls": current}}, nil
	})
}
