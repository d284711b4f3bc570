package receipt

import (
	"fmt"
	"strings"

	"codeberg.org/go-pdf/fpdf"
)

// doc lays the receipt out on fpdf pages. fpdf's own MultiCell wraps text in one font only; names and answers mix
// Latin, Cyrillic, Arabic and Gurmukhi in one line, so doc wraps, orders (bidi) and switches faces itself, and
// moves to a new page itself, keeping rows whole when they fit on one.
type doc struct {
	pdf        *fpdf.Fpdf // nil on the counting pass, which only lays out
	page       int        // pages started so far, on the counting pass
	fs         *fontSet
	r          *Receipt
	totalPages int // 0 on the counting pass
	y          float64
	replaced   bool           // some text was replaced by a placeholder
	used       map[*face]bool // faces drawn with, so the final pass embeds no unused font
	continued  string         // title of the section being drawn, repeated on the pages it runs onto
}

type style struct {
	size  float64 // points
	bold  bool
	color rgb
}

const ptMM = 25.4 / 72

// step is the distance between baselines for a style; baseline is the offset of the first baseline below the top of
// a line box.
func (s style) step() float64     { return s.size * ptMM * 1.42 }
func (s style) baseline() float64 { return s.size * ptMM * 1.08 }

// line is one wrapped line of text in logical order.
type line struct {
	text []rune
	rtl  bool // its paragraph reads right to left: drawn right-aligned
}

func (d *doc) face(r rune, bold bool) *face {
	if f := d.fs.faceFor(r, bold); f != nil {
		return f
	}
	if bold {
		return d.fs.bold
	}
	return d.fs.regular
}

func (d *doc) width(r rune, st style) float64 {
	f := d.face(r, st.bold)
	return f.advance[r] * st.size * ptMM
}

func (d *doc) runesWidth(rs []rune, st style) float64 {
	w := 0.0
	for _, r := range rs {
		w += d.width(r, st)
	}
	return w
}

// lines prepares and wraps caller text to maxW millimetres.
func (d *doc) lines(s string, st style, maxW float64) []line {
	var out []line
	for _, p := range paragraphs(s) {
		rs, replaced := d.fs.prepare(p)
		d.replaced = d.replaced || replaced
		rtl := rtlBase(rs)
		for _, l := range wrap(rs, maxW, func(r rune) float64 { return d.width(r, st) }) {
			out = append(out, line{l, rtl})
		}
	}
	return out
}

// draw puts one line on the page with its baseline at y, in a column from x, w wide: at the column's start, or at
// its end when right is set or the paragraph reads right to left.
func (d *doc) draw(l line, st style, x, y, w float64, right bool) {
	vis := visual(l.text, l.rtl)
	if right || l.rtl {
		x += w - d.runesWidth(vis, st)
	}
	for i := 0; i < len(vis); {
		f := d.face(vis[i], st.bold)
		j := i + 1
		for j < len(vis) && d.face(vis[j], st.bold) == f {
			j++
		}
		d.used[f] = true
		if d.pdf == nil {
			i = j
			continue
		}
		d.pdf.SetTextColor(st.color.r, st.color.g, st.color.b)
		d.pdf.SetFont(f.family, f.style, st.size)
		d.pdf.Text(x, y, string(vis[i:j]))
		x += d.runesWidth(vis[i:j], st)
		i = j
	}
}

// text draws the first line of s only: for header and footer strings, which are short by construction.
func (d *doc) text(s string, st style, x, y, w float64, right bool) {
	if ls := d.lines(s, st, w); len(ls) > 0 {
		d.draw(ls[0], st, x, y, w, right)
	}
}

func (d *doc) rule(y float64, c rgb, width float64) {
	if d.pdf == nil {
		return
	}
	d.pdf.SetDrawColor(c.r, c.g, c.b)
	d.pdf.SetLineWidth(width)
	d.pdf.Line(marginX, y, marginX+contentW, y)
}

func (d *doc) fill(x, y, w, h float64, c rgb) {
	if d.pdf == nil {
		return
	}
	d.pdf.SetFillColor(c.r, c.g, c.b)
	d.pdf.Rect(x, y, w, h, "F")
}

// mono draws ASCII in the PDF core font Courier.
func (d *doc) mono(s string, st style, x, y float64) {
	if d.pdf == nil {
		return
	}
	d.pdf.SetFont("Courier", "", st.size)
	d.pdf.SetTextColor(st.color.r, st.color.g, st.color.b)
	d.pdf.Text(x, y, s)
}

