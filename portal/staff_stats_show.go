package portal

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// Statistics for planning: one year's applications (those of the year's calls) per measure and category, Misura
// Unica by reason, per sub-ambito and comune, and the days to take them in charge and to decide them, within the
// signed-in account's scope (storage.Stats applies it in SQL). Each table is drawn as an SVG bar chart, shown as a
// table, and downloadable as CSV (staff_stats_csv.go): the page and the files are built from the same tables.

const statsPath = "/backoffice/statistiche"

// statsTable is one table of figures: the first column heads its row, the following ones are numbers. The page
// shows it and the CSV download sends it as it is, in the staff member's language.
type statsTable struct {
	Name    string // the CSV's tabella= value
	ID      string // of the HTML table, its caption and its chart
	Caption string
	Columns []string
	Rows    [][]string
	CSV     string // the download's address
}

// statsSection is one table with the chart drawn from it (none when the table is empty).
type statsSection struct {
	Table statsTable
	Chart *chart
}

// statsPage is what the statistics template shows.
type statsPage struct {
	Year      int
	Years     []int
	Measures  statsSection
	Reasons   statsSection
	HasReason bool // the year has a Misura Unica call
	SubAmbiti statsSection
	Comuni    statsSection
	Times     statsSection
}

// statsYear is the year asked for with ?anno=, and the years to choose from (those with calls, and the one
// shown). Without anno it is the current year in Rome when it has calls, else the newest year with calls up to
// the current one. A year that is not a number between 2020 and 2100 (the years a call can have) is not ok: the
// default year comes back instead, with ok false.
func (s *Server) statsYear(c *fiber.Ctx) (year int, years []int, ok bool, err error) {
	years, err = s.DB.CallYears(c.UserContext())
	if err != nil {
		return 0, nil, false, err
	}
	now := s.now().In(i18n.Rome).Year()
	year = now
	if !slices.Contains(years, now) {
		for _, y := range years { // newest first
			if y <= now {
				year = y
				break
			}
		}
	}
	ok = true
	if raw := c.Query("anno"); raw != "" {
		y, perr := strconv.Atoi(raw)
		if perr != nil || y < 2020 || y > 2100 {
			ok = false
		} else {
			year = y
		}
	}
	if !slices.Contains(years, year) {
		years = append(years, year)
		slices.SortFunc(years, func(a, b int) int { return b - a })
	}
	return year, years, ok, nil
}

// showStaffStatsPage shows the statistics of a year. A year that is not one (?anno=abc) shows the default year
// with a message, as 422: the page never fails on what was typed in the address.
func (s *Server) showStaffStatsPage(c *fiber.Ctx) error {
	z := s.localizer(c)
	year, years, ok, err := s.statsYear(c)
	if err != nil {
		return err
	}
	st, err := s.DB.Stats(c.UserContext(), year, staffScope(c))
	if err != nil {
		return err
	}
	tables := buildStatsTables(z, year, st)
	rtl := z.Lang.RTL
	p := statsPage{Year: year, Years: years, HasReason: hasMeasure(st, "misura-unica")}
	p.Measures = statsSection{Table: tables["measures"]}
	p.Measures.Chart = countsChart(z, p.Measures.Table, "staff.stats.measures.desc", measureGroups(z, st), rtl)
	p.Reasons = statsSection{Table: tables["reasons"]}
	p.Reasons.Chart = countsChart(z, p.Reasons.Table, "staff.stats.reasons.desc", reasonGroups(z, st), rtl)
	p.SubAmbiti = statsSection{Table: tables["subambiti"]}
	p.SubAmbiti.Chart = countsChart(z, p.SubAmbiti.Table, "staff.stats.sub_ambiti.desc", placeGroups(z, st.SubAmbiti), rtl)
	p.Comuni = statsSection{Table: tables["territory"]}
	p.Comuni.Chart = countsChart(z, p.Comuni.Table, "staff.stats.comuni.desc", placeGroups(z, st.Comuni), rtl)
	p.Times = statsSection{Table: tables["times"]}
	if len(st.Times) > 0 {
		ch := drawChart(p.Times.Table.ID+"-chart", z.T("staff.stats.times.chart", map[string]any{"Year": year}),
			z.T("staff.stats.times.desc"), timeGroups(z, st), rtl)
		p.Times.Chart = &ch
	}
	status := fiber.StatusOK
	data := map[string]any{"Stats": p}
	if !ok {
		status = fiber.StatusUnprocessableEntity
		data["Alert"] = z.T("staff.stats.bad_year", map[string]any{"Year": year})
	}
	return s.renderStaff(c, status, "staff_stats", z.T("staff.stats.title"), []views.Crumb{s.staffCrumb(c)}, data)
}

