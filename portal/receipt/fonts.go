package receipt

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"math"
	"sync"
)

// The fonts travel inside the binary: a receipt must look the same on every machine and never depend on what a
// server happens to have installed. fonts/README.md says where they come from and what they cover.
var (
	//go:embed fonts/NotoSans-Regular.ttf
	ttfSansRegular []byte
	//go:embed fonts/NotoSans-Bold.ttf
	ttfSansBold []byte
	//go:embed fonts/NotoSansArabic-Regular.ttf
	ttfArabic []byte
	//go:embed fonts/NotoSansGurmukhi-Regular.ttf
	ttfGurmukhi []byte
)

// face is one embedded font, the runes it can draw and their advances.
type face struct {
	family, style string // names registered with fpdf
	data          []byte
	advance       map[rune]float64 // in em, rounded to 1/1000 as fpdf writes them
}

func (f *face) has(r rune) bool {
	_, ok := f.advance[r]
	return ok
}

// fontSet is the parsed set of faces, shared read-only by every Render call.
type fontSet struct {
	regular, bold, arabic, gurmukhi *face
}

var loadFonts = sync.OnceValues(func() (*fontSet, error) {
	mk := func(family, style string, data []byte) (*face, error) {
		adv, err := advances(data)
		if err != nil {
			return nil, errors.New("receipt: font " + family + " " + style + ": " + err.Error())
		}
		return &face{family: family, style: style, data: data, advance: adv}, nil
	}
	var fs fontSet
	var err error
	if fs.regular, err = mk("NotoSans", "", ttfSansRegular); err != nil {
		return nil, err
	}
	if fs.bold, err = mk("NotoSans", "B", ttfSansBold); err != nil {
		return nil, err
	}
	if fs.arabic, err = mk("NotoSansArabic", "", ttfArabic); err != nil {
		return nil, err
	}
	if fs.gurmukhi, err = mk("NotoSansGurmukhi", "", ttfGurmukhi); err != nil {
		return nil, err
	}
	return &fs, nil
})

// faceFor picks the face that draws r: the text face when it can, else a script face. It returns nil when no
// embedded face has the glyph. Only the Basic Multilingual Plane counts: fpdf maps text through the fonts' format 4
// cmap, which cannot reach beyond it.
func (fs *fontSet) faceFor(r rune, bold bool) *face {
	if r > 0xFFFF {
		return nil
	}
	main := fs.regular
	if bold {
		main = fs.bold
	}
	for _, f := range []*face{main, fs.arabic, fs.gurmukhi} {
		if f.has(r) {
			return f
		}
	}
	return nil
}

// drawable reports whether some embedded face has r, in both weights' fallbacks.
func (fs *fontSet) drawable(r rune) bool {
	return fs.faceFor(r, false) != nil && fs.faceFor(r, true) != nil
}

// advances maps each rune of the font's Unicode BMP cmap (platform 3, encoding 1, format 4: the table fpdf reads,
// so what we call drawable is what it draws) to its advance width from hmtx, rounded as fpdf rounds it.
// Measuring here rather than through fpdf keeps measurement out of the page content stream.
func advances(ttf []byte) (map[rune]float64, error) {
	be := binary.BigEndian
	u16 := func(off int) (int, bool) {
		if off < 0 || off+2 > len(ttf) {
			return 0, false
		}
		return int(be.Uint16(ttf[off:])), true
	}
	numTables, ok := u16(4)
	if !ok {
		return nil, errors.New("truncated header")
	}
	tables := map[string]int{}
	for i := range numTables {
		rec := 12 + 16*i
		if rec+16 > len(ttf) {
			return nil, errors.New("truncated table directory")
		}
		tables[string(ttf[rec:rec+4])] = int(be.Uint32(ttf[rec+8:]))
	}
	head, ok1 := tables["head"]
	hhea, ok2 := tables["hhea"]
	hmtx, ok3 := tables["hmtx"]
	cmap, ok4 := tables["cmap"]
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, errors.New("missing head, hhea, hmtx or cmap table")
	}
	unitsPerEm, ok1 := u16(head + 18)
	numHMetrics, ok2 := u16(hhea + 34)
	if !ok1 || !ok2 || unitsPerEm == 0 || numHMetrics == 0 {
		return nil, errors.New("bad head or hhea table")
	}
	advance := func(glyph int) (float64, bool) {
		a, ok := u16(hmtx + 4*min(glyph, numHMetrics-1))
		return math.Round(float64(a)*1000/float64(unitsPerEm)) / 1000, ok
	}

	n, ok := u16(cmap + 2)
	if !ok {
		return nil, errors.New("truncated cmap")
	}
	sub := -1
	for i := range n {
		rec := cmap + 4 + 8*i
		platform, ok1 := u16(rec)
		encoding, ok2 := u16(rec + 2)
		if !ok1 || !ok2 || rec+8 > len(ttf) {
			return nil, errors.New("truncated cmap records")
		}
		if platform == 3 && encoding == 1 {
			sub = cmap + int(be.Uint32(ttf[rec+4:]))
		}
	}
	if format, ok := u16(sub); !ok || format != 4 {
		return nil, errors.New("no Unicode BMP cmap of format 4")
	}
	segX2, ok := u16(sub + 6)
	if !ok {
		return nil, errors.New("truncated cmap format 4")
	}
	ends := sub + 14
	starts := ends + segX2 + 2
	deltas := starts + segX2
	rangeOffsets := deltas + segX2
	out := map[rune]float64{}
	for s := 0; s < segX2/2; s++ {
		end, ok1 := u16(ends + 2*s)
		start, ok2 := u16(starts + 2*s)
		delta, ok3 := u16(deltas + 2*s)
		ro, ok4 := u16(rangeOffsets + 2*s)
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return nil, errors.New("truncated cmap segments")
		}
		for c := start; c <= end && c != 0xFFFF; c++ {
			glyph := 0
			if ro == 0 {
				glyph = (c + delta) & 0xFFFF
			} else {
				g, ok := u16(rangeOffsets + 2*s + ro + 2*(c-start))
				if !ok {
					return nil, errors.New("truncated glyph index array")
				}
				if g != 0 {
					glyph = (g + delta) & 0xFFFF
				}
			}
			if glyph == 0 {
				continue
			}
			a, ok := advance(glyph)
			if !ok {
				return nil, errors.New("truncated hmtx")
			}
			out[rune(c)] = a
		}
	}
	return out, nil
}
