package portal

import (
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// precheckCall returns the rules of the measure's current call (its ISEE thresholds, set by staff as data; a
// measure without an ISEE rule, like the caregiver bonus, has none). Ages are taken today: the pre-check is indicative; the application itself uses the call's opening day.
func (s *Server) precheckCall(c *fiber.Ctx, measure string) (forms.CallParams, error) {
	calls, err := s.DB.CurrentCalls(c.UserContext(), s.now())
	if err != nil {
		return forms.CallParams{}, err
	}
	call, ok := calls[measure]
	if !ok {
		return forms.CallParams{}, errNotFound(nil)
	}
	return forms.CallParams{Thresholds: call.Thresholds, Opens: s.now()}, nil
}

// checkQuestion is one question of the pre-check, as the template draws it: radio buttons for choice and yes/no
// fields, a text input for the rest.
type checkQuestion struct {
	Name, Label, Hint, Inputmode, Dir string
	Options                           []forms.Option // radio fields only
}

// checkResult is what the pre-check found: no reasons means the resident can apply.
type checkResult struct {
	Reasons []string // rendered in the reader's language
}

func precheckDefinition(c *fiber.Ctx) (forms.Measure, *forms.Definition, error) {
	m, ok := forms.MeasureBySlug(c.Params("slug"))
	if !ok {
		return m, nil, errNotFound(nil)
	}
	d, err := forms.Latest(m.Code)
	if errors.Is(err, forms.ErrUnknownDefinition) {
		return m, nil, errNotFound(err)
	}
	return m, d, err
}

// showMeasureCheckPage asks only what the eligibility rules need. Not cached: the answers change the page.
func (s *Server) showMeasureCheckPage(c *fiber.Ctx) error {
	m, d, err := precheckDefinition(c)
	if err != nil {
		return err
	}
	return s.renderMeasureCheck(c, fiber.StatusOK, m, d, newForm(), nil)
}

// submitMeasureCheck parses the answers with the forms engine and runs the definition's eligibility rules. Nothing
// is stored: the pre-check is anonymous.
func (s *Server) submitMeasureCheck(c *fiber.Ctx) error {
	m, d, err := precheckDefinition(c)
	if err != nil {
		return err
	}
	z := s.localizer(c)
	posted := map[string][]string{}
	form := newForm()
	for _, f := range forms.EligibilityFields(d) {
		v := c.FormValue(f.ID)
		form.Values[f.ID] = strings.Clone(v) // Fiber reuses the request's memory
		posted[f.ID] = []string{form.Values[f.ID]}
	}
	answers, problems := forms.ParsePrecheck(d, posted, z.Lang.Code, s.now())
	for field, p := range problems {
		form.fail(field, problemText(z, p))
	}
	if !form.ok() {
		return s.renderMeasureCheck(c, fiber.StatusUnprocessableEntity, m, d, form, nil)
	}
	call, err := s.precheckCall(c, m.Code)
	if err != nil {
		return err
	}
	result := &checkResult{}
	for _, r := range forms.Eligibility(d, answers, call) {
		result.Reasons = append(result.Reasons, problemText(z, forms.Problem{ID: r.ID, Data: r.Data}))
	}
	return s.renderMeasureCheck(c, fiber.StatusOK, m, d, form, result)
}

// problemText renders a message whose data needs formatting in the reader's language (amounts, dates). Messages
// without data stay IDs; a rendered text passes through the templates' t unchanged, as it is no message ID.
func problemText(z *i18n.Localizer, p forms.Problem) string {
	if len(p.Data) == 0 {
		return p.ID
	}
	data := make(map[string]any, len(p.Data))
	for k, v := range p.Data {
		switch v := v.(type) {
		case forms.Cents:
			data[k] = z.Money(float64(v) / 100)
		case time.Time:
			data[k] = z.Date(v)
		default:
			data[k] = v
		}
	}
	return z.T(p.ID, data)
}

func (s *Server) renderMeasureCheck(c *fiber.Ctx, status int, m forms.Measure, d *forms.Definition, form *formState,
	result *checkResult) error {
	var questions []checkQuestion
	for _, f := range forms.EligibilityFields(d) {
		q := checkQuestion{Name: f.ID, Label: f.Label, Hint: f.Hint}
		switch f.Kind {
		case forms.KindChoice:
			q.Options = f.Options
		case forms.KindYesNo:
			q.Options = []forms.Option{{Value: "yes", Label: "page.measure_check.yes"}, {Value: "no", Label: "page.measure_check.no"}}
		case forms.KindDate:
			q.Inputmode, q.Dir = "numeric", "ltr"
			if q.Hint == "" {
				q.Hint = "page.measure_check.hint.date"
			}
		case forms.KindAmount:
			q.Inputmode, q.Dir = "decimal", "ltr"
		}
		questions = append(questions, q)
	}
	z := s.localizer(c)
	measureTitle := z.T("measure." + m.Msg + ".title")
	return s.render(c, status, "measure_check", z.T("page.measure_check.title"),
		[]views.Crumb{s.home(c), {Title: z.T("page.measures.title"), URL: "/misure"}, {Title: measureTitle, URL: "/misure/" + m.Slug}},
		map[string]any{"Measure": m, "MeasureTitle": measureTitle, "Questions": questions, "Form": form, "Result": result})
}
