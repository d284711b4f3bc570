// Package forms is pure Go: the measures (misure) and their calls' form definitions, parsing of answers,
// validation, eligibility and ranking rules. It imports no web framework and no SQL; texts are message IDs.
package forms

// Measure is one of the district measures a resident can apply for. Calls (avvisi) of a measure change every year;
// the measure itself does not.
type Measure struct {
	Code string // stable key, stored in the database
	Slug string // path segment of the information page
	Msg  string // message ID prefix: measure.<Msg>.title, .summary, .what, .who, .amount, .documents
	// ExtraSections are additional (title, list) message ID pairs shown on the information page.
	ExtraSections [][2]string
}

// Measures lists the measures in the order the portal shows them.
var Measures = []Measure{
	{Code: "fna-b2", Slug: "fna-misura-b2", Msg: "fna_b2"},
	{Code: "caregiver", Slug: "buono-caregiver", Msg: "caregiver"},
	{Code: "misura-unica", Slug: "misura-unica-affitto", Msg: "misura_unica",
		ExtraSections: [][2]string{{"measure.misura_unica.reasons_title", "measure.misura_unica.reasons"}}},
}

// MeasureBySlug finds a measure by the path segment of its information page.
func MeasureBySlug(slug string) (Measure, bool) {
	for _, m := range Measures {
		if m.Slug == slug {
			return m, true
		}
	}
	return Measure{}, false
}

// MeasureByCode finds a measure by its stable key.
func MeasureByCode(code string) (Measure, bool) {
	for _, m := range Measures {
		if m.Code == code {
			return m, true
		}
	}
	return Measure{}, false
}
