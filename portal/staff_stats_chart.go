package portal

import (
	"math"
	"strings"
	"unicode"
)

// Charts of the statistics page: horizontal bar charts computed here and drawn by the template as inline SVG
// (views/templates/_stats_chart.html), with no JavaScript and no chart library. A group (a measure, a comune)
// has its name on a line of its own, wrapped to the chart's width, and one bar per series under it; every bar
// says what it is and how many in words beside it ("Ammesse 12"), so nothing depends on telling colours apart.
//
// The chart is drawn 320 units wide and shown at that size in CSS pixels, shrinking on a narrower phone
// (class mw-100): its 13 px text stays 13 px on every screen, where width="100%" would blow it up to 20 px and
// more on a desktop. The numbers of the chart are also in the table that follows it.

const (
	chartWidth    = 320
	chartFontSize = 13.0
	chartLineH    = 17 // one line of a group's name
	chartBarH     = 14
	chartBarGap   = 5
	chartGroupGap = 12
	chartPad      = 6 // between a bar's end and its words
)

// seriesFills are the bars' colours, each at least 4.5:1 against white (WCAG asks 3:1 for graphics): blue for
// the first series (submitted), brown for the second (admitted), green for the third (funded).
var seriesFills = []string{"#0066cc", "#995c00", "#00805a"}

// chartGroup is one group of bars: a label and a bar per series.
type chartGroup struct {
	Label string
	Bars  []chartValue
}

// chartValue is one bar: its length is Value against the chart's largest; Text is what it says beside it.
type chartValue struct {
	Value float64
	Text  string
}

// chart is a drawn chart, ready for the template: every position is computed, the template only writes them.
type chart struct {
	ID            string // prefix of the title's and description's IDs
	Title, Desc   string
	Width, Height int
	Dir           string // ltr or rtl: right-to-left charts grow from the right, their text anchored there
	Texts         []chartText
	Bars          []chartBar
}

type chartText struct {
	X, Y int
	Text string
	Bold bool
}

type chartBar struct {
	X, Y, W, H int
	Fill       string
}

// drawChart lays out groups of bars. desc introduces the description that screen readers read, which then
// lists every group with the words of its bars.
func drawChart(id, title, desc string, groups []chartGroup, rtl bool) chart {
	ch := chart{ID: id, Title: title, Width: chartWidth, Dir: "ltr"}
	if rtl {
		ch.Dir = "rtl"
	}
	// the longest words beside a bar decide how long the longest bar may be
	largest, words := 0.0, 0.0
	for _, g := range groups {
		for _, b := range g.Bars {
			largest = max(largest, b.Value)
			words = max(words, textWidth(b.Text))
		}
	}
	maxBar := max(float64(chartWidth)-words-chartPad, chartWidth/3)
	// x places something w long that starts at offset from the chart's start side.
	x := func(offset int) int {
		if rtl {
			return chartWidth - offset
		}
		return offset
	}
	var summary []string
	y := 0
	for gi, g := range groups {
		if gi > 0 {
			y += chartGroupGap - chartBarGap
		}
		for _, line := range wrapText(g.Label, chartWidth) {
			y += chartLineH
			ch.Texts = append(ch.Texts, chartText{X: x(0), Y: y - 4, Text: line, Bold: true})
		}
		y += 3
		var said []string
		for bi, b := range g.Bars {
			n := 0
			if largest > 0 {
				n = int(math.Floor(b.Value / largest * maxBar))
			}
			if b.Value > 0 && n < 2 {
				n = 2 // a small number still shows a bar
			}
			if n > 0 {
				bx := 0
				if rtl {
					bx = chartWidth - n
				}
				ch.Bars = append(ch.Bars, chartBar{X: bx, Y: y, W: n, H: chartBarH, Fill: seriesFills[bi%len(seriesFills)]})
			}
			ch.Texts = append(ch.Texts, chartText{X: x(n + chartPad), Y: y + 11, Text: b.Text})
			said = append(said, b.Text)
			y += chartBarH + chartBarGap
		}
		summary = append(summary, g.Label+": "+strings.Join(said, ", "))
	}
	ch.Height = max(y, 1)
	ch.Desc = desc
	if len(summary) > 0 {
		ch.Desc += " " + strings.Join(summary, "; ") + "."
	}
	return ch
}

// textWidth estimates how wide a text is drawn at the chart's font size: Chinese characters take a full em, the
// other scripts the portal writes about 0.6 em on average (Titillium Web and the system fonts of Arabic,
// Gurmukhi and Cyrillic), spaces less. It errs on the wide side, so text never runs off the chart.
func textWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		switch {
		case wide(r):
			w += chartFontSize
		case r == ' ':
			w += chartFontSize * 0.3
		default:
			w += chartFontSize * 0.6
		}
	}
	return w
}

func wide(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		(r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xffef)
}

// wrapText breaks a label into lines no wider than width: at spaces, and between any two Chinese characters
// (which need none). A single word wider than the chart gets a line of its own.
func wrapText(s string, width float64) []string {
	type word struct {
		text  string
		space bool // a space came before it
	}
	var words []word
	var cur strings.Builder
	space := false
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, word{cur.String(), space})
			cur.Reset()
			space = false
		}
	}
	for _, r := range s {
		switch {
		case r == ' ':
			flush()
			space = true
		case wide(r):
			flush()
			words = append(words, word{string(r), space})
			space = false
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	var lines []string
	line := ""
	for _, w := range words {
		sep := ""
		if w.space && line != "" {
			sep = " "
		}
		if line != "" && textWidth(line+sep+w.text) > width {
			lines = append(lines, line)
			line, sep = "", ""
		}
		line += sep + w.text
	}
	return append(lines, line)
}