// newPage ends the page (fpdf calls footer, then header) and starts the next; the counting pass calls them itself,
// so that both passes see the same text.
func (d *doc) newPage() {
	if d.pdf != nil {
		d.pdf.AddPage()
	} else {
		if d.page > 0 {
			d.footer()
		}
		d.page++
		d.header()
	}
	d.y = bodyTop
	if d.continued != "" {
		st := style{9, true, colMuted}
		d.text(d.continued+" (segue)", st, marginX, d.y+st.baseline(), contentW, false)
		d.y += st.step() + 1
	}
}

func (d *doc) atTop() bool { return d.y <= bodyTop+0.01 }

// header and footer repeat on every page (fpdf calls them from AddPage and Close).
func (d *doc) header() {
	d.text("Comunità Sociale Cremasca – Smart Services", style{10, true, colAccent}, marginX, 15, contentW*0.62, false)
	d.text("Protocollo n. "+d.r.Protocol, style{9, false, colMuted}, marginX+contentW*0.62, 15, contentW*0.38, true)
	d.rule(18.5, colAccent, 0.4)
}

func (d *doc) footer() {
	d.rule(pageH-17, colRule, 0.2)
	st := style{7.5, false, colMuted}
	left := "Ricevuta generata automaticamente dal portale Smart Services di Comunità Sociale Cremasca."
	if v := strings.TrimSpace(d.r.FormVersion); v != "" {
		left += " Versione del modulo: " + v + "."
	}
	pageW := 28.0
	for i, l := range d.lines(left, st, contentW-pageW-4) {
		if i == 2 {
			break
		}
		d.draw(l, st, marginX, pageH-13+float64(i)*st.step(), contentW-pageW-4, false)
	}
	total := "…"
	if d.totalPages > 0 {
		total = fmt.Sprint(d.totalPages)
	}
	page := d.page
	if d.pdf != nil {
		page = d.pdf.PageNo()
	}
	d.text(fmt.Sprintf("Pagina %d di %s", page, total), style{8, true, colMuted}, marginX+contentW-pageW, pageH-13, pageW, true)
}

// title draws the heading block of the first page: what this is, for which measure, and the protocol box.
func (d *doc) title() {
	d.y += 2
	d.block("Ricevuta di presentazione della domanda", style{17, true, colText}, marginX, contentW)
	d.y += 1
	if d.r.Measure != "" {
		d.block(d.r.Measure, style{12.5, true, colAccent}, marginX, contentW)
	}
	if d.r.CallTitle != "" {
		d.block(d.r.CallTitle, style{10, false, colMuted}, marginX, contentW)
	}

	top, h := d.y+4, 25.0
	half := contentW / 2
	d.fill(marginX, top, contentW, h, colTint)
	d.fill(marginX, top, 1.2, h, colAccent)

	label := style{8.5, false, colMuted}
	d.text("Numero di protocollo", label, marginX+5, top+6.5, half-8, false)
	prot := style{20, true, colText}
	for prot.size > 10 && d.runesWidth([]rune(d.r.Protocol), prot) > half-8 {
		prot.size -= 1
	}
	d.text(d.r.Protocol, prot, marginX+5, top+17, half-8, false)

	day, clock, zone := receivedAt(d.r.ReceivedAt)
	x := marginX + half + 2
	d.text("Data e ora di ricezione", label, x, top+6.5, half-4, false)
	d.text(day, style{11.5, true, colText}, x, top+12.5, half-4, false)
	d.text("ore "+clock, style{11.5, true, colText}, x, top+17.5, half-4, false)
	d.text(zone, style{8, false, colMuted}, x, top+22, half-4, false)
	d.y = top + h + 2
}

// block draws a wrapped paragraph across the page, breaking pages between its lines.
func (d *doc) block(s string, st style, x, w float64) {
	for _, l := range d.lines(s, st, w) {
		if d.y+st.step() > bodyBottom {
			d.newPage()
		}
		d.draw(l, st, x, d.y+st.baseline(), w, false)
		d.y += st.step()
	}
}

// heading starts a section, on a new page when it and the first need lines of what follows would not fit.
func (d *doc) heading(title string, need float64) {
	st := style{11.5, true, colAccent}
	ls := d.lines(title, st, contentW)
	h := 6 + float64(len(ls))*st.step() + 1
	d.continued = ""
	if d.y+h+need > bodyBottom {
		d.newPage()
	}
	if !d.atTop() {
		d.y += 6
	}
	for _, l := range ls {
		d.draw(l, st, marginX, d.y+st.baseline(), contentW, false)
		d.y += st.step()
	}
	d.y += 0.5
	d.rule(d.y, colAccent, 0.3)
	d.continued = title
}

var (
	labelStyle = style{8.5, false, colMuted}
	valueStyle = style{10, false, colText}
)

const rowStep = 4.9 // label and value lines share baselines

