package receipt

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Placeholders stand for runs of text that no embedded face can draw. A receipt must never show empty boxes in
// place of a name: the reader is told what is missing and where the original is. CJK fonts are many megabytes, so
// Chinese, Japanese and Korean are the usual case; Hebrew, Devanagari, Ethiopic and others fall in the generic one.
const (
	placeholderChinese  = "[testo in caratteri cinesi: vedi la domanda nel portale]"
	placeholderJapanese = "[testo in caratteri giapponesi: vedi la domanda nel portale]"
	placeholderKorean   = "[testo in caratteri coreani: vedi la domanda nel portale]"
	placeholderOther    = "[caratteri non riproducibili: vedi la domanda nel portale]"
)

// prepare turns caller text into runes the faces can draw, in logical order: composed (NFC, so a Romanian ș typed
// as s + comma below becomes one glyph), invisible format characters dropped, undrawable runs replaced by a
// placeholder, Arabic letters shaped into their contextual forms and Gurmukhi pre-base vowels moved before their
// consonant. It reports whether a placeholder was used.
func (fs *fontSet) prepare(s string) ([]rune, bool) {
	s = norm.NFC.String(s)
	in := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case r == '\t' || r == '\u00a0':
			in = append(in, ' ')
		case r == '\u200c' || r == '\u200d':
			in = append(in, r) // joiners steer Arabic shaping, dropped after it
		case unicode.Is(unicode.Cf, r) || unicode.IsControl(r):
			// bidi controls, BOM, soft hyphen and the like: nothing to draw, and our bidi pass decides direction
		default:
			in = append(in, r)
		}
	}
	out, replaced := fs.replaceUndrawable(in)
	out = shapeArabic(out)
	out = reorderGurmukhi(out)
	kept := out[:0]
	for _, r := range out {
		if r != '\u200c' && r != '\u200d' {
			kept = append(kept, r)
		}
	}
	return kept, replaced
}

func (fs *fontSet) replaceUndrawable(in []rune) ([]rune, bool) {
	undrawable := func(r rune) bool {
		return r != '\u200c' && r != '\u200d' && !unicode.IsSpace(r) && !fs.drawable(r)
	}
	neutral := func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || r == '\u200c' || r == '\u200d'
	}
	var out []rune
	replaced := false
	for i := 0; i < len(in); i++ {
		if !undrawable(in[i]) {
			out = append(out, in[i])
			continue
		}
		// Swallow the spaces and punctuation between undrawable letters, so "王 伟" is one placeholder, not two.
		end := i
		for k := i + 1; k < len(in); k++ {
			if undrawable(in[k]) {
				end = k
			} else if !neutral(in[k]) {
				break
			}
		}
		out = append(out, []rune(placeholderFor(in[i:end+1]))...)
		replaced = true
		i = end
	}
	return out, replaced
}

func placeholderFor(run []rune) string {
	var han, kana, hangul bool
	for _, r := range run {
		switch {
		case unicode.In(r, unicode.Hiragana, unicode.Katakana):
			kana = true
		case unicode.Is(unicode.Hangul, r):
			hangul = true
		case unicode.In(r, unicode.Han, unicode.Bopomofo):
			han = true
		}
	}
	switch {
	case kana:
		return placeholderJapanese
	case hangul:
		return placeholderKorean
	case han:
		return placeholderChinese
	}
	return placeholderOther
}

// reorderGurmukhi moves the vowel sign i (sihari, U+0A3F), written after its consonant but drawn before it, in front
// of its consonant cluster. A shaping engine would do this; fpdf draws code points in order, and it is the only
// reordering Gurmukhi needs. Other vowel signs and marks have zero advance in the font and sit on their consonant.
func reorderGurmukhi(rs []rune) []rune {
	isCons := func(r rune) bool { return r >= 0x0A15 && r <= 0x0A39 || r >= 0x0A59 && r <= 0x0A5E }
	for i, r := range rs {
		if r != 0x0A3F {
			continue
		}
		j := i - 1
		if j >= 0 && rs[j] == 0x0A3C { // nukta
			j--
		}
		if j < 0 || !isCons(rs[j]) {
			continue
		}
		// A subjoined consonant (virama + consonant) belongs to the same cluster.
		for j >= 2 && rs[j-1] == 0x0A4D && isCons(rs[j-2]) {
			j -= 2
		}
		copy(rs[j+1:i+1], rs[j:i])
		rs[j] = 0x0A3F
	}
	return rs
}

// wrap breaks a paragraph into lines no wider than maxW, at spaces, or inside a word that alone is too wide (file
// names, IBANs). width gives a rune's advance.
func wrap(text []rune, maxW float64, width func(rune) float64) [][]rune {
	var lines [][]rune
	var line []rune
	lineW := 0.0
	words := splitWords(text)
	for _, w := range words {
		ww := 0.0
		for _, r := range w {
			ww += width(r)
		}
		spaceW := 0.0
		if len(line) > 0 {
			spaceW = width(' ')
		}
		if lineW+spaceW+ww <= maxW {
			if len(line) > 0 {
				line = append(line, ' ')
			}
			line = append(line, w...)
			lineW += spaceW + ww
			continue
		}
		if len(line) > 0 {
			lines = append(lines, line)
			line, lineW = nil, 0
		}
		if ww <= maxW {
			line, lineW = append(line, w...), ww
			continue
		}
		// Too long for any line (a file name, a URL): break after a hyphen, underscore, dot or slash when one
		// is at hand, else between characters, never before a combining mark.
		for _, part := range splitAfterPunct(w) {
			pw := 0.0
			for _, r := range part {
				pw += width(r)
			}
			if lineW+pw > maxW && len(line) > 0 {
				lines = append(lines, line)
				line, lineW = nil, 0
			}
			for _, r := range part {
				rw := width(r)
				if lineW+rw > maxW && len(line) > 0 && !isMark(r) {
					lines = append(lines, line)
					line, lineW = nil, 0
				}
				line = append(line, r)
				lineW += rw
			}
		}
	}
	if len(line) > 0 || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}

// splitAfterPunct cuts a word after each hyphen, underscore, dot or slash: where a long file name may break.
func splitAfterPunct(w []rune) [][]rune {
	var parts [][]rune
	start := 0
	for i, r := range w {
		if strings.ContainsRune("-_./\\", r) && i+1 < len(w) {
			parts = append(parts, w[start:i+1])
			start = i + 1
		}
	}
	return append(parts, w[start:])
}

func splitWords(text []rune) [][]rune {
	var words [][]rune
	start := -1
	for i, r := range text {
		if r == ' ' {
			if start >= 0 {
				words = append(words, text[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		words = append(words, text[start:])
	}
	return words
}

func isMark(r rune) bool { return unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc) }

// paragraphs splits caller text at line breaks; blank lines are kept as empty paragraphs, trailing ones dropped.
func paragraphs(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimRight(s, "\n ")
	return strings.Split(s, "\n")
}
