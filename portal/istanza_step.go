package portal

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// showStep shows one step of a draft with what was already typed.
func (s *Server) showStep(c *fiber.Ctx) error {
	a, d, _, err := s.loadOwnDraft(c)
	if err != nil {
		return redirectIfSubmitted(c, err)
	}
	st, ok := d.Step(c.Params("step"))
	if !ok {
		return errNotFound(nil)
	}
	return s.renderStep(c, fiber.StatusOK, a, d, st, nil)
}

// saveStep stores what was posted on one step, whatever it is: going back, leaving, or a mistake never loses an
// answer. Going forward needs the step to be valid; otherwise the step is shown again with every value kept and
// each problem explained (422). A question that appears because of an answer just given (a relationship once
// "on behalf" is chosen) is asked on the same page, without calling it a mistake.
func (s *Server) saveStep(c *fiber.Ctx) error {
	a, d, p, err := s.loadOwnDraft(c)
	if err != nil {
		return redirectIfSubmitted(c, err)
	}
	st, ok := d.Step(c.Params("step"))
	if !ok {
		return errNotFound(nil)
	}
	z := s.localizer(c)
	posted := map[string][]string{}
	args := c.Context().PostArgs()
	for _, f := range st.Fields {
		for _, v := range args.PeekMulti(f.ID) {
			posted[f.ID] = append(posted[f.ID], string(v))
		}
	}
	prev := a.Answers
	prev.Lang = z.Lang.Code
	answers, problems := forms.Parse(d, st.ID, posted, prev, s.now().In(i18n.Rome))
	if err := s.DB.SaveDraft(c.UserContext(), a.ID, p.ID, draftUpdate(answers)); err != nil {
		return redirectIfSubmitted(c, err)
	}
	a.Answers = answers
	switch c.FormValue("action") {
	case "back":
		return c.Redirect(prevStep(a, d, st.ID), fiber.StatusSeeOther)
	case "leave":
		return c.Redirect(applicationPath(a.ID)+"?salvata=1", fiber.StatusSeeOther)
	}
	shown := strings.Split(c.FormValue("shown"), " ")
	errs := map[string]string{}
	newQuestions := false
	for field, pr := range problems {
		if field != "" && !slices.Contains(shown, field) {
			newQuestions = true
			continue
		}
		if f, ok := d.Field(field); ok && f.MustBeYes && pr.ID == forms.ErrRequired {
			pr.ID = forms.ErrDeclarationRequired
		}
		errs[field] = problemText(z, pr)
	}
	switch {
	case len(errs) > 0:
		return s.renderStep(c, fiber.StatusUnprocessableEntity, a, d, st, errs)
	case newQuestions:
		return s.renderStep(c, fiber.StatusOK, a, d, st, nil)
	case c.Query("ritorno") == stepSummary:
		return c.Redirect(applicationPath(a.ID)+"/riepilogo", fiber.StatusSeeOther)
	}
	return c.Redirect(nextStep(a, d, st.ID), fiber.StatusSeeOther)
}

// draftUpdate derives the columns that follow the answers: who the beneficiary is and on whose behalf.
func draftUpdate(answers forms.Answers) storage.DraftUpdate {
	comune, _ := forms.ComuneOf(answers.Get("comune"))
	return storage.DraftUpdate{Answers: answers, BeneficiaryCF: answers.Get("beneficiary_cf"),
		OnBehalf: answers.Get("on_behalf") == "yes", Relationship: answers.Get("relationship"), Comune: storage.Slug(comune)}
}

func (s *Server) renderStep(c *fiber.Ctx, status int, a storage.Application, d *forms.Definition, st *forms.Step,
	errs map[string]string) error {
	z := s.localizer(c)
	fields := fieldViews(d, st, a.Answers, errs)
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.ID
	}
	steps := journey(a, d, st.ID)
	number := slices.IndexFunc(steps, func(j journeyStep) bool { return j.Current }) + 1
	action := stepPath(a.ID, st.ID)
	if c.Query("ritorno") == stepSummary {
		action += "?ritorno=" + stepSummary
	}
	var pageErr []string
	for _, f := range fields {
		if f.Error != "" {
			pageErr = append(pageErr, f.ID)
		}
	}
	return s.render(c, status, "application_step", z.T(st.Title), s.applicationCrumbs(c, a),
		map[string]any{"Application": a, "MeasureTitle": measureTitle(z, a.Measure), "Steps": steps, "Number": number,
			"Total": len(steps), "Fields": fields, "Shown": strings.Join(names, " "), "Action": action,
			"Invalid": pageErr, "Back": prevStep(a, d, st.ID)})
}