func (d *doc) rowLines(label, value string) (ll, vl []line) {
	if strings.TrimSpace(value) == "" {
		value = "—"
	}
	return d.lines(label, labelStyle, labelW), d.lines(value, valueStyle, valueW)
}

// rowHeight is the height of the first lines of a row that must stay with a heading.
func (d *doc) rowHeight(label, value string) float64 {
	ll, vl := d.rowLines(label, value)
	return float64(min(max(len(ll), len(vl)), 3))*rowStep + 2*rowPad
}

// row draws a question and its answer side by side. A row that fits on a page is never split; a longer one
// continues on the next page.
func (d *doc) row(label, value string) {
	ll, vl := d.rowLines(label, value)
	n := max(len(ll), len(vl))
	if h := float64(n)*rowStep + 2*rowPad; d.y+h > bodyBottom && h <= bodyBottom-bodyTop {
		d.newPage()
	}
	labels := ll
	for i := 0; i < n; {
		fit := int((bodyBottom - d.y - 2*rowPad) / rowStep)
		if fit < 1 {
			d.newPage()
			continue
		}
		k := min(n-i, fit)
		top := d.y + rowPad
		for j := range k {
			base := top + float64(j)*rowStep + valueStyle.baseline()
			if j < len(labels) {
				d.draw(labels[j], labelStyle, marginX, base, labelW, false)
			}
			if i+j < len(vl) {
				d.draw(vl[i+j], valueStyle, marginX+labelW+gutter, base, valueW, false)
			}
		}
		d.y = top + float64(k)*rowStep + rowPad
		d.rule(d.y, colRule, 0.2)
		i += k
		if i < n {
			d.newPage()
			// The value goes on; the label is said again, once.
			labels = d.lines(label+" (segue)", labelStyle, labelW)
		}
	}
}

func (d *doc) section(s Section) {
	need := 0.0
	if len(s.Rows) > 0 {
		need = d.rowHeight(s.Rows[0].Label, s.Rows[0].Value)
	}
	d.heading(s.Title, need)
	for _, row := range s.Rows {
		d.row(row.Label, row.Value)
	}
}

func personText(p Person) string {
	s := strings.TrimSpace(p.Name)
	if cf := strings.TrimSpace(p.FiscalCode); cf != "" {
		s += "\nCodice fiscale " + strings.ToUpper(cf)
	}
	return s
}

func samePerson(a, b Person) bool {
	if b == (Person{}) {
		return true
	}
	if a.FiscalCode != "" && b.FiscalCode != "" {
		return strings.EqualFold(strings.TrimSpace(a.FiscalCode), strings.TrimSpace(b.FiscalCode))
	}
	return a == b
}

func (d *doc) people() {
	r := d.r
	d.heading("Richiedente e beneficiario", d.rowHeight("Richiedente", personText(r.Applicant)))
	d.row("Richiedente", personText(r.Applicant))
	if samePerson(r.Applicant, r.Beneficiary) {
		d.row("Beneficiario", "La stessa persona del richiedente")
		return
	}
	d.row("Beneficiario", personText(r.Beneficiary))
	if strings.TrimSpace(r.Relationship) != "" {
		d.row("Rapporto con il beneficiario", r.Relationship)
	}
}

// The attachments table: number, document, size, checksum.
var (
	attCols     = [4]float64{9, 79, 26, contentW - 9 - 79 - 26}
	attPad      = 1.8
	hashStyle   = style{8, false, colText}
	hashStep    = 3.9
	attHeadSt   = style{8.5, true, colText}
	attTypeSt   = style{9.5, true, colText}
	attFileSt   = style{8.5, false, colMuted}
	attSizeSt   = style{9, false, colText}
	attExactSt  = style{7.5, false, colMuted}
	attHeaderH  = 7.0
	courierChar = 8 * ptMM * 0.6 // Courier advances 600/1000 em
)

func (d *doc) attachmentHeader() {
	d.fill(marginX, d.y, contentW, attHeaderH, colTint)
	x := marginX
	for i, h := range []string{"N.", "Documento", "Dimensione", "Impronta SHA-256"} {
		d.text(h, attHeadSt, x+attPad, d.y+4.8, attCols[i]-2*attPad, false)
		x += attCols[i]
	}
	d.y += attHeaderH
}

// hashLines splits the hexadecimal checksum into as many equal lines as its column needs, in groups of 8 digits,
// so that it can be read out and compared a group at a time.
func hashLines(sum string) []string {
	perLine := int((attCols[3] - 2*attPad) / courierChar)
	perLine -= perLine % 8
	perLine = max(perLine, 8)
	sum = strings.ToLower(sum)
	var out []string
	for len(sum) > perLine {
		out = append(out, sum[:perLine])
		sum = sum[perLine:]
	}
	return append(out, sum)
}

