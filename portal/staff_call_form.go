package portal

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// The years a call's dates may fall in, as the calls table checks for its year: a date outside is a typo.
const (
	callFirstYear = 2020
	callLastYear  = 2100
)

// callAmount is one amount of the call form (an ISEE threshold or a budget) for one category, as typed.
type callAmount struct {
	Name  string // field name and id: threshold-<key>, budget-<key>
	Key   string // category, the key stored in the call
	Label string // message ID
	Value string
}

// callForm is what the new-call and edit-call forms show and post. Dates and times are Europe/Rome.
type callForm struct {
	Measure                                      forms.Measure
	Year                                         string
	OpensDate, OpensTime, ClosesDate, ClosesTime string
	FormVersion                                  string
	Versions                                     []string // the measure's form versions (none: no online form yet)
	VersionFixed                                 bool     // the call has opened: its form version stays
	Thresholds, Budgets                          []callAmount
	DeadlineDays                                 string            // days from taking in charge to deciding
	Grants                                       []callGrant       // what a decision grants, per budget category
	Errors                                       map[string]string // field name → message ID
}

// callGrant is the amount a decision grants in one category, as typed: euro per period, for months.
type callGrant struct {
	Key, Label             string // the budget category and its message ID
	Amount, Period, Months string
}

// Name is the grant's field name prefix and id: grant-<key> (its period and months add -period, -months).
func (g callGrant) Name() string { return "grant-" + g.Key }

// newCallForm is an empty form for a call of m, with the measure's newest form version.
func newCallForm(m forms.Measure) *callForm {
	f := &callForm{Measure: m, Versions: forms.Versions(m.Code), Errors: map[string]string{}}
	if n := len(f.Versions); n > 0 {
		f.FormVersion = f.Versions[n-1]
	}
	return f
}

// callCategories returns the categories of a form version for ISEE thresholds and for budgets. Thresholds follow
// the eligibility rules: the options of the field each lte_threshold rule picks its threshold by (forms.KeyAll for a
// rule without one), none when no rule compares the ISEE with the call. Budgets follow the graduatoria: the options
// of the ranking's group_by field, or forms.KeyAll. Without an online form there is one of each, under KeyAll.
func callCategories(version string) (thresholds, budgets []callAmount) {
	d, err := forms.Load(version)
	if version == "" || err != nil {
		return categoryAmounts("threshold", nil, nil), categoryAmounts("budget", nil, nil)
	}
	var byFields []string
	var walk func(c forms.Cond)
	walk = func(c forms.Cond) {
		if c.Op == forms.OpLteThreshold && !slices.Contains(byFields, c.By) {
			byFields = append(byFields, c.By)
		}
		for _, sub := range append(slices.Clone(c.All), c.Any...) {
			walk(sub)
		}
	}
	for _, r := range d.Eligibility {
		walk(r.Require)
		if r.If != nil {
			walk(*r.If)
		}
	}
	for _, by := range byFields {
		thresholds = append(thresholds, categoryAmounts("threshold", d, &by)...)
	}
	return uniqueAmounts(thresholds), categoryAmounts("budget", d, &d.Ranking.GroupBy)
}

// categoryAmounts returns one amount per option of the choice field named by field, or the one under forms.KeyAll.
func categoryAmounts(kind string, d *forms.Definition, field *string) []callAmount {
	if d != nil && field != nil && *field != "" {
		if f, ok := d.Field(*field); ok && len(f.Options) > 0 {
			out := make([]callAmount, 0, len(f.Options))
			for _, o := range f.Options {
				out = append(out, callAmount{Name: kind + "-" + o.Value, Key: o.Value, Label: o.Label})
			}
			return out
		}
	}
	return []callAmount{{Name: kind + "-" + forms.KeyAll, Key: forms.KeyAll, Label: "staff.call.category_all"}}
}

func uniqueAmounts(as []callAmount) []callAmount {
	var out []callAmount
	for _, a := range as {
		if !slices.ContainsFunc(out, func(b callAmount) bool { return b.Key == a.Key }) {
			out = append(out, a)
		}
	}
	return out
}

