package portal

import "testing"

func TestCSVCellNeutralisesFormulas(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+39 333":                  "'+39 333",
		"-2+3":                     "'-2+3",
		"@SUM(A1)":                 "'@SUM(A1)",
		"\t=1":                     "'\t=1",
		"\r=1":                     "'\r=1",
		"  =1+1":                   "'  =1+1",
		"CSC-2026-000001":          "CSC-2026-000001",
		"Crema":                    "Crema",
		"":                         "",
		"1500,00":                  "1500,00",
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}
