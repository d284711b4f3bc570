package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// fnaCallForm is a valid new FNA Misura B2 call for year, as the form posts it; change fields to test one mistake.
func fnaCallForm(year string) url.Values {
	return url.Values{"measure": {"fna-b2"}, "year": {year},
		"opens_date": {year + "-03-01"}, "opens_time": {"09:00"}, "closes_date": {"30/04/" + year}, "closes_time": {"12:30"},
		"form_version":      {"fna-b2/2026-v1"},
		"threshold-anziani": {"25.000"}, "threshold-disabili_adulti": {"25000"}, "threshold-caregiver_minori": {"€ 40.000,00"},
		"threshold-voucher": {"25000,00"},
		"budget-anziani":    {"150000"}, "budget-disabili_adulti": {"120.000,50"}, "budget-caregiver_minori": {"80000"},
		"budget-voucher": {"30000.25"},
		"deadline_days":  {"45"},
		"grant-anziani":  {"400"}, "grant-anziani-period": {"month"}, "grant-anziani-months": {"12"},
		"grant-disabili_adulti": {"400,00"}, "grant-disabili_adulti-period": {"month"}, "grant-disabili_adulti-months": {"12"},
		"grant-caregiver_minori": {"500"}, "grant-caregiver_minori-period": {"month"}, "grant-caregiver_minori-months": {"10"},
		"grant-voucher": {"1.200"}, "grant-voucher-period": {"once"}}
}