// countsChart draws a table's chart, or none when the table has no rows.
func countsChart(z *i18n.Localizer, t statsTable, descID string, groups []chartGroup, rtl bool) *chart {
	if len(t.Rows) == 0 {
		return nil
	}
	ch := drawChart(t.ID+"-chart", t.Caption, z.T(descID), groups, rtl)
	return &ch
}

func hasMeasure(st storage.Stats, measure string) bool {
	return slices.ContainsFunc(st.Measures, func(m storage.MeasureCounts) bool { return m.Measure == measure })
}

// buildStatsTables makes every table of a year's statistics, by tabella= name.
func buildStatsTables(z *i18n.Localizer, year int, st storage.Stats) map[string]statsTable {
	yr := map[string]any{"Year": year}
	counts := func(c storage.Counts) []string {
		return []string{z.Number(c.Submitted), z.Number(c.Admitted), z.Number(c.Funded), z.Number(c.NotAdmitted),
			z.Number(c.Withdrawn)}
	}
	countCols := []string{z.T("staff.stats.col.submitted"), z.T("staff.stats.col.admitted"), z.T("staff.stats.col.funded"),
		z.T("staff.stats.col.not_admitted"), z.T("staff.stats.col.withdrawn")}
	table := func(name, id, captionID string, lead ...string) statsTable {
		return statsTable{Name: name, ID: id, Caption: z.T(captionID, yr), Columns: append(lead, countCols...),
			CSV: statsPath + ".csv?" + url.Values{"anno": {strconv.Itoa(year)}, "tabella": {name}}.Encode()}
	}

	measures := table("measures", "stats-measures", "staff.stats.measures.title", z.T("staff.stats.col.measure"),
		z.T("staff.stats.col.category"))
	for _, m := range sortedMeasures(st) {
		category := z.T("staff.stats.category_all")
		if !m.Total {
			category = categoryLabel(z, m.Measure, m.Category)
		}
		measures.Rows = append(measures.Rows, append([]string{measureName(z, m.Measure), category}, counts(m.Counts)...))
	}

	reasons := table("reasons", "stats-reasons", "staff.stats.reasons.title", z.T("staff.stats.col.reason"))
	for _, r := range completeReasons(st) {
		reasons.Rows = append(reasons.Rows, append([]string{reasonLabel(z, r.Reason)}, counts(r.Counts)...))
	}

	subs := table("subambiti", "stats-sub-ambiti", "staff.stats.sub_ambiti.title", z.T("staff.stats.col.sub_ambito"))
	for _, p := range st.SubAmbiti {
		subs.Rows = append(subs.Rows, append([]string{p.Name}, counts(p.Counts)...))
	}
	comuni := table("territory", "stats-comuni", "staff.stats.comuni.title", z.T("staff.stats.col.comune"),
		z.T("staff.stats.col.sub_ambito"))
	for _, p := range st.Comuni {
		comuni.Rows = append(comuni.Rows, append([]string{placeName(z, p)}, append([]string{p.SubAmbitoName}, counts(p.Counts)...)...))
	}

	times := statsTable{Name: "times", ID: "stats-times", Caption: z.T("staff.stats.times.title", yr),
		Columns: []string{z.T("staff.stats.col.measure"), z.T("staff.stats.col.taken"), z.T("staff.stats.col.taken_median"),
			z.T("staff.stats.col.taken_mean"), z.T("staff.stats.col.decided"), z.T("staff.stats.col.decided_median"),
			z.T("staff.stats.col.decided_mean")},
		CSV: statsPath + ".csv?" + url.Values{"anno": {strconv.Itoa(year)}, "tabella": {"times"}}.Encode()}
	for _, d := range sortedTimes(st) {
		times.Rows = append(times.Rows, []string{measureName(z, d.Measure), z.Number(d.Taken), days(z, d.TakenMedian),
			days(z, d.TakenMean), z.Number(d.Decided), days(z, d.DecidedMedian), days(z, d.DecidedMean)})
	}
	return map[string]statsTable{"measures": measures, "reasons": reasons, "subambiti": subs, "territory": comuni,
		"times": times}
}

