package forms

// Holds evaluates a condition that needs no call (a field's show_if, a document's if) on the answers, for pages
// that show only the questions that apply.
func Holds(d *Definition, a Answers, c Cond) bool { return a.holds(d, c) }