func (e *env) call(t *testing.T, id int64) storage.Call {
	t.Helper()
	c, err := e.db.CallByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newCall stores a call of the FNA Misura B2 directly, for the tests of one action.
func (e *env) newCall(t *testing.T, year int, opens, closes time.Time) int64 {
	t.Helper()
	id, err := e.db.CreateCall(context.Background(), storage.Call{Measure: "fna-b2", Year: year, OpensAt: opens, ClosesAt: closes,
		FormVersion: "fna-b2/2026-v1", Thresholds: map[string]int64{"anziani": 25_000_00, "disabili_adulti": 25_000_00,
			"caregiver_minori": 40_000_00, "voucher": 25_000_00},
		Budgets:      map[string]int64{"anziani": 1, "disabili_adulti": 2, "caregiver_minori": 3, "voucher": 4},
		DeadlineDays: 30, Amounts: storage.Amounts{"all": {Cents: 400_00, Period: "month", Months: 12}}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func callIDFrom(t *testing.T, body, measureTitle string) int64 {
	t.Helper()
	i := strings.Index(body, measureTitle)
	j := strings.LastIndex(body[:max(i, 0)], `href="/backoffice/avvisi/`)
	if i < 0 || j < 0 {
		t.Fatalf("no link to %q on the page", measureTitle)
	}
	rest := body[j+len(`href="/backoffice/avvisi/`):]
	id, err := strconv.ParseInt(rest[:strings.IndexByte(rest, '"')], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// A coordinatore lists the calls, creates next year's call from the form (which starts from the latest call's
// amounts), and edits its window and amounts; dates and times are Italian time, amounts euro typed as people do.
func TestStaffCallCreateListEdit(t *testing.T) {
	e, clk := newStaffEnv(t)
	c := e.signIn(t, clk, e.newStaff(t, "coord.avvisi", "coordinatore"))

	resp, body := c.get("/backoffice/avvisi")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "<h1>Avvisi</h1>", `href="/backoffice/avvisi" aria-current="page"`, "FNA", ", avviso 2026",
		`href="/backoffice/avvisi/nuovo?misura=fna-b2"`, `href="/backoffice/avvisi/nuovo?misura=misura-unica"`, "fna-b2/2026-v1")

	resp, body = c.get("/backoffice/avvisi/nuovo?misura=fna-b2")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `name="measure" value="fna-b2"`, `id="year" name="year" value="2027"`, // the seeded call is 2026's
		`<option value="fna-b2/2026-v1" selected>`, `name="threshold-anziani" value="25000,00"`, // copied from 2026
		`name="threshold-caregiver_minori" value="40000,00"`, `name="budget-voucher" value="30000,00"`, `type="date"`, `type="time"`)
	if strings.Contains(body, `name="threshold-all"`) {
		t.Error("an FNA call has categories, not one threshold for all")
	}
	// Categories come from the form: the caregiver bonus has no ISEE limit and one budget, rent support one of each.
	_, body = c.get("/backoffice/avvisi/nuovo?misura=caregiver")
	wantContains(t, body, `name="budget-all"`, "Tutte le domande")
	if strings.Contains(body, `name="threshold-`) {
		t.Error("the caregiver bonus asks for an ISEE threshold its form never checks")
	}
	_, body = c.get("/backoffice/avvisi/nuovo?misura=misura-unica")
	wantContains(t, body, `name="threshold-all"`, `name="budget-all"`)
	resp, _ = c.get("/backoffice/avvisi/nuovo?misura=nope")
	wantRedirect(t, resp, "/backoffice/avvisi")

	resp, _ = c.do("POST", "/backoffice/avvisi/nuovo", fnaCallForm("2031"))
	wantRedirect(t, resp, "/backoffice/avvisi")
	resp, body = c.get("/backoffice/avvisi")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Avviso creato.", ", avviso 2031", "1 marzo 2031, ore 09:00", "30 aprile 2031, ore 12:30", "In arrivo")
	id := callIDFrom(t, body, ", avviso 2031")
	got := e.call(t, id)
	if want := time.Date(2031, 3, 1, 9, 0, 0, 0, i18n.Rome); !got.OpensAt.Equal(want) {
		t.Errorf("opens at %v, want %v", got.OpensAt, want)
	}
	if want := time.Date(2031, 4, 30, 12, 30, 0, 0, i18n.Rome); !got.ClosesAt.Equal(want) {
		t.Errorf("closes at %v, want %v", got.ClosesAt, want)
	}
	if got.FormVersion != "fna-b2/2026-v1" || got.Thresholds["anziani"] != 25_000_00 || got.Thresholds["caregiver_minori"] != 40_000_00 ||
		got.Budgets["disabili_adulti"] != 120_000_50 || got.Budgets["voucher"] != 30_000_25 || len(got.Budgets) != 4 ||
		got.DeadlineDays != 45 || got.Amounts["caregiver_minori"] != (storage.Amount{Cents: 500_00, Period: "month", Months: 10}) ||
		got.Amounts["voucher"] != (storage.Amount{Cents: 1_200_00, Period: "once", Months: 1}) {
		t.Errorf("stored %+v", got)
	}

	// Edit: the form shows what is stored, as inputs read it back.
	path := "/backoffice/avvisi/" + strconv.FormatInt(id, 10)
	resp, body = c.get(path)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Stato dell&#39;avviso: In arrivo.", `name="opens_date" value="2031-03-01"`, `name="closes_time" value="12:30"`,
		`name="threshold-anziani" value="25000,00"`, `name="budget-disabili_adulti" value="120000,50"`, `<select class="form-select" id="form_version"`,
		`name="deadline_days" value="45"`, `name="grant-caregiver_minori" value="500,00"`, `id="grant-voucher-period-once" name="grant-voucher-period" value="once" checked`,
		`action="`+path+`/apri"`, "Apri ora")
	if strings.Contains(body, `name="year"`) {
		t.Error("the year of a call is what it is, not a field")
	}
	form := fnaCallForm("2031")
	form.Set("closes_date", "2031-05-15")
	form.Set("closes_time", "18:45")
	form.Set("threshold-anziani", "26.000,50")
	resp, _ = c.do("POST", path, form)
	wantRedirect(t, resp, "/backoffice/avvisi")
	got = e.call(t, id)
	if want := time.Date(2031, 5, 15, 18, 45, 0, 0, i18n.Rome); !got.ClosesAt.Equal(want) || got.Thresholds["anziani"] != 26_000_50 {
		t.Errorf("after the edit: closes %v, threshold %d", got.ClosesAt, got.Thresholds["anziani"])
	}
	_, body = c.get("/backoffice/avvisi")
	wantContains(t, body, "Modifiche all&#39;avviso salvate.", "15 maggio 2031, ore 18:45")

	resp, _ = c.get("/backoffice/avvisi/999999")
	wantStatus(t, resp, http.StatusNotFound)
	resp, _ = c.do("POST", "/backoffice/avvisi/999999", form)
	wantStatus(t, resp, http.StatusNotFound)
}

// "Open now" and "Close now" use the server's clock; the public pages follow within their cache's ten seconds.
// Once open, the form version is fixed.
func TestStaffCallOpenNowCloseNow(t *testing.T) {
	e, clk := newStaffEnv(t)
	c := e.signIn(t, clk, e.newStaff(t, "admin.avvisi", "admin"))
	id := e.newCall(t, 2031, clk.now().Add(48*time.Hour), clk.now().Add(30*24*time.Hour))
	path := "/backoffice/avvisi/" + strconv.FormatInt(id, 10)
	// the demo's open FNA B2 call has closed, so residents are shown the next one
	if _, err := e.db.Pool.Exec(t.Context(), `UPDATE calls SET closes_at = $1 WHERE measure = 'fna-b2' AND id <> $2`,
		clk.now().Add(-time.Hour), id); err != nil {
		t.Fatal(err)
	}
	public := e.client(t)
	_, body := public.get("/misure/fna-misura-b2")
	wantContains(t, body, "Bando in arrivo")

	resp, _ := c.post(path + "/chiudi")
	wantStatus(t, resp, http.StatusConflict)
	resp, _ = c.post(path + "/apri")
	wantRedirect(t, resp, path)
	if got := e.call(t, id); !got.OpensAt.Equal(clk.now()) {
		t.Fatalf("opens at %v, want the server's now %v", got.OpensAt, clk.now())
	}
	resp, body = c.get(path)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Avviso aperto: da ora", "Stato dell&#39;avviso: Aperto.", "Chiudi ora", "fna-b2/2026-v1",
		"la versione del modulo non si può più cambiare")
	if strings.Contains(body, `id="form_version"`) || strings.Contains(body, "Apri ora") {
		t.Error("an open call offers to change its form or to open again")
	}
	resp, body = c.post(path + "/apri")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "Si può aprire ora solo un avviso non ancora aperto")

	_, body = public.get("/misure/fna-misura-b2")
	wantContains(t, body, "Bando in arrivo") // the cached page, for up to ten seconds
	clk.add(11 * time.Second)
	_, body = public.get("/misure/fna-misura-b2")
	wantContains(t, body, "Bando aperto")

	// The form version of an open call cannot change, even by a forged post.
	form := fnaCallForm("2031")
	form.Set("opens_date", clk.now().In(i18n.Rome).Format("2006-01-02"))
	form.Set("opens_time", clk.now().In(i18n.Rome).Format("15:04"))
	form.Set("form_version", "fna-b2/2031-v9")
	resp, body = c.do("POST", path, form)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "L&#39;avviso è già stato aperto: la versione del modulo non si può più cambiare.")
	form.Del("form_version") // what the page posts: the version is not a field any more
	resp, _ = c.do("POST", path, form)
	wantRedirect(t, resp, "/backoffice/avvisi")

	clk.add(time.Hour)
	resp, _ = c.post(path + "/chiudi")
	wantRedirect(t, resp, path)
	if got := e.call(t, id); !got.ClosesAt.Equal(clk.now()) || got.FormVersion != "fna-b2/2026-v1" {
		t.Fatalf("closes at %v, want %v; form %s", got.ClosesAt, clk.now(), got.FormVersion)
	}
	_, body = c.get(path)
	wantContains(t, body, "Avviso chiuso: da ora", "Stato dell&#39;avviso: Chiuso.")
	resp, body = c.post(path + "/chiudi")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "Si può chiudere ora solo un avviso aperto.")
	resp, _ = c.post(path + "/apri")
	wantStatus(t, resp, http.StatusConflict)
	resp, _ = c.post("/backoffice/avvisi/999999/apri")
	wantStatus(t, resp, http.StatusNotFound)
}

