package portal

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// publicRankingRow is all a published graduatoria shows of an application: its place, its protocol number (which
// only the applicant knows is theirs), whether it is funded and how much. No name, no fiscal code, no comune.
type publicRankingRow struct {
	Position string
	Protocol string
	Funded   bool
	Amount   string
}

// showPublicRankingPage publishes a graduatoria once the commission has approved it; before, it does not exist
// (404). Being frozen, it is the same for every visitor and served from the page cache.
func (s *Server) showPublicRankingPage(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("call"), 10, 64)
	if err != nil {
		return errNotFound(err)
	}
	key := c.Params("category")
	return s.renderPublic(c, publicRankingPath(id, key), func() (*pageSpec, error) {
		ctx := c.UserContext()
		call, err := s.DB.CallByID(ctx, id)
		if err != nil {
			return nil, err
		}
		cat, category, ok := rankingCategory(call, key)
		m, known := forms.MeasureByCode(call.Measure)
		if !ok || !known {
			return nil, errNotFound(errors.New("graduatoria: unknown category " + key))
		}
		r, err := s.DB.Ranking(ctx, id, category)
		if err != nil {
			return nil, err
		}
		if !r.Approved() {
			return nil, errNotFound(errors.New("graduatoria: not approved"))
		}
		z := s.localizer(c)
		rows := make([]publicRankingRow, 0, len(r.Entries))
		for _, e := range r.Entries {
			row := publicRankingRow{Protocol: e.Protocol, Funded: e.Funded}
			if e.Position != nil {
				row.Position = strconv.Itoa(*e.Position)
			}
			if e.Funded && e.HasAmt {
				row.Amount = z.Money(float64(e.Amount.Total()) / 100)
			}
			rows = append(rows, row)
		}
		label := cat.Label
		if key == forms.KeyAll {
			label = "page.ranking.category_all"
		}
		title := z.T("page.ranking.title", map[string]any{"Measure": z.T("measure." + m.Msg + ".title"), "Year": call.Year,
			"Category": z.T(label)})
		return &pageSpec{Name: "ranking", Title: title,
			Crumbs: []views.Crumb{s.home(c), {Title: z.T("page.measures.title"), URL: "/misure"},
				{Title: z.T("measure." + m.Msg + ".title"), URL: "/misure/" + m.Slug}},
			Data: map[string]any{"Rows": rows, "ApprovedAt": r.ApprovedAt, "Funded": countFunded(rows)}}, nil
	})
}

func countFunded(rows []publicRankingRow) int {
	n := 0
	for _, r := range rows {
		if r.Funded {
			n++
		}
	}
	return n
}