// setCategories gives the form the categories of its form version, filled from stored amounts (cents) where there
// are some.
func (f *callForm) setCategories(thresholds, budgets map[string]int64) {
	f.Thresholds, f.Budgets = callCategories(f.FormVersion)
	fill := func(as []callAmount, stored map[string]int64) {
		for i := range as {
			if v, ok := stored[as[i].Key]; ok {
				as[i].Value = forms.AmountInput(v)
			}
		}
	}
	fill(f.Thresholds, thresholds)
	fill(f.Budgets, budgets)
}

// setGrants gives the form its deadline and one amount per budget category, filled from a stored call's.
func (f *callForm) setGrants(days int, stored storage.Amounts) {
	f.DeadlineDays = strconv.Itoa(max(days, 0))
	if days <= 0 {
		f.DeadlineDays = "30" // the general term of L. 241/1990 when nothing else is set
	}
	f.Grants = make([]callGrant, len(f.Budgets))
	for i, b := range f.Budgets {
		g := callGrant{Key: b.Key, Label: b.Label, Period: "once", Months: "1"}
		if a, ok := stored.For(b.Key); ok {
			g.Amount, g.Period, g.Months = forms.AmountInput(a.Cents), a.Period, strconv.Itoa(max(a.Months, 1))
		}
		f.Grants[i] = g
	}
}

// callFormFrom fills the form from a stored call.
func callFormFrom(m forms.Measure, call storage.Call, now time.Time) *callForm {
	f := newCallForm(m)
	f.Year, f.FormVersion, f.VersionFixed = strconv.Itoa(call.Year), call.FormVersion, !now.Before(call.OpensAt)
	f.OpensDate, f.OpensTime = dateTimeInputs(call.OpensAt)
	f.ClosesDate, f.ClosesTime = dateTimeInputs(call.ClosesAt)
	f.setCategories(call.Thresholds, call.Budgets)
	f.setGrants(call.DeadlineDays, call.Amounts)
	return f
}

// dateTimeInputs writes an instant as the values of a date and a time input, in Europe/Rome.
func dateTimeInputs(t time.Time) (string, string) {
	t = t.In(i18n.Rome)
	return t.Format("2006-01-02"), t.Format("15:04")
}

// parseCallForm reads the posted window, form version and amounts into f and checks them, leaving a message per
// wrong field in f.Errors; it returns the call to store (ID, measure and year are the caller's). The form version
// is one of f.Versions, or stays as it is when f.VersionFixed.
func parseCallForm(c *fiber.Ctx, f *callForm, lang string) storage.Call {
	var call storage.Call
	f.OpensDate, f.OpensTime = strings.TrimSpace(c.FormValue("opens_date")), strings.TrimSpace(c.FormValue("opens_time"))
	f.ClosesDate, f.ClosesTime = strings.TrimSpace(c.FormValue("closes_date")), strings.TrimSpace(c.FormValue("closes_time"))
	opens, okOpens := callMoment(f, "opens", f.OpensDate, f.OpensTime, lang)
	closes, okCloses := callMoment(f, "closes", f.ClosesDate, f.ClosesTime, lang)
	if okOpens && okCloses && !closes.After(opens) {
		f.Errors["closes_date"] = "staff.error.call_order"
	}
	call.OpensAt, call.ClosesAt = opens, closes

	if v := strings.TrimSpace(c.FormValue("form_version")); f.VersionFixed {
		if v != "" && v != f.FormVersion {
			f.Errors["form_version"] = "staff.error.call_form_locked"
		}
	} else if (v == "" && len(f.Versions) == 0) || slices.Contains(f.Versions, v) {
		f.FormVersion = v
	} else {
		f.Errors["form_version"] = "staff.error.call_form_version" // the amounts stay those of the version shown
	}
	call.FormVersion = f.FormVersion

	// The categories are those of the version just chosen: amounts typed for other categories are dropped, and a
	// category the page did not show before comes back empty, with its message.
	f.Thresholds, f.Budgets = callCategories(f.FormVersion)
	call.Thresholds = readAmounts(c, f, f.Thresholds, "staff.error.threshold_missing")
	call.Budgets = readAmounts(c, f, f.Budgets, "staff.error.budget_missing")
	call.DeadlineDays, call.Amounts = readGrants(c, f)
	return call
}

