package portal

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// showStaffCallNewPage shows the form for a new call of the measure in ?misura= (the list links one per measure).
// It starts from the measure's latest call: the next year, the newest form version, the same amounts where the
// categories are the same, so a new year's call is mostly a matter of dates.
func (s *Server) showStaffCallNewPage(c *fiber.Ctx) error {
	m, ok := forms.MeasureByCode(c.Query("misura"))
	if !ok {
		return c.Redirect("/backoffice/avvisi", fiber.StatusSeeOther)
	}
	latest, err := s.DB.LatestCalls(c.UserContext())
	if err != nil {
		return err
	}
	f := newCallForm(m)
	year := s.now().In(i18n.Rome).Year()
	prev, hasPrev := latest[m.Code]
	if hasPrev && prev.Year >= year {
		year = prev.Year + 1
	}
	f.Year = strconv.Itoa(year)
	f.setCategories(prev.Thresholds, prev.Budgets) // nil maps without a previous call
	f.setGrants(prev.DeadlineDays, prev.Amounts)
	return s.renderStaffCall(c, fiber.StatusOK, nil, f, "")
}

// submitStaffCallNew creates a call. The measure comes from a hidden field: an unknown one is a forged request.
func (s *Server) submitStaffCallNew(c *fiber.Ctx) error {
	m, ok := forms.MeasureByCode(c.FormValue("measure"))
	if !ok {
		return errBadRequest(nil)
	}
	z := s.localizer(c)
	f := newCallForm(m)
	year := parseCallYear(f, c.FormValue("year"))
	call := parseCallForm(c, f, z.Lang.Code)
	if len(f.Errors) > 0 {
		return s.renderStaffCall(c, fiber.StatusUnprocessableEntity, nil, f, z.T("staff.error.form"))
	}
	call.Measure, call.Year = m.Code, year
	_, err := s.DB.CreateCall(c.UserContext(), call)
	if errors.Is(err, storage.ErrCallExists) {
		f.Errors["year"] = "staff.error.call_exists"
		return s.renderStaffCall(c, fiber.StatusUnprocessableEntity, nil, f, z.T("staff.error.form"))
	}
	if err != nil {
		return err
	}
	return s.redirectWithNotice(c, "/backoffice/avvisi", "staff.call.created")
}

// renderStaffCall renders the call form: a new call when call is nil, else the edit page of call with its state
// and the "open now" / "close now" buttons.
func (s *Server) renderStaffCall(c *fiber.Ctx, status int, call *storage.Call, f *callForm, alert string) error {
	z := s.localizer(c)
	measure := z.T("measure." + f.Measure.Msg + ".title")
	data := map[string]any{"Form": f, "Errors": f.Errors, "Alert": alert}
	title := z.T("staff.calls.new_for", map[string]any{"Measure": measure})
	if call != nil {
		title = z.T("staff.calls.item", map[string]any{"Measure": measure, "Year": call.Year})
		data["Call"] = call
		data["State"] = call.State(s.now())
	}
	return s.renderStaff(c, status, "staff_call_edit", title,
		[]views.Crumb{s.staffCrumb(c), {Title: z.T("staff.calls.title"), URL: "/backoffice/avvisi"}}, data)
}
