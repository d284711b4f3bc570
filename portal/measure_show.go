package portal

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// callView is a call with its state at render time, for the call-status partial.
type callView struct {
	storage.Call
	State string
}

func (s *Server) showMeasuresPage(c *fiber.Ctx) error {
	return s.renderPublic(c, "/misure", func() (*pageSpec, error) {
		calls, err := s.DB.CurrentCalls(c.UserContext(), s.now())
		if err != nil {
			return nil, err
		}
		list := make([]map[string]any, 0, len(forms.Measures))
		for _, m := range forms.Measures {
			list = append(list, map[string]any{"Measure": m, "Call": s.callView(calls, m.Code)})
		}
		return &pageSpec{Name: "measures", Title: s.localizer(c).T("page.measures.title"), Crumbs: []views.Crumb{s.home(c)},
			Data: map[string]any{"Measures": list}}, nil
	})
}

func (s *Server) showMeasurePage(c *fiber.Ctx) error {
	m, ok := forms.MeasureBySlug(c.Params("slug"))
	if !ok {
		return errNotFound(nil)
	}
	return s.renderPublic(c, "/misure/"+m.Slug, func() (*pageSpec, error) {
		calls, err := s.DB.CurrentCalls(c.UserContext(), s.now())
		if err != nil {
			return nil, err
		}
		var rankings []publishedRanking
		if call, ok := calls[m.Code]; ok {
			if rankings, err = s.publishedRankings(c, call); err != nil {
				return nil, err
			}
		}
		z := s.localizer(c)
		_, err = forms.Latest(m.Code)
		return &pageSpec{Name: "measure", Title: z.T("measure." + m.Msg + ".title"),
			Crumbs: []views.Crumb{s.home(c), {Title: z.T("page.measures.title"), URL: "/misure"}},
			Data: map[string]any{"Measure": m, "Call": s.callView(calls, m.Code), "HasCheck": err == nil,
				"Rankings": rankings}}, nil
	})
}

// publishedRanking is an approved graduatoria as the measure's page links it.
type publishedRanking struct {
	Path       string
	Label      string // message ID of the category
	ApprovedAt time.Time
}

// publishedRankings lists the approved graduatorie of the call a measure's page shows, in the order of the call's
// categories. The page is cached like the others, so a graduatoria approved a moment ago appears within the
// cache's few seconds.
func (s *Server) publishedRankings(c *fiber.Ctx, call storage.Call) ([]publishedRanking, error) {
	approved, err := s.DB.ApprovedRankings(c.UserContext(), call.ID)
	if err != nil || len(approved) == 0 {
		return nil, err
	}
	var out []publishedRanking
	_, budgets := callCategories(call.FormVersion)
	for _, b := range budgets {
		_, category, _ := rankingCategory(call, b.Key)
		at, ok := approved[category]
		if !ok {
			continue
		}
		label := b.Label
		if b.Key == forms.KeyAll {
			label = "page.ranking.category_all"
		}
		out = append(out, publishedRanking{Path: publicRankingPath(call.ID, b.Key), Label: label, ApprovedAt: at})
	}
	return out, nil
}

// callView returns nil when the measure has no call, so templates can say so.
func (s *Server) callView(calls map[string]storage.Call, code string) *callView {
	call, ok := calls[code]
	if !ok {
		return nil
	}
	return &callView{Call: call, State: call.State(s.now())}
}