// days is a number of days with one decimal, or "no data" when no application has that step yet.
func days(z *i18n.Localizer, d *float64) string {
	if d == nil {
		return z.T("staff.stats.no_data")
	}
	return z.Decimal(*d, 1)
}

// measureOrder is the portal's order of measures (forms.Measures).
func measureOrder(code string) int {
	return slices.IndexFunc(forms.Measures, func(m forms.Measure) bool { return m.Code == code })
}

func measureName(z *i18n.Localizer, code string) string {
	m, ok := forms.MeasureByCode(code)
	if !ok {
		return code
	}
	return z.T("measure." + m.Msg + ".title")
}

// measureOptions are the options of a field across every version of a measure's form, in the order the forms
// list them (oldest version first), so a value of an older call still has its label.
func measureOptions(measure string, field func(d *forms.Definition) string) []forms.Option {
	var out []forms.Option
	for _, id := range forms.Versions(measure) {
		d, err := forms.Load(id)
		if err != nil {
			continue
		}
		f, ok := d.Field(field(d))
		if !ok {
			continue
		}
		for _, o := range f.Options {
			if !slices.ContainsFunc(out, func(p forms.Option) bool { return p.Value == o.Value }) {
				out = append(out, o)
			}
		}
	}
	return out
}

func categoryOptions(measure string) []forms.Option {
	return measureOptions(measure, func(d *forms.Definition) string { return d.Ranking.GroupBy })
}

func reasonOptions() []forms.Option {
	return measureOptions("misura-unica", func(*forms.Definition) string { return storage.MisuraUnicaReasonField })
}

// optionLabel is the label of a stored option value; a value no form knows shows as it is.
func optionLabel(z *i18n.Localizer, opts []forms.Option, value string) string {
	if i := slices.IndexFunc(opts, func(o forms.Option) bool { return o.Value == value }); i >= 0 {
		return z.T(opts[i].Label)
	}
	return value
}

func categoryLabel(z *i18n.Localizer, measure, category string) string {
	return optionLabel(z, categoryOptions(measure), category)
}

func reasonLabel(z *i18n.Localizer, reason string) string {
	if reason == "" {
		return z.T("staff.stats.reason_none")
	}
	return optionLabel(z, reasonOptions(), reason)
}

func placeName(z *i18n.Localizer, p storage.PlaceCounts) string {
	if p.Code == "" {
		return z.T("staff.stats.comune_none")
	}
	return p.Name
}

// sortedMeasures orders the rows as the portal orders measures, each total before its categories, which follow
// their form's order.
func sortedMeasures(st storage.Stats) []storage.MeasureCounts {
	rows := slices.Clone(st.Measures)
	optionIndex := func(m storage.MeasureCounts) int {
		if m.Total {
			return -1
		}
		i := slices.IndexFunc(categoryOptions(m.Measure), func(o forms.Option) bool { return o.Value == m.Category })
		if i < 0 {
			return 1 << 20 // unknown categories last
		}
		return i
	}
	slices.SortStableFunc(rows, func(a, b storage.MeasureCounts) int {
		return cmp.Or(cmp.Compare(measureOrder(a.Measure), measureOrder(b.Measure)), cmp.Compare(optionIndex(a), optionIndex(b)),
			cmp.Compare(a.Category, b.Category))
	})
	return rows
}

func sortedTimes(st storage.Stats) []storage.Durations {
	rows := slices.Clone(st.Times)
	slices.SortStableFunc(rows, func(a, b storage.Durations) int {
		return cmp.Compare(measureOrder(a.Measure), measureOrder(b.Measure))
	})
	return rows
}

