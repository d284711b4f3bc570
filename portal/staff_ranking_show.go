package portal

import (
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// rankingView is a graduatoria with what its pages need around it.
type rankingView struct {
	storage.Ranking
	Measure forms.Measure
	Key     string // the category's budget key, as in the address
	Label   string // message ID of the category
	Path    string // the back-office page
	Rows    []rankingRow
}

// rankingRow is one application of a graduatoria, formatted for the reader's language.
type rankingRow struct {
	ID          int64
	Position    string // "" before a run placed it
	Protocol    string
	Name        string
	CF          string
	Comune      string
	ISEE        string // "" when the form has none
	ReceivedAt  time.Time
	Amount      string
	Monthly     string // per month, for monthly amounts: "" for a one-off amount
	Months      int
	Funded      bool
	Paid        bool
	Running     string
	HasAmount   bool
	StatusLabel string // message ID of the outcome
}

// loadRanking reads the graduatoria named by the address (:call, :category), or a 404 for a call or category that
// does not exist.
func (s *Server) loadRanking(c *fiber.Ctx) (*rankingView, error) {
	id, err := strconv.ParseInt(c.Params("call"), 10, 64)
	if err != nil {
		return nil, errNotFound(err)
	}
	key := c.Params("category")
	call, err := s.DB.CallByID(c.UserContext(), id)
	if err != nil {
		return nil, err
	}
	cat, category, ok := rankingCategory(call, key)
	m, known := forms.MeasureByCode(call.Measure)
	if !ok || !known {
		return nil, errNotFound(errors.New("graduatoria: unknown category " + key))
	}
	r, err := s.DB.Ranking(c.UserContext(), id, category)
	if err != nil {
		return nil, err
	}
	v := &rankingView{Ranking: r, Measure: m, Key: key, Label: cat.Label, Path: rankingPath(id, key)}
	z := s.localizer(c)
	money := func(cents int64) string { return z.Money(float64(cents) / 100) }
	for _, e := range r.Entries {
		row := rankingRow{ID: e.ID, Protocol: e.Protocol, Name: e.BeneficiaryName(), CF: e.BeneficiaryCF, Comune: e.ComuneName,
			ReceivedAt: e.SubmittedAt, Funded: e.Funded, Paid: e.Status == storage.StatusPaid, Running: money(e.Running),
			HasAmount: e.HasAmt, StatusLabel: "staff.ranking.outcome." + e.Status}
		if e.Position != nil {
			row.Position = strconv.Itoa(*e.Position)
		}
		if isee, ok := e.ISEE(); ok {
			row.ISEE = money(isee)
		}
		if e.HasAmt {
			row.Amount = money(e.Amount.Total())
			if e.Amount.Period == "month" && e.Amount.Months > 1 {
				row.Monthly, row.Months = money(e.Amount.Cents), e.Amount.Months
			}
		}
		v.Rows = append(v.Rows, row)
	}
	return v, nil
}

// callTitle is a call's name: its measure and year.
func callTitle(z *i18n.Localizer, m forms.Measure, year int) string {
	return z.T("staff.calls.item", map[string]any{"Measure": z.T("measure." + m.Msg + ".title"), "Year": year})
}

// showStaffRankingPage shows a graduatoria with its beneficiaries' names, comuni and ISEE: a read of personal data,
// so it is written to the audit log like the read of an application.
func (s *Server) showStaffRankingPage(c *fiber.Ctx) error {
	v, err := s.loadRanking(c)
	if err != nil {
		return err
	}
	if err := s.DB.Audit(c.UserContext(), staffActor(c), storage.AuditEntry{Action: "ranking.read",
		Detail: map[string]string{"call": strconv.FormatInt(v.Call.ID, 10), "category": v.Key}}); err != nil {
		return err
	}
	return s.renderStaffRanking(c, fiber.StatusOK, v, "", nil)
}

// renderStaffRanking renders a graduatoria's page, with an alert (already in the reader's language) or field
// errors (message IDs) after a refused action.
func (s *Server) renderStaffRanking(c *fiber.Ctx, status int, v *rankingView, alert string, errs map[string]string) error {
	z := s.localizer(c)
	title := z.T("staff.ranking.title", map[string]any{"Call": callTitle(z, v.Measure, v.Call.Year), "Category": z.T(v.Label)})
	data := map[string]any{"Ranking": v, "Alert": alert, "Errors": errs,
		"Budget": z.Money(float64(v.Budget) / 100), "FundedTotal": z.Money(float64(v.FundedTotal()) / 100),
		"Remaining":  z.Money(float64(max(v.Budget-v.FundedTotal(), 0)) / 100),
		"PublicPath": publicRankingPath(v.Call.ID, v.Key)}
	return s.renderStaff(c, status, "staff_ranking", title,
		[]views.Crumb{s.staffCrumb(c), {Title: z.T("staff.rankings.title"), URL: rankingsPath}}, data)
}
