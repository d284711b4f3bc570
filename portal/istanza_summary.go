package portal

import (
	"strconv"

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

// review is a whole draft checked against its call, as Submit will check it.
type review struct {
	Answers  forms.Answers    // to store
	Problems []summaryProblem // with links to their steps
	Missing  []forms.Document
	Warnings []string // eligibility rules the answers seem not to meet: staff decide
	Notes    []string // what the portal's own records say (months of B2 for the caregiver bonus)
	Files    []storage.Attachment
}

// reviewDraft validates a whole draft against its call. With withFiles false the documents are not looked at
// (Submit checks them in its own transaction).
func (s *Server) reviewDraft(c *fiber.Ctx, a storage.Application, d *forms.Definition, withFiles bool) (review, error) {
	var rv review
	z := s.localizer(c)
	params := callParams(a)
	answers, problems := forms.Validate(d, a.Answers, params, s.now().In(i18n.Rome))
	if note, err := s.b2FromRecords(c, a, &answers); err != nil {
		return rv, err
	} else if note != "" {
		rv.Notes = append(rv.Notes, note)
	}
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
	rv.Answers, rv.Problems = answers, list
	if withFiles {
		var err error
		if rv.Files, err = s.DB.Attachments(c.UserContext(), a.ID); err != nil {
			return rv, err
		}
		types := make([]string, len(rv.Files))
		for i, att := range rv.Files {
			types[i] = att.DocType
		}
		rv.Missing = forms.MissingDocuments(d, answers, types)
	}
	if len(problems) == 0 {
		for _, r := range forms.Eligibility(d, answers, params) {
			rv.Warnings = append(rv.Warnings, problemText(z, forms.Problem{ID: r.ID, Data: r.Data}))
		}
	}
	return rv, nil
}

// b2FromRecords checks the caregiver bonus's "three months of B2 in the year" against the portal's own FNA B2
// decisions for the same person: when there are any, they replace what was declared (in the answers that are
// checked and stored), and the summary says so. Without records the declaration stands.
func (s *Server) b2FromRecords(c *fiber.Ctx, a storage.Application, answers *forms.Answers) (string, error) {
	cf := answers.Get("beneficiary_cf")
	if a.Measure != "caregiver" || cf == "" {
		return "", nil
	}
	periods, err := s.DB.B2Periods(c.UserContext(), cf)
	if err != nil || len(periods) == 0 {
		return "", err
	}
	months := forms.B2MonthsInYear(periods, a.Year)
	answers.Value["b2_months"] = []string{strconv.Itoa(months)}
	return s.localizer(c).T("page.application.summary.b2_records", map[string]any{"Months": months, "Year": strconv.Itoa(a.Year)}), nil
}

func (s *Server) renderSummary(c *fiber.Ctx, status int, a storage.Application, d *forms.Definition, failure string) error {
	rv, err := s.reviewDraft(c, a, d, true)
	if err != nil {
		return err
	}
	z := s.localizer(c)
	return s.render(c, status, "application_summary", z.T("page.application.summary.title"), s.applicationCrumbs(c, a),
		map[string]any{"Application": a, "MeasureTitle": measureTitle(z, a.Measure), "Steps": journey(a, d, stepSummary),
			"Sections": summarize(z, d, rv.Answers), "Attachments": rv.Files, "Problems": rv.Problems, "Missing": rv.Missing,
			"Warnings": rv.Warnings, "Notes": rv.Notes, "Failure": failure, "Open": a.OpensAt.Before(s.now()) && s.now().Before(a.ClosesAt),
			"CanSubmit": len(rv.Problems) == 0 && len(rv.Missing) == 0})
}