// Every bad input comes back with 422, its message next to the field, and what was typed.
func TestStaffCallValidation(t *testing.T) {
	e, clk := newStaffEnv(t)
	c := e.signIn(t, clk, e.newStaff(t, "coord.errori", "coordinatore"))
	post := func(change func(url.Values)) string {
		t.Helper()
		form := fnaCallForm("2032")
		change(form)
		resp, body := c.do("POST", "/backoffice/avvisi/nuovo", form)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Alcuni dati non vanno bene")
		return body
	}
	cases := []struct {
		name   string
		change func(url.Values)
		wants  []string
	}{
		{"bad year", func(f url.Values) { f.Set("year", "20x7") },
			[]string{"Scrivi un anno tra il 2020 e il 2100", `value="20x7"`, `aria-describedby="year-hint year-error" aria-invalid="true"`}},
		{"year out of range", func(f url.Values) { f.Set("year", "2200") }, []string{"Scrivi un anno tra il 2020 e il 2100"}},
		{"no date", func(f url.Values) { f.Set("opens_date", "") }, []string{"Scrivi la data.", `aria-describedby="opens_date-error"`}},
		{"bad date", func(f url.Values) { f.Set("opens_date", "1 marzo") }, []string{"Scrivi la data come giorno/mese/anno", `value="1 marzo"`}},
		{"no such day", func(f url.Values) { f.Set("closes_date", "31/04/2032") }, []string{"Questa data non esiste", `value="31/04/2032"`}},
		{"date out of range", func(f url.Values) { f.Set("closes_date", "2302-04-30") }, []string{"la data deve cadere tra il 2020 e il 2100"}},
		{"no time", func(f url.Values) { f.Set("closes_time", "") }, []string{"Scrivi l&#39;ora, per esempio 09:00.", `aria-describedby="closes_time-error"`}},
		{"bad time", func(f url.Values) { f.Set("opens_time", "25:00") }, []string{"Scrivi l&#39;ora nel formato ore:minuti", `value="25:00"`}},
		{"closes before opens", func(f url.Values) { f.Set("closes_date", "2032-03-01"); f.Set("closes_time", "08:59") },
			[]string{"La chiusura deve venire dopo l&#39;apertura.", `value="08:59"`}},
		{"closes when it opens", func(f url.Values) { f.Set("closes_date", "01/03/2032"); f.Set("closes_time", "09:00") },
			[]string{"La chiusura deve venire dopo l&#39;apertura."}},
		{"unknown form version", func(f url.Values) { f.Set("form_version", "fna-b2/2099-v1") }, []string{"Scegli la versione del modulo dall&#39;elenco."}},
		{"no form version", func(f url.Values) { f.Del("form_version") }, []string{"Scegli la versione del modulo dall&#39;elenco."}},
		{"missing threshold", func(f url.Values) { f.Del("threshold-voucher") },
			[]string{"Scrivi la soglia ISEE di questa categoria.", `id="threshold-voucher" name="threshold-voucher" value=""`}},
		{"missing budget", func(f url.Values) { f.Set("budget-anziani", " ") }, []string{"Scrivi il budget di questa categoria."}},
		{"amount not a number", func(f url.Values) { f.Set("budget-anziani", "tanti") },
			[]string{"Scrivi l&#39;importo in euro usando solo cifre", `value="tanti"`, `aria-describedby="amount-hint budget-anziani-error" aria-invalid="true"`}},
		{"ambiguous amount", func(f url.Values) { f.Set("threshold-anziani", "25,000") }, []string{"Non è chiaro se intendi migliaia o decimali"}},
		{"negative amount", func(f url.Values) { f.Set("budget-voucher", "-100") }, []string{"non può essere negativo"}},
		{"three decimals", func(f url.Values) { f.Set("budget-voucher", "1234,567") }, []string{"al massimo 2 cifre dopo la virgola"}},
		{"too large", func(f url.Values) { f.Set("budget-voucher", "999999999") }, []string{"L&#39;importo è troppo alto"}},
		{"no deadline", func(f url.Values) { f.Set("deadline_days", "") }, []string{"Scrivi un numero di giorni da 1 a 365.", `id="deadline_days-error"`}},
		{"deadline too long", func(f url.Values) { f.Set("deadline_days", "400") }, []string{"Scrivi un numero di giorni da 1 a 365.", `value="400"`}},
		{"no amount granted", func(f url.Values) { f.Del("grant-anziani") },
			[]string{"Scrivi l&#39;importo che si riconosce in questa categoria.", `id="grant-anziani-error"`}},
		{"months out of range", func(f url.Values) { f.Set("grant-anziani-months", "40") },
			[]string{"Scrivi un numero di mesi da 1 a 36.", `value="40"`, `id="grant-anziani-months-error"`}},
		{"no period", func(f url.Values) { f.Del("grant-voucher-period") }, []string{`id="grant-voucher-period-once"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := post(tc.change)
			wantContains(t, body, tc.wants...)
			wantContains(t, body, `value="120.000,50"`) // the rest of the form is kept as typed
		})
	}
	var n int
	e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM calls WHERE year = 2032`).Scan(&n)
	if n != 0 {
		t.Fatal("an invalid call was saved")
	}

	// One call per measure and year: the unique constraint answers, as a message on the year.
	resp, _ := c.do("POST", "/backoffice/avvisi/nuovo", fnaCallForm("2032"))
	wantRedirect(t, resp, "/backoffice/avvisi")
	resp, body := c.do("POST", "/backoffice/avvisi/nuovo", fnaCallForm("2032"))
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Questa misura ha già un avviso per quell&#39;anno", `value="2032"`, `value="120.000,50"`)
	// Another measure may have a call that year.
	if _, err := e.db.CreateCall(context.Background(), storage.Call{Measure: "caregiver", Year: 2032,
		OpensAt: time.Date(2032, 2, 1, 9, 0, 0, 0, i18n.Rome), ClosesAt: time.Date(2032, 3, 1, 12, 0, 0, 0, i18n.Rome)}); err != nil {
		t.Errorf("the year of another measure blocks this one: %v", err)
	}

	// A forged measure is a bad request; messages follow the language.
	form := fnaCallForm("2033")
	form.Set("measure", "bonus-vacanze")
	resp, _ = c.do("POST", "/backoffice/avvisi/nuovo", form)
	wantStatus(t, resp, http.StatusBadRequest)
	c.headers["Accept-Language"] = "en"
	form = fnaCallForm("2033")
	form.Set("year", "33")
	form.Set("closes_date", "2033-02-01")
	resp, body = c.do("POST", "/backoffice/avvisi/nuovo", form)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Write a year between 2020 and 2100", "The closing must come after the opening.")
}

// Calls are for admins and coordinatori: an operatore is refused for reading and writing, a stranger is sent to
// sign in, a cross-site post changes nothing.
func TestStaffCallRoles(t *testing.T) {
	e, clk := newStaffEnv(t)
	id := e.newCall(t, 2031, clk.now().Add(time.Hour), clk.now().Add(48*time.Hour))
	path := "/backoffice/avvisi/" + strconv.FormatInt(id, 10)
	before := e.call(t, id)

	op := e.signIn(t, clk, e.newStaff(t, "op.avvisi", "operatore", "crema"))
	_, body := op.get("/backoffice")
	if strings.Contains(body, `href="/backoffice/avvisi"`) {
		t.Error("the menu of an operatore links the calls")
	}
	for _, p := range []string{"/backoffice/avvisi", "/backoffice/avvisi/nuovo?misura=fna-b2", path} {
		resp, body := op.get(p)
		wantStatus(t, resp, http.StatusForbidden)
		wantContains(t, body, "Accesso non consentito")
	}
	for _, p := range []string{"/backoffice/avvisi/nuovo", path, path + "/apri", path + "/chiudi"} {
		resp, _ := op.do("POST", p, fnaCallForm("2035"))
		wantStatus(t, resp, http.StatusForbidden)
	}

	stranger := e.client(t)
	resp, _ := stranger.get("/backoffice/avvisi")
	wantRedirect(t, resp, "/backoffice/accesso")
	resp, _ = stranger.post(path + "/apri")
	wantRedirect(t, resp, "/backoffice/accesso")

	admin := e.signIn(t, clk, e.newStaff(t, "admin.avvisi", "admin"))
	_, body = admin.get("/backoffice")
	wantContains(t, body, `href="/backoffice/avvisi"`)
	admin.headers["Sec-Fetch-Site"] = "cross-site"
	resp, body = admin.post(path + "/apri")
	wantStatus(t, resp, http.StatusForbidden)
	wantContains(t, body, "Richiesta non consentita")
	resp, _ = admin.do("POST", "/backoffice/avvisi/nuovo", fnaCallForm("2035"))
	wantStatus(t, resp, http.StatusForbidden)

	after := e.call(t, id)
	if !after.OpensAt.Equal(before.OpensAt) || !after.ClosesAt.Equal(before.ClosesAt) {
		t.Error("a refused request changed the call")
	}
	var n int
	e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM calls WHERE year = 2035`).Scan(&n)
	if n != 0 {
		t.Error("a refused request created a call")
	}
}
