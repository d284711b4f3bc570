package portal_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
)

// A coordinatore on a phone (360×740), in Italian and in Arabic, opens the statistics from the menu and changes
// the year with the form: the charts fit the screen, their bars grow from the reading side, and axe-core finds
// nothing on either page.
func TestBrowserStats(t *testing.T) {
	for _, lang := range []struct{ code, dir string }{{"it", "ltr"}, {"ar", "rtl"}} {
		t.Run(lang.code, func(t *testing.T) {
			e, clk := newStaffEnv(t)
			if _, err := e.db.Pool.Exec(context.Background(), `INSERT INTO calls (measure, year, opens_at, closes_at, form_version)
				VALUES ('fna-b2', 2025, '2025-03-01 09:00+01', '2025-04-30 12:00+02', 'fna-b2/2026-v1')`); err != nil {
				t.Fatal(err)
			}
			e.insertStatsApps(t, append(statsYear, statsApp{2025, "fna-b2", "paid", "crema", "voucher", "", 1, 2})...)
			a := e.newStaff(t, "coord.stats.browser", "coordinatore")
			base := e.listen(t)
			page := chromium.Browser(t).NewPage(t, browsertest.WithLanguage(lang.code),
				browsertest.WithViewport(browsertest.PhoneWidth, browsertest.PhoneHeight, true))
			check := func(want, status int) { t.Helper(); checkPage(t, page, lang.dir, want, status) }
			shot := func(name string) {
				if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" {
					page.Screenshot(t, filepath.Join(dir, "staff-stats-"+name+"-"+lang.code+".png"))
				}
			}

			staffSignInPage(t, page, base, clk, a, check)

			check(http.StatusOK, page.ClickAndWait(t, `nav.site-nav a[href="/backoffice/statistiche"]`))
			shot("2026")
			if got := selectedYear(t, page); got != "2026" {
				t.Errorf("year shown %q, want the current one", got)
			}
			// Every chart fits the phone's width, in Arabic its bars start at the right, and its words are drawn in
			// the text colour on the page's white, clear of every bar: what axe-core leaves to a human (it cannot
			// tell the background of text inside an SVG) is checked here.
			var layout struct {
				Charts, TooWide, Texts, OffColour, OnBars int
				BarsFromRight                             bool
			}
			page.Eval(t, `(() => {
				const svgs = [...document.querySelectorAll("main svg[role=img]")];
				const bar = document.querySelector("#stats-measures-chart-title").closest("svg").querySelector("rect");
				const box = bar.getBoundingClientRect(), chart = bar.ownerSVGElement.getBoundingClientRect();
				const texts = [...document.querySelectorAll("main svg[role=img] text")];
				const rects = [...document.querySelectorAll("main svg[role=img] rect")].map(r => r.getBoundingClientRect());
				// the middle half of a text's box: fonts of Arabic script reserve much room above and below the letters
				const overlaps = (a, b) => { const q = (a.bottom - a.top) / 4;
					return a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top + q < b.bottom && b.top < a.bottom - q; };
				return {Charts: svgs.length,
					TooWide: svgs.filter(s => s.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5 ||
						s.getBoundingClientRect().left < -0.5).length,
					Texts: texts.length,
					OffColour: texts.filter(x => getComputedStyle(x).fill !== "rgb(26, 26, 26)").length +
						(getComputedStyle(document.body).backgroundColor === "rgb(255, 255, 255)" ? 0 : 1000),
					OnBars: texts.filter(x => rects.some(r => overlaps(x.getBoundingClientRect(), r))).length,
					BarsFromRight: Math.abs(box.right - chart.right) < 1};
			})()`, &layout)
			if layout.Charts != 5 || layout.TooWide != 0 || layout.Texts < 40 || layout.OffColour != 0 || layout.OnBars != 0 ||
				layout.BarsFromRight != (lang.dir == "rtl") {
				t.Errorf("charts %+v", layout)
			}

			page.SetValue(t, "#anno", "2025")
			check(http.StatusOK, page.Submit(t, "#anno"))
			shot("2025")
			if !strings.HasSuffix(page.Location(t), "/backoffice/statistiche?anno=2025") || selectedYear(t, page) != "2025" {
				t.Fatalf("after choosing 2025: %s", page.Location(t))
			}
			if cells := page.Text(t, "#stats-measures tbody tr"); !strings.Contains(cells, "1") || strings.Contains(cells, "3") {
				t.Errorf("2025's first row %q", cells)
			}
		})
	}
}

func selectedYear(t *testing.T, page *browsertest.Page) string {
	t.Helper()
	var v string
	page.Eval(t, `document.querySelector("#anno").value`, &v)
	return v
}
