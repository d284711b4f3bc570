package portal

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// The pages of the citizen's application journey ("istanze"), shared by its handlers.

// Pseudo-steps after the definition's own: the attachments, then the summary.
const (
	stepDocuments = "documenti"
	stepSummary   = "riepilogo"
)

// applicationsPath is "Le mie pratiche".
const applicationsPath = "/pratiche"

func applicationPath(id int64) string { return applicationsPath + "/" + strconv.FormatInt(id, 10) }

func stepPath(id int64, step string) string { return applicationPath(id) + "/passo/" + step }

// loadApplication returns the application in the URL if the signed-in person may see it (applicant, or
// beneficiary once submitted); anyone else gets 404, as if it did not exist.
func (s *Server) loadApplication(c *fiber.Ctx) (storage.Application, storage.Person, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return storage.Application{}, storage.Person{}, errNotFound(err)
	}
	return s.DB.ApplicationWithPerson(c.UserContext(), id, personID(sessionOf(c)))
}

// loadOwnDraft is loadApplication for pages that change a draft: only its applicant, and only while it is a
// draft; a submitted application sends the resident to its page.
func (s *Server) loadOwnDraft(c *fiber.Ctx) (storage.Application, *forms.Definition, storage.Person, error) {
	a, p, err := s.loadApplication(c)
	if err != nil {
		return a, nil, p, err
	}
	if a.ApplicantID != p.ID {
		return a, nil, p, errNotFound(errors.New("istanza: beneficiary cannot edit"))
	}
	if !a.Draft() {
		return a, nil, p, errAlreadySubmitted{id: a.ID}
	}
	d, err := forms.Load(a.FormVersion)
	return a, d, p, err
}

// errAlreadySubmitted makes a change to a submitted application land on its page instead.
type errAlreadySubmitted struct{ id int64 }

func (e errAlreadySubmitted) Error() string { return "istanza: already submitted" }

// redirectIfSubmitted turns errAlreadySubmitted into a redirect to the application's page.
func redirectIfSubmitted(c *fiber.Ctx, err error) error {
	var e errAlreadySubmitted
	if errors.As(err, &e) {
		return c.Redirect(applicationPath(e.id), fiber.StatusSeeOther)
	}
	return err
}

// callParams are the call's rules as the forms engine reads them.
func callParams(a storage.Application) forms.CallParams {
	return forms.CallParams{Thresholds: a.Thresholds, Opens: a.OpensAt, Closes: a.ClosesAt}
}

// journeyStep is one entry of the step indicator.
type journeyStep struct {
	ID, Title, URL string
	Current, Done  bool
}

// journey lists the steps of an application: the definition's, the documents, the summary. Done marks steps
// whose fields have answers, so a resident can jump back to any of them.
func journey(a storage.Application, d *forms.Definition, current string) []journeyStep {
	var out []journeyStep
	for _, st := range d.Steps {
		if !forms.StepShown(d, &st, a.Answers) {
			continue
		}
		done := false
		for _, f := range st.Fields {
			if len(a.Answers.Raw[f.ID]) > 0 {
				done = true
				break
			}
		}
		out = append(out, journeyStep{ID: st.ID, Title: st.Title, URL: stepPath(a.ID, st.ID), Current: st.ID == current, Done: done})
	}
	out = append(out,
		journeyStep{ID: stepDocuments, Title: "page.application.documents.title", URL: applicationPath(a.ID) + "/documenti", Current: current == stepDocuments},
		journeyStep{ID: stepSummary, Title: "page.application.summary.title", URL: applicationPath(a.ID) + "/riepilogo", Current: current == stepSummary})
	return out
}

// nextStep is the page after step in the journey, skipping steps whose questions the answers have all hidden.
func nextStep(a storage.Application, d *forms.Definition, step string) string {
	i := slices.IndexFunc(d.Steps, func(st forms.Step) bool { return st.ID == step })
	if i < 0 {
		return applicationPath(a.ID) + "/riepilogo"
	}
	for _, st := range d.Steps[i+1:] {
		if forms.StepShown(d, &st, a.Answers) {
			return stepPath(a.ID, st.ID)
		}
	}
	return applicationPath(a.ID) + "/documenti"
}

// prevStep is the page before step (skipping hidden ones), or the application's page before the first one.
func prevStep(a storage.Application, d *forms.Definition, step string) string {
	i := slices.IndexFunc(d.Steps, func(st forms.Step) bool { return st.ID == step })
	for j := i - 1; j >= 0; j-- {
		if forms.StepShown(d, &d.Steps[j], a.Answers) {
			return stepPath(a.ID, d.Steps[j].ID)
		}
	}
	return applicationPath(a.ID)
}

