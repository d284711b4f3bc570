package portal

import (
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
		z := s.localizer(c)
		_, err = forms.Latest(m.Code)
		return &pageSpec{Name: "measure", Title: z.T("measure." + m.Msg + ".title"),
			Crumbs: []views.Crumb{s.home(c), {Title: z.T("page.measures.title"), URL: "/misure"}},
			Data:   map[string]any{"Measure": m, "Call": s.callView(calls, m.Code), "HasCheck": err == nil}}, nil
	})
}

// callView returns nil when the measure has no call, so templates can say so.
func (s *Server) callView(calls map[string]storage.Call, code string) *callView {
	call, ok := calls[code]
	if !ok {
		return nil
	}
	return &callView{Call: call, State: call.State(s.now())}
}