func (d *doc) attachments() {
	a := d.r.Attachments
	first := attHeaderH
	if len(a) > 0 {
		first += 14
	}
	d.heading(fmt.Sprintf("Allegati (%d)", len(a)), first)
	if len(a) == 0 {
		d.y += 2
		d.block("Nessun allegato.", valueStyle, marginX, contentW)
		return
	}
	d.continued = "Allegati"
	d.y += 1.5
	d.attachmentHeader()
	for i, att := range a {
		docW := attCols[1] - 2*attPad
		typeL := d.lines(att.Type, attTypeSt, docW)
		fileL := d.lines(att.FileName, attFileSt, docW)
		size, exact := formatSize(att.Size)
		hash := hashLines(att.SHA256)
		docH := float64(len(typeL))*attTypeSt.step() + float64(len(fileL))*attFileSt.step()
		sizeH := attSizeSt.step() + attExactSt.step()
		h := max(docH, sizeH, float64(len(hash))*hashStep+1) + 2*attPad
		if d.y+h > bodyBottom {
			d.newPage()
			d.attachmentHeader()
		}
		top := d.y + attPad
		x := marginX
		d.text(fmt.Sprintf("%d", i+1), attSizeSt, x+attPad, top+attTypeSt.baseline(), attCols[0]-2*attPad, false)
		x += attCols[0]
		y := top
		for _, l := range typeL {
			d.draw(l, attTypeSt, x+attPad, y+attTypeSt.baseline(), docW, false)
			y += attTypeSt.step()
		}
		for _, l := range fileL {
			d.draw(l, attFileSt, x+attPad, y+attFileSt.baseline(), docW, false)
			y += attFileSt.step()
		}
		x += attCols[1]
		d.text(size, attSizeSt, x+attPad, top+attTypeSt.baseline(), attCols[2]-2*attPad, false)
		if exact != "" {
			d.text("("+exact+")", attExactSt, x+attPad, top+attTypeSt.baseline()+attSizeSt.step(), attCols[2]-2*attPad, false)
		}
		x += attCols[2]
		// The checksum is plain ASCII hex: the PDF core Courier draws it, no embedded monospace font needed.
		for j, l := range hash {
			d.mono(l, hashStyle, x+attPad, top+attTypeSt.baseline()+float64(j)*hashStep)
		}
		d.y += h
		d.rule(d.y, colRule, 0.2)
	}
}

func (d *doc) declarations() {
	if len(d.r.Declarations) == 0 {
		return
	}
	intro := "Dichiarazioni rese dal richiedente al momento della presentazione della domanda:"
	d.heading("Dichiarazioni", 2*valueStyle.step()+6)
	d.y += 2
	d.block(intro, labelStyle, marginX, contentW)
	st := style{9.5, false, colText}
	indent := 5.0
	for _, decl := range d.r.Declarations {
		ls := d.lines(decl, st, contentW-indent)
		// A declaration is kept on one page when it fits on one: it is read as a whole.
		if h := 1.5 + float64(len(ls))*st.step(); d.y+h > bodyBottom && h <= bodyBottom-bodyTop {
			d.newPage()
		}
		d.y += 1.5
		for i, l := range ls {
			if d.y+st.step() > bodyBottom {
				d.newPage()
			}
			if i == 0 {
				d.text("•", st, marginX+1, d.y+st.baseline(), indent, false)
			}
			d.draw(l, st, marginX+indent, d.y+st.baseline(), contentW-indent, false)
			d.y += st.step()
		}
	}
}

// closingNote says what the receipt proves and what it does not, and explains any placeholder.
func (d *doc) closingNote() {
	note := "La presente ricevuta attesta che la domanda è stata ricevuta nella data e nell’ora indicate, con le " +
		"risposte e gli allegati elencati; l’impronta SHA-256 permette di verificare che ciascun file non sia stato " +
		"modificato. La ricevuta non costituisce accoglimento della domanda: l’esito sarà comunicato nell’area " +
		"personale del portale."
	d.continued = ""
	if d.replaced {
		note += "\nI testi tra parentesi quadre sostituiscono caratteri che questo documento non può riprodurre: " +
			"fa fede la domanda registrata nel portale."
	}
	st := style{8.5, false, colMuted}
	ls := d.lines(note, st, contentW)
	if h := 8 + float64(len(ls))*st.step(); d.y+h > bodyBottom {
		d.newPage()
	} else {
		d.y += 6
		d.rule(d.y, colRule, 0.2)
		d.y += 2
	}
	for _, l := range ls {
		d.draw(l, st, marginX, d.y+st.baseline(), contentW, false)
		d.y += st.step()
	}
}
