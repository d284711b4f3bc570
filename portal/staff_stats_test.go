package portal_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal"
)

// statsApp is one application for the statistics tests; taken and decided are days after submission (0: not yet).
type statsApp struct {
	year                              int
	measure, status, comune, category string
	reason                            string
	taken, decided                    float64
}

// insertStatsApps writes submitted applications straight into the test's database, each with its own applicant.
func (e *env) insertStatsApps(t *testing.T, apps ...statsApp) {
	t.Helper()
	ctx := context.Background()
	submitted := time.Date(2026, 3, 2, 10, 0, 0, 0, i18n.Rome)
	var n int
	if err := e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM applications`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	for i, a := range apps {
		i += n
		cf := fmt.Sprintf("STATSP%010d", i)
		answers := map[string]any{"definition": a.measure + "/2026-v1", "raw": map[string]any{}, "value": map[string]any{}}
		if a.reason != "" {
			answers["value"] = map[string][]string{"reason": {a.reason}}
		}
		js, _ := json.Marshal(answers)
		var taken, due, decided *time.Time
		if a.taken > 0 {
			tk := submitted.Add(time.Duration(a.taken * 24 * float64(time.Hour)))
			d := tk.AddDate(0, 0, 30)
			taken, due = &tk, &d
		}
		if a.decided > 0 {
			d := submitted.Add(time.Duration(a.decided * 24 * float64(time.Hour)))
			decided = &d
		}
		_, err := e.db.Pool.Exec(ctx, `
			WITH p AS (INSERT INTO people (fiscal_code) VALUES ($1) RETURNING id)
			INSERT INTO applications (call_id, applicant_id, create_key, form_version, status, protocol, submitted_at,
				beneficiary_cf, comune, sub_ambito, category, answers, taken_at, due_on, decided_at)
			SELECT (SELECT id FROM calls WHERE measure = $2 AND year = $3), p.id,
				substr(translate(upper(md5($1)), '0189', 'QRST'), 1, 26), $2 || '/2026-v1', $4, $5, $6, $1, $7,
				(SELECT sub_ambito FROM comuni WHERE code = $7), $8, $9, $10, $11, $12
			FROM p`, cf, a.measure, a.year, a.status, fmt.Sprintf("CSC-%d-%06d", a.year, 800000+i), submitted,
			a.comune, a.category, js, taken, due, decided)
		if err != nil {
			t.Fatalf("application %d: %v", i, err)
		}
	}
}

// statsYear is a small year of applications in two sub-ambiti: Crema (the comune of Crema) and Soncino (the
// comune of Offanengo).
var statsYear = []statsApp{
	{2026, "fna-b2", "admitted_funded", "crema", "anziani", "", 2, 10},
	{2026, "fna-b2", "submitted", "crema", "anziani", "", 0, 0},
	{2026, "fna-b2", "paid", "offanengo", "disabili_adulti", "", 5, 21},
	{2026, "misura-unica", "not_admitted", "crema", "", "job_loss", 1, 3},
	{2026, "misura-unica", "admitted_funded", "offanengo", "", "job_loss", 3, 5},
	{2026, "misura-unica", "submitted", "crema", "", "pension_only", 0, 0},
}

// tableRows returns the rows of the HTML table with this id, each as its cells' text joined by "|".
func tableRows(t *testing.T, body, id string) []string {
	t.Helper()
	start := strings.Index(body, `<table class="table" id="`+id+`">`)
	if start < 0 {
		t.Fatalf("no table %s on the page", id)
	}
	table := body[start : start+strings.Index(body[start:], "</table>")]
	var rows []string
	for _, tr := range regexp.MustCompile(`(?s)<tr>(.*?)</tr>`).FindAllStringSubmatch(table, -1) {
		var cells []string
		for _, cell := range regexp.MustCompile(`(?s)<t[hd][^>]*>(.*?)</t[hd]>`).FindAllStringSubmatch(tr[1], -1) {
			cells = append(cells, html.UnescapeString(cell[1]))
		}
		rows = append(rows, strings.Join(cells, "|"))
	}
	return rows
}

func wantRows(t *testing.T, body, id string, want ...string) {
	t.Helper()
	if got := tableRows(t, body, id); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("table %s:\n%s\nwant:\n%s", id, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A coordinatore sees the whole district's year: submitted, admitted and funded per measure and category, Misura
// Unica by reason, per sub-ambito and comune, the days to take in charge and to decide, as charts and tables.
func TestStatsPageShowsTheYear(t *testing.T) {
	e, clk := newStaffEnv(t)
	e.insertStatsApps(t, statsYear...)
	co := e.signIn(t, clk, e.newStaff(t, "coord.stats", "coordinatore"))

	resp, body := co.get("/backoffice/statistiche")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "<h1>Statistiche</h1>", `href="/backoffice/statistiche" aria-current="page"`,
		`<option value="2026" selected>2026</option>`, "Tutto il Distretto di Crema")
	wantRows(t, body, "stats-measures",
		"Misura|Categoria|Presentate|Ammesse|Finanziate|Non ammesse|Ritirate",
		"FNA – Misura B2|Tutte le categorie|3|2|2|0|0",
		"FNA – Misura B2|Anziani non autosufficienti|2|1|1|0|0",
		"FNA – Misura B2|Adulti con disabilità grave|1|1|1|0|0",
		"Buono caregiver una tantum|Tutte le categorie|0|0|0|0|0",
		"Misura Unica – sostegno all'affitto|Tutte le categorie|3|1|1|1|0")
	wantRows(t, body, "stats-reasons",
		"Motivo|Presentate|Ammesse|Finanziate|Non ammesse|Ritirate",
		"Cessazione del rapporto di lavoro (licenziamento, fine del contratto)|2|1|1|1|0",
		"Diminuzione del lavoro dipendente (meno ore, cassa integrazione)|0|0|0|0|0",
		"Diminuzione del lavoro autonomo (meno lavoro o meno incassi)|0|0|0|0|0",
		"Malattia grave o decesso di un componente del nucleo familiare|0|0|0|0|0",
		"Redditi esclusivamente da pensione|1|0|0|0|0")
	wantRows(t, body, "stats-sub-ambiti",
		"Sub-ambito|Presentate|Ammesse|Finanziate|Non ammesse|Ritirate",
		"Crema|4|1|1|1|0", "Soncino|2|2|2|0|0", "Bagnolo Cremasco|0|0|0|0|0", "Castelleone|0|0|0|0|0",
		"Pandino|0|0|0|0|0", "Sergnano|0|0|0|0|0")
	wantRows(t, body, "stats-comuni",
		"Comune|Sub-ambito|Presentate|Ammesse|Finanziate|Non ammesse|Ritirate",
		"Crema|Crema|4|1|1|1|0", "Offanengo|Soncino|2|2|2|0|0")
	wantRows(t, body, "stats-times",
		"Misura|Prese in carico|Giorni alla presa in carico, mediana|Giorni alla presa in carico, media|Decise|Giorni alla decisione, mediana|Giorni alla decisione, media",
		"FNA – Misura B2|2|3,5|3,5|2|15,5|15,5",
		"Buono caregiver una tantum|0|nessun dato|nessun dato|0|nessun dato|nessun dato",
		"Misura Unica – sostegno all'affitto|2|2|2|2|4|4")
	// Each chart is an image with its title and a description that carries the numbers; bars say what they count.
	wantContains(t, body,
		`role="img" aria-labelledby="stats-measures-chart-title stats-measures-chart-desc"`,
		`<title id="stats-measures-chart-title">Domande presentate, ammesse e finanziate per misura e categoria, 2026</title>`,
		`FNA – Misura B2: Tutte le categorie: Presentate: 3, Ammesse: 2, Finanziate: 2;`,
		`>Presentate: 3</text>`, `>Finanziate: 2</text>`, `>Presa in carico: 3,5</text>`, `>Decisione: 15,5</text>`,
		`role="img" aria-labelledby="stats-comuni-chart-title stats-comuni-chart-desc"`,
		`href="/backoffice/statistiche.csv?anno=2026&amp;tabella=measures"`,
		`href="/backoffice/statistiche.csv?anno=2026&amp;tabella=territory"`)
	if n := strings.Count(body, `<svg class="d-block`); n != 5 {
		t.Errorf("%d charts, want 5", n)
	}

	// The home page and the menu lead here.
	_, body = co.get("/backoffice")
	wantContains(t, body, `<a href="/backoffice/statistiche">Statistiche</a>`)
}

