package receipt

import "unicode"

// fpdf draws one glyph per code point and knows no OpenType shaping, so Arabic letters would come out in their
// isolated forms, unjoined. shapeArabic picks each letter's contextual form from the Arabic Presentation Forms
// blocks, which the embedded Noto Sans Arabic maps, and forms the obligatory lam-alef ligatures. Text stays in
// logical order; the bidi pass reverses it for display. Letters missing from the table keep their base form.

// arabicForms holds a letter's presentation forms: isolated, final, initial, medial (0 where none exists:
// right-joining letters have no initial or medial form).
type arabicForms [4]rune

var arabicTable = func() map[rune]arabicForms {
	t := map[rune]arabicForms{}
	dual := func(letter, first rune) { t[letter] = arabicForms{first, first + 1, first + 2, first + 3} }
	right := func(letter, first rune) { t[letter] = arabicForms{first, first + 1, 0, 0} }
	t[0x0621] = arabicForms{0xFE80, 0, 0, 0}                                // hamza joins nothing
	right(0x0622, 0xFE81)                                                   // alef with madda
	right(0x0623, 0xFE83)                                                   // alef with hamza above
	right(0x0624, 0xFE85)                                                   // waw with hamza
	right(0x0625, 0xFE87)                                                   // alef with hamza below
	dual(0x0626, 0xFE89)                                                    // yeh with hamza
	right(0x0627, 0xFE8D)                                                   // alef
	dual(0x0628, 0xFE8F)                                                    // beh
	right(0x0629, 0xFE93)                                                   // teh marbuta
	for i, letter := range []rune{0x062A, 0x062B, 0x062C, 0x062D, 0x062E} { // teh, theh, jeem, hah, khah
		dual(letter, 0xFE95+4*rune(i))
	}
	for i, letter := range []rune{0x062F, 0x0630, 0x0631, 0x0632} { // dal, thal, reh, zain
		right(letter, 0xFEA9+2*rune(i))
	}
	for i := range rune(8) { // seen, sheen, sad, dad, tah, zah, ain, ghain
		dual(0x0633+i, 0xFEB1+4*i)
	}
	for i := range rune(7) { // feh, qaf, kaf, lam, meem, noon, heh
		dual(0x0641+i, 0xFED1+4*i)
	}
	right(0x0648, 0xFEED) // waw
	right(0x0649, 0xFEEF) // alef maksura
	dual(0x064A, 0xFEF1)  // yeh
	// Letters of Persian, Urdu and Pashto names.
	right(0x0671, 0xFB50) // alef wasla
	dual(0x0679, 0xFB66)  // tteh
	dual(0x067E, 0xFB56)  // peh
	dual(0x0686, 0xFB7A)  // tcheh
	right(0x0688, 0xFB88) // ddal
	right(0x0691, 0xFB8C) // rreh
	right(0x0698, 0xFB8A) // jeh
	dual(0x06A4, 0xFB6A)  // veh
	dual(0x06A9, 0xFB8E)  // keheh
	dual(0x06AF, 0xFB92)  // gaf
	right(0x06BA, 0xFB9E) // noon ghunna: only isolated and final forms are encoded
	dual(0x06BE, 0xFBAA)  // heh doachashmee
	right(0x06C0, 0xFBA4) // heh with yeh above
	dual(0x06C1, 0xFBA6)  // heh goal
	dual(0x06CC, 0xFBFC)  // farsi yeh
	right(0x06D2, 0xFBAE) // yeh barree
	right(0x06D3, 0xFBB0) // yeh barree with hamza
	return t
}()

// lamAlef maps the alef that follows a lam to the ligature's isolated form; the final form is the next code point.
var lamAlef = map[rune]rune{0x0622: 0xFEF5, 0x0623: 0xFEF7, 0x0625: 0xFEF9, 0x0627: 0xFEFB}

// joining types of Unicode's ArabicShaping.txt, reduced to what the table needs.
const (
	joinNone        = iota // U: breaks the chain
	joinRight              // R: joins the letter before it only
	joinDual               // D: joins both sides
	joinCausing            // C: tatweel, zero width joiner
	joinTransparent        // T: harakat and other marks, skipped over
)

func joiningType(r rune) int {
	switch {
	case r == 0x0640 || r == 0x200D:
		return joinCausing
	case r >= 0x0600 && r <= 0x06FF && unicode.Is(unicode.Mn, r):
		return joinTransparent
	}
	if f, ok := arabicTable[r]; ok {
		switch {
		case f[2] != 0:
			return joinDual
		case f[1] != 0:
			return joinRight
		}
	}
	return joinNone
}

func shapeArabic(rs []rune) []rune {
	hasArabic := false
	for _, r := range rs {
		if r >= 0x0600 && r <= 0x06FF {
			hasArabic = true
			break
		}
	}
	if !hasArabic {
		return rs
	}
	neighbour := func(i, step int) int {
		for i += step; i >= 0 && i < len(rs); i += step {
			if joiningType(rs[i]) != joinTransparent {
				return i
			}
		}
		return -1
	}
	out := make([]rune, 0, len(rs))
	skip := -1 // index of an alef already drawn inside a lam-alef ligature
	for i, r := range rs {
		if i == skip {
			continue
		}
		t := joiningType(r)
		if t != joinDual && t != joinRight {
			out = append(out, r)
			continue
		}
		p := neighbour(i, -1)
		joinsBefore := p >= 0 && (joiningType(rs[p]) == joinDual || joiningType(rs[p]) == joinCausing)
		n := neighbour(i, +1)
		if r == 0x0644 && n >= 0 {
			if lig, ok := lamAlef[rs[n]]; ok {
				if joinsBefore {
					lig++
				}
				out = append(out, lig)
				skip = n
				continue
			}
		}
		joinsAfter := t == joinDual && n >= 0 && joiningType(rs[n]) != joinNone && joiningType(rs[n]) != joinTransparent
		forms := arabicTable[r]
		form := 0 // isolated
		switch {
		case joinsBefore && joinsAfter:
			form = 3
		case joinsBefore:
			form = 1
		case joinsAfter:
			form = 2
		}
		if forms[form] != 0 {
			r = forms[form]
		}
		out = append(out, r)
	}
	return out
}
