package forms

import "strings"

// Message IDs of address errors.
const (
	ErrCAPInvalid            = "form.error.cap_invalid"
	ErrComuneOutsideDistrict = "form.error.comune_outside_district"
)

// SubAmbito is one of the six groups of comuni of the Crema district, each with its social services desk.
type SubAmbito struct {
	Code   string // stable key, stored in the database
	Name   string
	Comuni []string // official names, as shown to people
}

// District is the Distretto di Crema: its six sub-ambiti and 48 comuni, the one list of them in the code. The
// grouping follows geography; staff can move a comune to another sub-ambito in the database.
var District = []SubAmbito{
	{"crema", "Crema", []string{"Crema"}},
	{"bagnolo-cremasco", "Bagnolo Cremasco", []string{"Bagnolo Cremasco", "Capergnanica", "Casaletto Ceredano", "Chieve",
		"Credera Rubbiano", "Monte Cremasco", "Montodine", "Moscazzano", "Ripalta Cremasca", "Ripalta Guerina", "Vaiano Cremasco"}},
	{"castelleone", "Castelleone", []string{"Castelleone", "Fiesco", "Gombito", "Izano", "Madignano", "Ripalta Arpina",
		"Salvirola", "Trigolo"}},
	{"pandino", "Pandino", []string{"Agnadello", "Dovera", "Palazzo Pignano", "Pandino", "Rivolta d'Adda", "Spino d'Adda", "Vailate"}},
	{"sergnano", "Sergnano", []string{"Camisano", "Campagnola Cremasca", "Capralba", "Casale Cremasco-Vidolasco",
		"Casaletto Vaprio", "Castel Gabbiano", "Cremosano", "Pianengo", "Pieranica", "Quintano", "Ricengo", "Sergnano",
		"Torlino Vimercati", "Trescore Cremasco"}},
	{"soncino", "Soncino", []string{"Casaletto di Sopra", "Cumignano sul Naviglio", "Genivolta", "Offanengo", "Romanengo",
		"Soncino", "Ticengo"}},
}

// comuneAliases are the short names people still use for comuni formed by merging two villages; each is unique in
// the province, so it cannot point a resident of another district here.
var comuneAliases = map[string]string{
	"Casale Cremasco": "Casale Cremasco-Vidolasco",
	"Vidolasco":       "Casale Cremasco-Vidolasco",
	"Credera":         "Credera Rubbiano",
	"Rubbiano":        "Credera Rubbiano",
	"Cumignano":       "Cumignano sul Naviglio",
	"Torlino":         "Torlino Vimercati",
}

// comuneByKey finds a comune's official name from its comuneKey.
var comuneByKey = func() map[string]string {
	m := map[string]string{}
	for _, s := range District {
		for _, c := range s.Comuni {
			m[comuneKey(c)] = c
		}
	}
	for alias, c := range comuneAliases {
		m[comuneKey(alias)] = c
	}
	return m
}()

// ComuneOf finds a comune of the district by its name as typed — any case, with or without accents, apostrophes,
// dashes or spaces ("rivolta d adda", "RIVOLTA D’ADDA", "Comune di Crema", "Crema (CR)") — and returns its official
// name, or a message ID: ErrRequired when empty, ErrComuneOutsideDistrict when it is not one of the 48.
func ComuneOf(name string) (string, string) {
	if strings.TrimSpace(name) == "" {
		return "", ErrRequired
	}
	if c, ok := comuneByKey[comuneKey(name)]; ok {
		return c, ""
	}
	return "", ErrComuneOutsideDistrict
}

// SubAmbitoOf returns the sub-ambito of a comune given by its official name.
func SubAmbitoOf(comune string) (SubAmbito, bool) {
	for _, s := range District {
		for _, c := range s.Comuni {
			if c == comune {
				return s, true
			}
		}
	}
	return SubAmbito{}, false
}

// comuneKey reduces a name to lower-case ASCII letters and digits, dropping a leading "comune di" and a trailing
// province "CR": two spellings of one comune get one key, and the 48 comuni keep 48 different keys.
func comuneKey(name string) string {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !(r >= 'a' && r <= 'z') && !(r >= '0' && r <= '9') && foldAccent(r) == 0
	})
	if len(words) > 2 && words[0] == "comune" && (words[1] == "di" || words[1] == "del") {
		words = words[2:]
	}
	if len(words) > 1 && words[len(words)-1] == "cr" {
		words = words[:len(words)-1]
	}
	var b strings.Builder
	for _, w := range words {
		for _, r := range w {
			if a := foldAccent(r); a != 0 {
				r = a
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// foldAccent returns the plain letter of a lower-case accented Latin letter, or 0: enough for the accents Italian
// keyboards and autocorrect put on comuni names.
func foldAccent(r rune) rune {
	const from, to = "àáâãäåèéêëìíîïòóôõöùúûüýÿçñ", "aaaaaaeeeeiiiiooooouuuuyycn"
	if i := strings.IndexRune(from, r); i >= 0 {
		return rune(to[len([]rune(from[:i]))])
	}
	return 0
}

// NormalizeCAP validates an Italian postcode (CAP): five digits, spaces ignored. Empty gets ErrRequired.
func NormalizeCAP(s string) (string, string) {
	s = strings.Join(strings.Fields(foldDigits(s)), "")
	if s == "" {
		return "", ErrRequired
	}
	if len(s) != 5 || !allDigits(s) {
		return "", ErrCAPInvalid
	}
	return s, ""
}