// completeReasons lists every reason the Misura Unica forms offer, in their order and with zeros where no
// application gave it, then what the forms do not know (no reason recorded last), when the year has a Misura
// Unica call; none otherwise.
func completeReasons(st storage.Stats) []storage.ReasonCounts {
	if !hasMeasure(st, "misura-unica") {
		return nil
	}
	var out []storage.ReasonCounts
	for _, o := range reasonOptions() {
		r := storage.ReasonCounts{Reason: o.Value}
		if i := slices.IndexFunc(st.Reasons, func(x storage.ReasonCounts) bool { return x.Reason == o.Value }); i >= 0 {
			r = st.Reasons[i]
		}
		out = append(out, r)
	}
	var none []storage.ReasonCounts
	for _, r := range st.Reasons {
		switch {
		case r.Reason == "":
			none = append(none, r)
		case !slices.ContainsFunc(out, func(x storage.ReasonCounts) bool { return x.Reason == r.Reason }):
			out = append(out, r)
		}
	}
	return append(out, none...)
}

// threeBars are a group's submitted, admitted and funded applications, each saying which it is.
func threeBars(z *i18n.Localizer, c storage.Counts) []chartValue {
	bar := func(seriesID string, n int) chartValue {
		return chartValue{Value: float64(n), Text: z.T("staff.stats.bar_count", map[string]any{"Series": z.T(seriesID), "Count": z.Number(n)})}
	}
	return []chartValue{bar("staff.stats.col.submitted", c.Submitted), bar("staff.stats.col.admitted", c.Admitted),
		bar("staff.stats.col.funded", c.Funded)}
}

func measureGroups(z *i18n.Localizer, st storage.Stats) []chartGroup {
	var groups []chartGroup
	for _, m := range sortedMeasures(st) {
		label := measureName(z, m.Measure)
		if !m.Total {
			label = z.T("staff.stats.measure_category", map[string]any{"Measure": label, "Category": categoryLabel(z, m.Measure, m.Category)})
		} else if len(categoryOptions(m.Measure)) > 0 {
			label = z.T("staff.stats.measure_category", map[string]any{"Measure": label, "Category": z.T("staff.stats.category_all")})
		}
		groups = append(groups, chartGroup{Label: label, Bars: threeBars(z, m.Counts)})
	}
	return groups
}

func reasonGroups(z *i18n.Localizer, st storage.Stats) []chartGroup {
	var groups []chartGroup
	for _, r := range completeReasons(st) {
		groups = append(groups, chartGroup{Label: reasonLabel(z, r.Reason), Bars: threeBars(z, r.Counts)})
	}
	return groups
}

// placeGroups show the applications submitted in each place: one series, so each bar says only its number.
func placeGroups(z *i18n.Localizer, places []storage.PlaceCounts) []chartGroup {
	var groups []chartGroup
	for _, p := range places {
		groups = append(groups, chartGroup{Label: placeName(z, p),
			Bars: []chartValue{{Value: float64(p.Submitted), Text: z.Number(p.Submitted)}}})
	}
	return groups
}

// timeGroups show, per measure, the median days to take in charge and to decide.
func timeGroups(z *i18n.Localizer, st storage.Stats) []chartGroup {
	var groups []chartGroup
	bar := func(id string, d *float64) chartValue {
		v := 0.0
		if d != nil {
			v = *d
		}
		return chartValue{Value: v, Text: z.T(id, map[string]any{"Days": days(z, d)})}
	}
	for _, d := range sortedTimes(st) {
		groups = append(groups, chartGroup{Label: measureName(z, d.Measure),
			Bars: []chartValue{bar("staff.stats.bar_taken", d.TakenMedian), bar("staff.stats.bar_decided", d.DecidedMedian)}})
	}
	return groups
}

// statsTableNames are the tables the CSV download knows.
var statsTableNames = []string{"measures", "reasons", "subambiti", "territory", "times"}

func statsFileName(year int, table string) string {
	return fmt.Sprintf("statistiche-%d-%s.csv", year, table)
}