// An operatore counts only their sub-ambiti, on the page and in every CSV.
func TestStatsOperatoreSeesOnlyTheirSubAmbiti(t *testing.T) {
	e, clk := newStaffEnv(t)
	e.insertStatsApps(t, statsYear...)
	op := e.signIn(t, clk, e.newStaff(t, "op.stats", "operatore", "crema"))

	resp, body := op.get("/backoffice/statistiche?anno=2026")
	wantStatus(t, resp, http.StatusOK)
	rows := tableRows(t, body, "stats-measures")
	if rows[1] != "FNA – Misura B2|Tutte le categorie|2|1|1|0|0" || rows[len(rows)-1] != "Misura Unica – sostegno all'affitto|Tutte le categorie|2|0|0|1|0" {
		t.Errorf("operatore's measures %v", rows)
	}
	wantRows(t, body, "stats-sub-ambiti", "Sub-ambito|Presentate|Ammesse|Finanziate|Non ammesse|Ritirate", "Crema|4|1|1|1|0")
	wantRows(t, body, "stats-comuni", "Comune|Sub-ambito|Presentate|Ammesse|Finanziate|Non ammesse|Ritirate", "Crema|Crema|4|1|1|1|0")
	if strings.Contains(body, "Offanengo") || strings.Contains(body, "Soncino") {
		t.Error("the operatore of Crema sees Soncino's applications")
	}
	if rows := tableRows(t, body, "stats-reasons"); rows[1] != "Cessazione del rapporto di lavoro (licenziamento, fine del contratto)|1|0|0|1|0" {
		t.Errorf("operatore's reasons %v", rows)
	}

	for table, want := range map[string]string{
		"territory": "Comune;Sub-ambito;Presentate;Ammesse;Finanziate;Non ammesse;Ritirate\r\nCrema;Crema;4;1;1;1;0\r\n",
		"subambiti": "Sub-ambito;Presentate;Ammesse;Finanziate;Non ammesse;Ritirate\r\nCrema;4;1;1;1;0\r\n",
	} {
		resp, body = op.get("/backoffice/statistiche.csv?anno=2026&tabella=" + table)
		wantStatus(t, resp, http.StatusOK)
		if body != "\ufeff"+want {
			t.Errorf("operatore's %s CSV %q", table, body)
		}
	}
	_, body = op.get("/backoffice/statistiche.csv?anno=2026&tabella=measures")
	if !strings.Contains(body, "FNA – Misura B2;Tutte le categorie;2;1;1;0;0\r\n") || strings.Contains(body, ";3;") {
		t.Errorf("operatore's measures CSV %q", body)
	}
	_, body = op.get("/backoffice/statistiche.csv?anno=2026&tabella=times")
	if !strings.Contains(body, "FNA – Misura B2;1;2;2;1;10;10\r\n") {
		t.Errorf("operatore's times CSV %q", body)
	}
}

