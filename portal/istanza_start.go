package portal

import (
	"crypto/rand"
	"errors"
	"regexp"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// startKey is the shape of the random key the start form carries (crypto/rand.Text).
var startKey = regexp.MustCompile(`^[A-Z2-7]{26}$`)

// applyCall finds the measure in the URL and its current call.
func (s *Server) applyCall(c *fiber.Ctx) (forms.Measure, *storage.Call, error) {
	m, ok := forms.MeasureBySlug(c.Params("slug"))
	if !ok {
		return m, nil, errNotFound(nil)
	}
	calls, err := s.DB.CurrentCalls(c.UserContext(), s.now())
	if err != nil {
		return m, nil, err
	}
	call, ok := calls[m.Code]
	if !ok {
		return m, nil, nil
	}
	return m, &call, nil
}

// showApplyPage is where an application starts: the call's window, the resident's own applications to this call
// (a draft to resume comes first), and the button that opens a new draft.
func (s *Server) showApplyPage(c *fiber.Ctx) error {
	m, call, err := s.applyCall(c)
	if err != nil {
		return err
	}
	return s.renderApply(c, fiber.StatusOK, m, call)
}

func (s *Server) renderApply(c *fiber.Ctx, status int, m forms.Measure, call *storage.Call) error {
	p, err := s.currentPerson(c)
	if err != nil {
		return err
	}
	var mine []storage.Application
	var cv *callView
	if call != nil {
		cv = &callView{Call: *call, State: call.State(s.now())}
		all, err := s.DB.ApplicationsFor(c.UserContext(), p.ID, p.FiscalCode)
		if err != nil {
			return err
		}
		for _, a := range all {
			if a.CallID == call.ID {
				mine = append(mine, a)
			}
		}
	}
	z := s.localizer(c)
	title := z.T("measure." + m.Msg + ".title")
	return s.render(c, status, "apply", z.T("page.apply.title", map[string]any{"Measure": title}),
		[]views.Crumb{s.home(c), {Title: z.T("page.measures.title"), URL: "/misure"}, {Title: title, URL: "/misure/" + m.Slug}},
		map[string]any{"Measure": m, "Call": cv, "Mine": mine, "Key": rand.Text()})
}

// startApplication opens a new draft for the measure's open call and goes to its first step. The form's random
// key makes a double click or a retried request open one draft, not two.
func (s *Server) startApplication(c *fiber.Ctx) error {
	m, call, err := s.applyCall(c)
	if err != nil {
		return err
	}
	if call == nil || call.State(s.now()) != "open" {
		return s.renderApply(c, fiber.StatusConflict, m, call)
	}
	key := c.FormValue("key")
	if !startKey.MatchString(key) {
		return errBadRequest(errors.New("istanza: start key missing or malformed"))
	}
	d, err := forms.Load(call.FormVersion)
	if err != nil {
		return err
	}
	id, err := s.DB.CreateDraft(c.UserContext(), call.ID, personID(sessionOf(c)), key, d.ID)
	if err != nil {
		return err
	}
	return c.Redirect(stepPath(id, d.Steps[0].ID), fiber.StatusSeeOther)
}