// measureTitle is the measure's name in the reader's language.
func measureTitle(z *i18n.Localizer, measure string) string {
	m, _ := forms.MeasureByCode(measure)
	return z.T("measure." + m.Msg + ".title")
}

// applicationCrumbs are the breadcrumbs of every page of one application.
func (s *Server) applicationCrumbs(c *fiber.Ctx, a storage.Application) []views.Crumb {
	z := s.localizer(c)
	title := measureTitle(z, a.Measure)
	if a.Protocol != nil {
		title = *a.Protocol
	}
	return []views.Crumb{s.home(c), {Title: z.T("nav.personal_area"), URL: "/area-personale"},
		{Title: z.T("page.applications.title"), URL: applicationsPath}, {Title: title, URL: applicationPath(a.ID)}}
}

// answerRow is one question and its answer as the summary and the receipt show it.
type answerRow struct {
	Field string
	Label string // message ID
	Value string // already in the reader's language
}

// answerSection is one step's answers.
type answerSection struct {
	Step  string
	Title string // message ID
	Rows  []answerRow
}

// summarize turns the answers into rows per step, values formatted in the language of z: choices by their
// labels, amounts as money, dates in the language's pattern. Hidden and unanswered fields are left out.
func summarize(z *i18n.Localizer, d *forms.Definition, a forms.Answers) []answerSection {
	var out []answerSection
	for _, st := range d.Steps {
		sec := answerSection{Step: st.ID, Title: st.Title}
		for _, f := range st.Fields {
			v := displayValue(z, &f, a)
			if v == "" {
				continue
			}
			sec.Rows = append(sec.Rows, answerRow{Field: f.ID, Label: f.Label, Value: v})
		}
		out = append(out, sec)
	}
	return out
}

// displayValue is one answer in the reader's language; what was typed when it has no valid value yet.
func displayValue(z *i18n.Localizer, f *forms.Field, a forms.Answers) string {
	vs := a.Value[f.ID]
	if len(vs) == 0 {
		return strings.Join(a.Raw[f.ID], ", ")
	}
	switch f.Kind {
	case forms.KindChoice, forms.KindMultichoice:
		labels := make([]string, 0, len(vs))
		for _, v := range vs {
			for _, o := range f.Options {
				if o.Value == v {
					labels = append(labels, z.T(o.Label))
				}
			}
		}
		return strings.Join(labels, ", ")
	case forms.KindYesNo:
		return z.T("page.application.answer." + vs[0])
	case forms.KindAmount:
		cents, _ := strconv.ParseInt(vs[0], 10, 64)
		return z.Money(float64(cents) / 100)
	case forms.KindDate:
		t, err := time.ParseInLocation(time.DateOnly, vs[0], i18n.Rome)
		if err != nil {
			return vs[0]
		}
		return z.Date(t)
	}
	return vs[0]
}

// fieldView is one question as a step page renders it.
type fieldView struct {
	forms.Field
	Value        string   // what was typed (single-valued fields)
	Values       []string // chosen values (multichoice)
	Error        string   // message ID or rendered text
	Type         string   // input type
	Inputmode    string
	Autocomplete string
	Dir          string // "ltr" for codes and numbers in right-to-left pages
}

// fieldViews prepares a step's visible fields with what was typed and their errors.
func fieldViews(d *forms.Definition, st *forms.Step, a forms.Answers, errs map[string]string) []fieldView {
	var out []fieldView
	for _, f := range st.Fields {
		if f.ShowIf != nil && !forms.Holds(d, a, *f.ShowIf) {
			continue
		}
		v := fieldView{Field: f, Values: a.Raw[f.ID], Error: errs[f.ID], Type: "text"}
		if raw := a.Raw[f.ID]; len(raw) > 0 {
			v.Value = raw[0]
		}
		switch f.Kind {
		case forms.KindEmail:
			v.Type, v.Autocomplete, v.Dir = "email", "email", "ltr"
		case forms.KindPhone:
			v.Type, v.Autocomplete, v.Dir = "tel", "tel", "ltr"
		case forms.KindIBAN, forms.KindCodiceFiscale:
			v.Dir, v.Autocomplete = "ltr", "off"
		case forms.KindCAP:
			v.Inputmode, v.Autocomplete, v.Dir = "numeric", "postal-code", "ltr"
		case forms.KindAmount:
			v.Inputmode, v.Dir = "decimal", "ltr"
		case forms.KindNumber:
			v.Inputmode, v.Dir = "numeric", "ltr"
		case forms.KindDate:
			v.Inputmode, v.Dir = "numeric", "ltr"
			if v.Hint == "" {
				v.Hint = "page.measure_check.hint.date"
			}
		}
		out = append(out, v)
	}
	return out
}