// The CSV opens in Excel as it is, in the staff member's language, and a name that looks like a formula stays text.
func TestStatsCSV(t *testing.T) {
	e, clk := newStaffEnv(t)
	if _, err := e.db.Pool.Exec(context.Background(),
		`INSERT INTO comuni (code, name, sub_ambito) VALUES ('formula', '=HYPERLINK("http://x")', 'crema')`); err != nil {
		t.Fatal(err)
	}
	e.insertStatsApps(t, append(statsYear, statsApp{2026, "fna-b2", "withdrawn", "formula", "voucher", "", 0, 0})...)
	co := e.signIn(t, clk, e.newStaff(t, "coord.csv", "coordinatore"))

	resp, body := co.get("/backoffice/statistiche.csv?anno=2026&tabella=territory")
	wantStatus(t, resp, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename=statistiche-2026-territory.csv` {
		t.Errorf("content disposition %q", cd)
	}
	want := "\ufeffComune;Sub-ambito;Presentate;Ammesse;Finanziate;Non ammesse;Ritirate\r\n" +
		"Crema;Crema;4;1;1;1;0\r\nOffanengo;Soncino;2;2;2;0;0\r\n" +
		`"'=HYPERLINK(""http://x"")";Crema;1;0;0;0;1` + "\r\n"
	if body != want {
		t.Errorf("territory CSV\n%q\nwant\n%q", body, want)
	}
	_, body = co.get("/backoffice/statistiche.csv?anno=2026&tabella=reasons")
	if !strings.HasPrefix(body, "\ufeffMotivo;Presentate;Ammesse;Finanziate;Non ammesse;Ritirate\r\n") ||
		!strings.Contains(body, "\r\nRedditi esclusivamente da pensione;1;0;0;0;0\r\n") {
		t.Errorf("reasons CSV %q", body)
	}

	// In the staff member's language: English headers and labels, English numbers, the same figures.
	co.headers["Accept-Language"] = "en"
	_, body = co.get("/backoffice/statistiche.csv?anno=2026&tabella=times")
	want = "\ufeffMeasure;Taken in charge;Days to take in charge, median;Days to take in charge, mean;Decided;" +
		"Days to the decision, median;Days to the decision, mean\r\n" +
		"FNA – Misura B2;2;3.5;3.5;2;15.5;15.5\r\nOne-off family caregiver bonus;0;no data;no data;0;no data;no data\r\n"
	if !strings.HasPrefix(body, want) {
		t.Errorf("English times CSV\n%q\nwant prefix\n%q", body, want)
	}
}

// Residents and anonymous visitors never reach the statistics; a year or a table that does not exist is a clear
// answer, never a failure.
func TestStatsAccessAndBadParameters(t *testing.T) {
	e, clk := newStaffEnv(t)
	e.insertStatsApps(t, statsYear...)

	for _, path := range []string{"/backoffice/statistiche", "/backoffice/statistiche.csv?anno=2026&tabella=measures"} {
		resp, _ := e.client(t).get(path)
		wantRedirect(t, resp, "/backoffice/accesso")
		resp, body := citizenClient(t, e).get(path)
		wantStatus(t, resp, http.StatusForbidden)
		if strings.Contains(body, "FNA") {
			t.Errorf("%s shows figures to a resident", path)
		}
	}

	co := e.signIn(t, clk, e.newStaff(t, "coord.bad", "coordinatore"))
	for _, anno := range []string{"abc", "1999", "20266", "-1", "2026%27%20OR%201=1"} {
		resp, body := co.get("/backoffice/statistiche?anno=" + anno)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, `role="alert"`, "L&#39;anno indicato non è valido", `<option value="2026" selected>2026</option>`)
		if rows := tableRows(t, body, "stats-measures"); rows[1] != "FNA – Misura B2|Tutte le categorie|3|2|2|0|0" {
			t.Errorf("anno=%s: default year not shown: %v", anno, rows)
		}
		resp, _ = co.get("/backoffice/statistiche.csv?tabella=measures&anno=" + anno)
		wantStatus(t, resp, http.StatusBadRequest)
	}
	for _, path := range []string{"/backoffice/statistiche.csv?anno=2026&tabella=people", "/backoffice/statistiche.csv?anno=2026",
		"/backoffice/statistiche.csv?tabella=measures"} {
		resp, body := co.get(path)
		wantStatus(t, resp, http.StatusBadRequest)
		wantContains(t, body, "<html")
	}

	// A year with no calls: an empty page that says so, and the year can be chosen back.
	resp, body := co.get("/backoffice/statistiche?anno=2031")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `<option value="2031" selected>2031</option>`, `<option value="2026">2026</option>`,
		"Nessun avviso in questo anno, quindi nessun dato.", "Nessun avviso della Misura Unica in questo anno.",
		"Nessuna domanda presentata in questo anno.")
	if strings.Contains(body, "stats-measures-chart") || strings.Contains(body, `id="stats-measures"`) {
		t.Error("a year without calls draws a measures chart or table")
	}

	// Another year with a call of its own counts only its own applications.
	if _, err := e.db.Pool.Exec(context.Background(), `INSERT INTO calls (measure, year, opens_at, closes_at, form_version)
		VALUES ('fna-b2', 2025, '2025-03-01 09:00+01', '2025-04-30 12:00+02', 'fna-b2/2026-v1')`); err != nil {
		t.Fatal(err)
	}
	e.insertStatsApps(t, statsApp{2025, "fna-b2", "paid", "crema", "voucher", "", 1, 2})
	resp, body = co.get("/backoffice/statistiche?anno=2025")
	wantStatus(t, resp, http.StatusOK)
	wantRows(t, body, "stats-measures", "Misura|Categoria|Presentate|Ammesse|Finanziate|Non ammesse|Ritirate",
		"FNA – Misura B2|Tutte le categorie|1|1|1|0|0", "FNA – Misura B2|Voucher sociali|1|1|1|0|0")
	wantContains(t, body, `<option value="2026">2026</option>`, `<option value="2025" selected>2025</option>`)
}

// citizenClient is a client carrying a signed-in resident's session.
func citizenClient(t *testing.T, e *env) *client {
	t.Helper()
	var buf bytes.Buffer
	data := map[string]any{"created": time.Now().Unix(), "user": "p:1"}
	if err := gob.NewEncoder(&buf).Encode(&data); err != nil {
		t.Fatal(err)
	}
	id := strings.Repeat("S", 26)
	if err := e.srv.Redis.Set(context.Background(), e.prefix+"sess:"+id, buf.Bytes(), time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	c.jar.SetCookies(base, []*http.Cookie{{Name: portal.SessionCookie, Value: id}})
	return c
}
