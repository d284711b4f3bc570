package portal

import (
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// Graduatorie (coordinatori and admins): one per call and budget category. In addresses a category is its budget
// key — the option of the form's group_by field, or forms.KeyAll for a measure without categories, whose
// applications carry the category "" (storage.BudgetKey goes the other way).

const rankingsPath = "/backoffice/graduatorie"

func rankingPath(callID int64, key string) string {
	return rankingsPath + "/" + strconv.FormatInt(callID, 10) + "/" + key
}

// publicRankingPath is the published graduatoria, for residents.
func publicRankingPath(callID int64, key string) string {
	return "/graduatorie/" + strconv.FormatInt(callID, 10) + "/" + key
}

// rankingCategory finds a budget key among the call's categories; ok is false for a key the call does not have.
func rankingCategory(call storage.Call, key string) (cat callAmount, category string, ok bool) {
	_, budgets := callCategories(call.FormVersion)
	i := slices.IndexFunc(budgets, func(a callAmount) bool { return a.Key == key })
	if i < 0 {
		return callAmount{}, "", false
	}
	if key == forms.KeyAll {
		return budgets[i], "", true
	}
	return budgets[i], key, true
}

// staffRankingItem is one graduatoria in the list.
type staffRankingItem struct {
	Path      string
	Label     string // message ID of the category
	Budget    string // formatted, "" without a budget
	Summary   storage.RankingSummary
	HasBudget bool
}

// staffRankingCall is a call with its graduatorie.
type staffRankingCall struct {
	storage.Call
	Measure forms.Measure
	Items   []staffRankingItem
}

// showStaffRankingsPage lists every call with its categories: budget, applications in the graduatoria, and its
// state (never run, run at, approved at).
func (s *Server) showStaffRankingsPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	calls, err := s.DB.Calls(ctx)
	if err != nil {
		return err
	}
	summaries, err := s.DB.RankingSummaries(ctx)
	if err != nil {
		return err
	}
	z := s.localizer(c)
	sortCalls(calls)
	list := make([]staffRankingCall, 0, len(calls))
	for _, call := range calls {
		m, ok := forms.MeasureByCode(call.Measure)
		if !ok {
			continue
		}
		rc := staffRankingCall{Call: call, Measure: m}
		_, budgets := callCategories(call.FormVersion)
		for _, b := range budgets {
			_, category, _ := rankingCategory(call, b.Key)
			item := staffRankingItem{Path: rankingPath(call.ID, b.Key), Label: b.Label, Summary: summaries[call.ID][category]}
			if v, ok := call.Budgets[b.Key]; ok {
				item.Budget, item.HasBudget = z.Money(float64(v)/100), true
			}
			rc.Items = append(rc.Items, item)
		}
		list = append(list, rc)
	}
	return s.renderStaff(c, fiber.StatusOK, "staff_rankings", z.T("staff.rankings.title"),
		[]views.Crumb{s.staffCrumb(c)}, map[string]any{"Calls": list})
}
