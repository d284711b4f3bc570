package receipt

import "golang.org/x/text/unicode/bidi"

// The Unicode bidirectional algorithm, reduced to what a receipt line holds: no explicit embeddings or isolates (the
// format characters are dropped in prepare) and no bracket pairing. golang.org/x/text/unicode/bidi gives each rune's
// class but not the resolved levels, which the visual reordering needs.

// rtlBase reports whether a paragraph reads right to left: its first strong letter is Arabic or Hebrew (rules
// P2, P3). Text with no strong letter is left to right, as Italian is.
func rtlBase(text []rune) bool {
	for _, r := range text {
		switch class(r) {
		case bidi.L:
			return false
		case bidi.R, bidi.AL:
			return true
		}
	}
	return false
}

func class(r rune) bidi.Class {
	p, _ := bidi.LookupRune(r)
	return p.Class()
}

// levels resolves the embedding level of each rune of one line (rules W1–W7, N1–N2, I1–I2, L1).
func levels(text []rune, rtl bool) []int {
	n := len(text)
	base, sos := 0, bidi.L
	if rtl {
		base, sos = 1, bidi.R
	}
	t := make([]bidi.Class, n)
	for i, r := range text {
		c := class(r)
		switch c {
		case bidi.L, bidi.R, bidi.AL, bidi.EN, bidi.ES, bidi.ET, bidi.AN, bidi.CS, bidi.NSM, bidi.B, bidi.S, bidi.WS:
		default:
			c = bidi.ON
		}
		t[i] = c
	}
	// W1: a mark takes the class of what it sits on.
	for i := range t {
		if t[i] == bidi.NSM {
			if i == 0 {
				t[i] = sos
			} else {
				t[i] = t[i-1]
			}
		}
	}
	// W2, W3: European digits after Arabic letters are Arabic numbers; AL becomes R.
	last := sos
	for i := range t {
		switch t[i] {
		case bidi.L, bidi.R, bidi.AL:
			last = t[i]
		case bidi.EN:
			if last == bidi.AL {
				t[i] = bidi.AN
			}
		}
	}
	for i := range t {
		if t[i] == bidi.AL {
			t[i] = bidi.R
		}
	}
	// W4: one separator between two numbers of the same kind joins them.
	for i := 1; i+1 < n; i++ {
		switch {
		case t[i] == bidi.ES && t[i-1] == bidi.EN && t[i+1] == bidi.EN:
			t[i] = bidi.EN
		case t[i] == bidi.CS && t[i-1] == bidi.EN && t[i+1] == bidi.EN:
			t[i] = bidi.EN
		case t[i] == bidi.CS && t[i-1] == bidi.AN && t[i+1] == bidi.AN:
			t[i] = bidi.AN
		}
	}
	// W5: terminators (€, %, #) next to European numbers belong to them.
	for i := 0; i < n; i++ {
		if t[i] != bidi.ET {
			continue
		}
		j := i
		for j < n && t[j] == bidi.ET {
			j++
		}
		if (i > 0 && t[i-1] == bidi.EN) || (j < n && t[j] == bidi.EN) {
			for k := i; k < j; k++ {
				t[k] = bidi.EN
			}
		}
		i = j - 1
	}
	// W6, W7.
	last = sos
	for i := range t {
		switch t[i] {
		case bidi.ES, bidi.ET, bidi.CS:
			t[i] = bidi.ON
		case bidi.L, bidi.R:
			last = t[i]
		case bidi.EN:
			if last == bidi.L {
				t[i] = bidi.L
			}
		}
	}
	// N1, N2: neutrals between two strong runs of one direction take it; otherwise the paragraph's.
	strong := func(c bidi.Class) bidi.Class {
		if c == bidi.EN || c == bidi.AN {
			return bidi.R
		}
		return c
	}
	for i := 0; i < n; i++ {
		if !neutralClass(t[i]) {
			continue
		}
		j := i
		for j < n && neutralClass(t[j]) {
			j++
		}
		before, after := sos, sos
		if i > 0 {
			before = strong(t[i-1])
		}
		if j < n {
			after = strong(t[j])
		}
		dir := sos
		if before == after {
			dir = before
		}
		for k := i; k < j; k++ {
			t[k] = dir
		}
		i = j - 1
	}
	// I1, I2.
	lv := make([]int, n)
	for i, c := range t {
		switch {
		case base == 0 && c == bidi.R:
			lv[i] = 1
		case base == 0 && (c == bidi.AN || c == bidi.EN):
			lv[i] = 2
		case base == 1 && c != bidi.R:
			lv[i] = 2
		default:
			lv[i] = base
		}
	}
	// L1: trailing spaces return to the paragraph level.
	for i := n - 1; i >= 0 && text[i] == ' '; i-- {
		lv[i] = base
	}
	return lv
}

func neutralClass(c bidi.Class) bool {
	return c == bidi.ON || c == bidi.WS || c == bidi.S || c == bidi.B
}

// visual reorders one line for display (rule L2) and mirrors brackets inside right-to-left runs (L4). Marks keep
// their logical neighbour: in Arabic they end up drawn before (left of) their letter, which is what the font's
// zero-width marks expect.
func visual(text []rune, rtl bool) []rune {
	lv := levels(text, rtl)
	out := make([]rune, len(text))
	copy(out, text)
	maxLv, minOdd := 0, 3
	for _, l := range lv {
		maxLv = max(maxLv, l)
		if l%2 == 1 {
			minOdd = min(minOdd, l)
		}
	}
	for level := maxLv; level >= minOdd && level > 0; level-- {
		for i := 0; i < len(out); {
			if lv[i] < level {
				i++
				continue
			}
			j := i
			for j < len(out) && lv[j] >= level {
				j++
			}
			for a, b := i, j-1; a < b; a, b = a+1, b-1 {
				out[a], out[b] = out[b], out[a]
				lv[a], lv[b] = lv[b], lv[a]
			}
			i = j
		}
	}
	// lv now follows the visual order.
	for i, r := range out {
		if lv[i]%2 == 1 {
			if m, ok := mirrors[r]; ok {
				out[i] = m
			}
		}
	}
	return out
}

var mirrors = map[rune]rune{
	'(': ')', ')': '(', '[': ']', ']': '[', '{': '}', '}': '{', '<': '>', '>': '<',
	'«': '»', '»': '«', '‹': '›', '›': '‹',
}
