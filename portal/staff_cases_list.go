package portal

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// queueForm is the queue's filter as typed in the address (a GET form, so a filtered queue can be bookmarked).
type queueForm struct {
	Call, Measure, Category, Status, Comune, SubAmbito, Assignee, From, To, Sort string
	Overdue, Replied                                                             bool
}

// category is one value of a form's grouping question (the graduatoria's category), with its label's message ID.
type category struct{ Value, Label string }

// categories lists the categories of every form definition, once each.
func categories() []category {
	var out []category
	for _, m := range forms.Measures {
		for _, v := range forms.Versions(m.Code) {
			d, err := forms.Load(v)
			if err != nil || d.Ranking.GroupBy == "" {
				continue
			}
			if f, ok := d.Field(d.Ranking.GroupBy); ok {
				for _, o := range f.Options {
					if !slices.ContainsFunc(out, func(c category) bool { return c.Value == o.Value }) {
						out = append(out, category{o.Value, o.Label})
					}
				}
			}
		}
	}
	return out
}

// showStaffCasesPage is the queue: submitted applications in the account's scope, filtered, sorted, a page at a
// time (keyset), with the count per status and "take next".
func (s *Server) showStaffCasesPage(c *fiber.Ctx) error {
	u := currentStaff(c)
	q := queueForm{Call: c.Query("avviso"), Measure: c.Query("misura"), Category: c.Query("categoria"),
		Status: c.Query("stato"), Comune: c.Query("comune"), SubAmbito: c.Query("sub_ambito"),
		Assignee: c.Query("assegnata"), From: c.Query("dal"), To: c.Query("al"), Sort: c.Query("ordine"),
		Overdue: c.Query("scadute") == "1", Replied: c.Query("risposte") == "1"}
	f, errs := q.filter(u, s.localizer(c).Lang.Code)
	f.After = c.Query("dopo")
	f.Limit = 25
	page := storage.QueuePage{Counts: map[string]int{}}
	if len(errs) == 0 {
		var err error
		page, err = s.DB.Queue(c.UserContext(), staffScope(c), f, s.now())
		if errors.Is(err, storage.ErrBadCursor) {
			return errBadRequest(err)
		}
		if err != nil {
			return err
		}
	}
	status := fiber.StatusOK
	if len(errs) > 0 {
		status = fiber.StatusUnprocessableEntity
	}
	ctx := c.UserContext()
	calls, err := s.DB.Calls(ctx)
	if err != nil {
		return err
	}
	subs, err := s.DB.SubAmbiti(ctx)
	if err != nil {
		return err
	}
	var staff []storage.StaffUser
	if u.Role != storage.RoleOperatore {
		if staff, err = s.DB.StaffUsers(ctx); err != nil {
			return err
		}
	}
	replies, err := s.DB.RepliesWaiting(ctx, u.ID)
	if err != nil {
		return err
	}
	// the pages keep the filter: the same query with another cursor
	args := url.Values{}
	c.Request().URI().QueryArgs().VisitAll(func(k, val []byte) { args.Add(string(k), string(val)) })
	args.Del("dopo")
	first := casesPath + "?" + args.Encode()
	next := ""
	if page.Next != "" {
		args.Set("dopo", page.Next)
		next = casesPath + "?" + args.Encode()
	}
	type comune struct{ Code, Name string }
	type group struct {
		Name   string
		Comuni []comune
	}
	var district []group
	for _, sa := range forms.District {
		g := group{Name: sa.Name}
		for _, name := range sa.Comuni {
			g.Comuni = append(g.Comuni, comune{storage.Slug(name), name})
		}
		district = append(district, g)
	}
	return s.renderStaff(c, status, "staff_cases", s.localizer(c).T("staff.cases.title"), []views.Crumb{s.staffCrumb(c)},
		map[string]any{"Form": q, "Errors": errs, "Page": page, "Next": next, "First": first, "Later": c.Query("dopo") != "",
			"Calls": calls, "Measures": forms.Measures, "Categories": categories(), "Statuses": storage.Statuses,
			"SubAmbiti": subs, "District": district, "StaffList": staff, "Replies": replies,
			"Today": s.now().In(i18n.Rome)})
}

// filter turns the typed filter into the queue's; errs maps a field to the message of what is wrong with it.
func (q queueForm) filter(u *storage.StaffUser, lang string) (storage.QueueFilter, map[string]string) {
	errs := map[string]string{}
	f := storage.QueueFilter{Measure: q.Measure, Category: q.Category, Comune: q.Comune, SubAmbito: q.SubAmbito,
		Overdue: q.Overdue, Replied: q.Replied, Sort: q.Sort}
	if q.Call != "" {
		id, err := strconv.ParseInt(q.Call, 10, 64)
		if err != nil || id <= 0 {
			errs["avviso"] = "staff.cases.error.call"
		}
		f.CallID = id
	}
	if q.Status != "" && !slices.Contains(storage.Statuses, q.Status) {
		errs["stato"] = "staff.cases.error.status"
	}
	f.Status = q.Status
	switch q.Assignee {
	case "":
	case "me":
		f.Assignee = u.ID
	case "none":
		f.Unassigned = true
	default:
		id, err := strconv.ParseInt(q.Assignee, 10, 64)
		if err != nil || id <= 0 {
			errs["assegnata"] = "staff.cases.error.assignee"
		}
		f.Assignee = id
	}
	for _, d := range []struct {
		name, value string
		into        *time.Time
		add         int
	}{{"dal", q.From, &f.From, 0}, {"al", q.To, &f.To, 1}} {
		if d.value == "" {
			continue
		}
		t, msg := forms.ParseDate(d.value, lang)
		if msg != "" {
			errs[d.name] = msg
			continue
		}
		*d.into = time.Date(t.Year(), t.Month(), t.Day()+d.add, 0, 0, 0, 0, i18n.Rome)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		errs["al"] = "staff.cases.error.range"
	}
	switch q.Sort {
	case "", "oldest", "newest", "due":
	default:
		errs["ordine"] = "staff.cases.error.sort"
	}
	return f, errs
}

// submitStaffTakeNext claims the oldest unassigned application in scope and opens it. When nothing is waiting
// the queue says so.
func (s *Server) submitStaffTakeNext(c *fiber.Ctx) error {
	u := currentStaff(c)
	now := s.now()
	a, err := s.DB.TakeNext(c.UserContext(), staffScope(c), s.takeStep(c, u, 0, now))
	if errors.Is(err, storage.ErrNotFound) {
		return s.redirectWithNotice(c, casesPath, "staff.cases.none_waiting")
	}
	if err != nil {
		return err
	}
	return s.redirectWithNotice(c, casePath(a.ID), "staff.case.taken")
}
