package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// summaryProblem is something that stops the submission, with a link to where it is fixed.
type summaryProblem struct {
	Text string // message ID or rendered text
	URL  string
}

// showSummary is the last page before submitting: every answer by section with a link to change it, the
// documents, and whatever still stops the submission.
func (s *Server) showSummary(c *fiber.Ctx) error {
	a, d, _, err := s.loadOwnDraft(c)
	if err != nil {
		return redirectIfSubmitted(c, err)
	}
	return s.renderSummary(c, fiber.StatusOK, a, d, "")
}

// reviewDraft validates a whole draft against its call, as Submit will: the answers to store, the problems with
// links to their steps, the missing documents and the eligibility warnings.
func (s *Server) reviewDraft(c *fiber.Ctx, a storage.Application, d *forms.Definition) (forms.Answers, []summaryProblem, []forms.Document, []string, error) {
	call, err := s.DB.CallByID(c.UserContext(), a.CallID)
	if err != nil {
		return forms.Answers{}, nil, nil, nil, err
	}
	z := s.localizer(c)
	params := callParams(a, call.Thresholds)
	answers, problems := forms.Validate(d, a.Answers, params, s.now().In(i18n.Rome))
	var list []summaryProblem
	for _, st := range d.Steps {
		for _, f := range st.Fields {
			if p, ok := problems[f.ID]; ok {
				if f.MustBeYes && p.ID == forms.ErrRequired {
					p.ID = forms.ErrDeclarationRequired
				}
				list = append(list, summaryProblem{Text: z.T(f.Label) + ": " + problemText(z, p), URL: stepPath(a.ID, st.ID) + "?ritorno=" + stepSummary + "#" + f.ID})
			}
		}
	}
	atts, err := s.DB.Attachments(c.UserContext(), a.ID)
	if err != nil {
		return answers, nil, nil, nil, err
	}
	types := make([]string, len(atts))
	for i, att := range atts {
		types[i] = att.DocType
	}
	missing := forms.MissingDocuments(d, answers, types)
	var warnings []string
	if len(problems) == 0 {
		for _, r := range forms.Eligibility(d, answers, params) {
			warnings = append(warnings, problemText(z, forms.Problem{ID: r.ID, Data: r.Data}))
		}
	}
	return answers, list, missing, warnings, nil
}

func (s *Server) renderSummary(c *fiber.Ctx, status int, a storage.Application, d *forms.Definition, failure string) error {
	answers, problems, missing, warnings, err := s.reviewDraft(c, a, d)
	if err != nil {
		return err
	}
	atts, err := s.DB.Attachments(c.UserContext(), a.ID)
	if err != nil {
		return err
	}
	z := s.localizer(c)
	return s.render(c, status, "application_summary", z.T("page.application.summary.title"), s.applicationCrumbs(c, a),
		map[string]any{"Application": a, "MeasureTitle": measureTitle(z, a.Measure), "Steps": journey(a, d, stepSummary),
			"Sections": summarize(z, d, answers), "Attachments": atts, "Problems": problems, "Missing": missing,
			"Warnings": warnings, "Failure": failure, "Open": a.OpensAt.Before(s.now()) && s.now().Before(a.ClosesAt),
			"CanSubmit": len(problems) == 0 && len(missing) == 0})
}
