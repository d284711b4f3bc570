package portal

import (
	"strings"
	"testing"
)

// Labels wrap at spaces, or between Chinese characters, and no line is wider than the chart.
func TestStatsChartWrapsLabels(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"Crema", []string{"Crema"}},
		{"Cessazione del rapporto di lavoro (licenziamento, fine del contratto)",
			[]string{"Cessazione del rapporto di lavoro", "(licenziamento, fine del contratto)"}},
		{"受雇工作减少（工时减少、cassa integrazione 停工补贴）",
			[]string{"受雇工作减少（工时减少、cassa integrazione 停", "工补贴）"}},
		{strings.Repeat("x", 60), []string{strings.Repeat("x", 60)}}, // one word longer than the chart keeps its line
		{"", []string{""}},
	} {
		got := wrapText(c.in, chartWidth)
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("wrapText(%q) = %q, want %q", c.in, got, c.want)
		}
		for _, line := range got {
			if textWidth(line) > chartWidth && strings.Contains(line, " ") {
				t.Errorf("line %q is %.0f wide", line, textWidth(line))
			}
		}
	}
}

// Bars are as long as their value against the largest, their words follow them inside the chart, a zero draws
// no bar, right-to-left charts grow from the right, and the description reads every number.
func TestStatsChartLayout(t *testing.T) {
	groups := []chartGroup{
		{Label: "Crema", Bars: []chartValue{{Value: 40, Text: "Presentate: 40"}, {Value: 10, Text: "Ammesse: 10"}}},
		{Label: "Soncino", Bars: []chartValue{{Value: 0, Text: "Presentate: 0"}, {Value: 0.1, Text: "Ammesse: 0,1"}}},
	}
	ltr := drawChart("c", "Titolo", "Grafico.", groups, false)
	if len(ltr.Bars) != 3 {
		t.Fatalf("bars %+v", ltr.Bars)
	}
	longest, quarter, tiny := ltr.Bars[0], ltr.Bars[1], ltr.Bars[2]
	if longest.X != 0 || quarter.W*4 < longest.W-4 || quarter.W*4 > longest.W+4 || tiny.W != 2 {
		t.Errorf("bar lengths %+v", ltr.Bars)
	}
	for _, tx := range ltr.Texts {
		if tx.Bold {
			continue
		}
		if end := float64(tx.X) + textWidth(tx.Text); end > chartWidth {
			t.Errorf("%q ends at %.0f, past the chart", tx.Text, end)
		}
	}
	if ltr.Texts[1].X != longest.W+chartPad || ltr.Texts[1].Text != "Presentate: 40" {
		t.Errorf("words of the longest bar %+v", ltr.Texts[1])
	}
	if ltr.Height <= tiny.Y+tiny.H || ltr.Dir != "ltr" {
		t.Errorf("height %d, dir %s", ltr.Height, ltr.Dir)
	}
	if want := "Grafico. Crema: Presentate: 40, Ammesse: 10; Soncino: Presentate: 0, Ammesse: 0,1."; ltr.Desc != want {
		t.Errorf("desc %q", ltr.Desc)
	}

	rtl := drawChart("c", "Titolo", "Grafico.", groups, true)
	if rtl.Dir != "rtl" || rtl.Bars[0].X+rtl.Bars[0].W != chartWidth || rtl.Texts[0].X != chartWidth ||
		rtl.Texts[1].X != chartWidth-longest.W-chartPad {
		t.Errorf("right-to-left %+v %+v", rtl.Bars[0], rtl.Texts[:2])
	}

	empty := drawChart("c", "Titolo", "Grafico.", []chartGroup{{Label: "Crema", Bars: []chartValue{{Value: 0, Text: "0"}}}}, false)
	if len(empty.Bars) != 0 || empty.Texts[1].X != chartPad {
		t.Errorf("all zeros %+v", empty)
	}
}