// readAmounts reads one amount in euro per category and returns them in cents; every category needs one.
func readAmounts(c *fiber.Ctx, f *callForm, as []callAmount, missing string) map[string]int64 {
	out := make(map[string]int64, len(as))
	for i := range as {
		a := &as[i]
		a.Value = strings.TrimSpace(c.FormValue(a.Name))
		cents, msg := forms.ParseAmountEUR(a.Value)
		switch msg {
		case "":
			out[a.Key] = cents
		case forms.ErrRequired:
			f.Errors[a.Name] = missing
		default:
			f.Errors[a.Name] = msg // forms.ErrAmountFormat, …: the same words residents read
		}
	}
	return out
}

// readGrants reads the legal deadline (days) and, per budget category, the amount a decision grants: euro, once
// or per month for a number of months. Every category needs one: admitting an application grants its amount.
func readGrants(c *fiber.Ctx, f *callForm) (int, storage.Amounts) {
	f.DeadlineDays = strings.TrimSpace(c.FormValue("deadline_days"))
	days, err := strconv.Atoi(f.DeadlineDays)
	if err != nil || days < 1 || days > 365 {
		f.Errors["deadline_days"] = "staff.error.deadline_days"
	}
	out := storage.Amounts{}
	f.Grants = make([]callGrant, len(f.Budgets))
	for i, b := range f.Budgets {
		g := callGrant{Key: b.Key, Label: b.Label}
		g.Amount = strings.TrimSpace(c.FormValue(g.Name()))
		g.Period = c.FormValue(g.Name() + "-period")
		g.Months = strings.TrimSpace(c.FormValue(g.Name() + "-months"))
		cents, msg := forms.ParseAmountEUR(g.Amount)
		switch msg {
		case "":
		case forms.ErrRequired:
			f.Errors[g.Name()] = "staff.error.grant_missing"
		default:
			f.Errors[g.Name()] = msg
		}
		a := storage.Amount{Cents: cents, Period: g.Period, Months: 1}
		switch g.Period {
		case "once":
			g.Months = "1"
		case "month":
			m, err := strconv.Atoi(g.Months)
			if err != nil || m < 1 || m > 36 {
				f.Errors[g.Name()+"-months"] = "staff.case.error.months"
			}
			a.Months = m
		default:
			f.Errors[g.Name()+"-period"] = forms.ErrRequired
		}
		out[b.Key] = a
		f.Grants[i] = g
	}
	return days, out
}

// callMoment reads a date and a time of day in Europe/Rome. A wrong part gets its message under <name>_date or
// <name>_time.
func callMoment(f *callForm, name, date, clock, lang string) (time.Time, bool) {
	day, msg := forms.ParseDate(date, lang)
	switch {
	case msg == forms.ErrRequired:
		f.Errors[name+"_date"] = "staff.error.date_required"
	case msg != "":
		f.Errors[name+"_date"] = msg // forms.ErrDateFormat, forms.ErrDateInvalid
	case day.Year() < callFirstYear || day.Year() > callLastYear:
		f.Errors[name+"_date"] = "staff.error.date_range"
	}
	hm, ok := clockTime(clock)
	switch {
	case clock == "":
		f.Errors[name+"_time"] = "staff.error.time_required"
	case !ok:
		f.Errors[name+"_time"] = "staff.error.time_format"
	}
	if f.Errors[name+"_date"] != "" || f.Errors[name+"_time"] != "" {
		return time.Time{}, false
	}
	h, _ := strconv.Atoi(hm[:2])
	m, _ := strconv.Atoi(hm[3:])
	return time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, i18n.Rome), true
}

// parseCallYear reads the year of a new call.
func parseCallYear(f *callForm, s string) int {
	f.Year = strings.TrimSpace(s)
	y, err := strconv.Atoi(f.Year)
	if err != nil || len(f.Year) != 4 || y < callFirstYear || y > callLastYear {
		f.Errors["year"] = "staff.error.call_year"
		return 0
	}
	return y
}
