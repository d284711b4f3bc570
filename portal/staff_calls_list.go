package portal

import (
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// staffCallRow is a call as the back-office list shows it.
type staffCallRow struct {
	storage.Call
	Measure forms.Measure
	State   string // upcoming, open, closed
}

// sortCalls orders calls newest year first and, within a year, in the portal's order of measures.
func sortCalls(calls []storage.Call) {
	order := func(code string) int {
		return slices.IndexFunc(forms.Measures, func(m forms.Measure) bool { return m.Code == code })
	}
	slices.SortStableFunc(calls, func(a, b storage.Call) int {
		if a.Year != b.Year {
			return b.Year - a.Year
		}
		return order(a.Measure) - order(b.Measure)
	})
}

// showStaffCallsPage lists every call, newest year first and in the portal's order of measures within a year,
// with links to create the next one of each measure (admins and coordinatori).
func (s *Server) showStaffCallsPage(c *fiber.Ctx) error {
	calls, err := s.DB.Calls(c.UserContext())
	if err != nil {
		return err
	}
	sortCalls(calls)
	rows := make([]staffCallRow, 0, len(calls))
	for _, call := range calls {
		m, ok := forms.MeasureByCode(call.Measure)
		if !ok {
			continue // the measures table only holds forms.Measures
		}
		rows = append(rows, staffCallRow{Call: call, Measure: m, State: call.State(s.now())})
	}
	return s.renderStaff(c, fiber.StatusOK, "staff_calls", s.localizer(c).T("staff.calls.title"),
		[]views.Crumb{s.staffCrumb(c)}, map[string]any{"Calls": rows, "Measures": forms.Measures})
}
