package forms

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// rentCall is a Misura Unica call with PRODUCT.md's demo threshold: ISEE ≤ €26,000, one threshold for everybody.
var rentCall = CallParams{
	Thresholds: map[string]int64{KeyAll: 2_600_000},
	Opens:      time.Date(2026, 3, 2, 9, 0, 0, 0, rome),
	Closes:     time.Date(2026, 4, 30, 12, 0, 0, 0, rome),
}

func misuraUnica(t *testing.T) *Definition {
	t.Helper()
	d, err := Latest("misura-unica")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// rentForm: Ioana Popescu, born in Romania, rents a flat in Crema from a private landlord; her hours at work were
// cut, and she applies for herself.
func rentForm() map[string]string {
	return map[string]string{
		"on_behalf":  "no",
		"first_name": "Ioana", "last_name": "Popescu", "beneficiary_cf": withCheck("PPSNIO88D52Z129"), "birth_date": "12/04/1988",
		"comune": "Crema", "address": "Via Mazzini 10", "cap": "26013", "resident_in_rented_home": "yes",
		"public_housing": "no", "owns_adequate_home": "no",
		"contract_registered": "yes", "registration_date": "15/03/2023", "registration_code": "TNP23T001234000AB",
		"contract_start": "01/03/2023", "monthly_rent": "550",
		"landlord_name": "Giovanni Ferrari", "landlord_cf": withCheck("FRRGNN60A01D142"), "landlord_address": "Via Cavour 5, 26013 Crema",
		"reason":    "employee_income_drop",
		"isee_type": "corrente", "isee": "9.800,00", "dsu_date": "10/02/2026",
		"iban": "IT60X0542811101000000123456", "account_holder": "Giovanni Ferrari",
		"self_declaration": "yes", "privacy": "yes",
	}
}

func TestMisuraUnicaApplications(t *testing.T) {
	d := misuraUnica(t)
	base := []string{"identity_document", "isee_attestation", "rental_contract", "registration_receipt"}
	with := func(extra ...string) []string {
		docs := slices.Clone(base)
		for _, e := range extra {
			switch e {
			case "beneficiary_identity_document":
				docs = slices.Insert(docs, 1, e)
			case "guardianship_decree":
				docs = slices.Insert(docs, 2, e)
			default:
				docs = append(docs, e)
			}
		}
		return docs
	}
	tests := []struct {
		name     string
		change   func(map[string]string)
		call     *CallParams // rentCall unless set
		problems map[string]string
		reasons  []string
		docs     []string
		dropped  []string
	}{
		{name: "eligible tenant, fewer hours at work", docs: with("income_drop_evidence")},
		{name: "lost her job", change: func(f map[string]string) { f["reason"] = "job_loss" }, docs: with("job_loss_evidence")},
		{name: "self-employed, less work", change: func(f map[string]string) { f["reason"] = "self_employed_income_drop" },
			docs: with("income_drop_evidence")},
		{name: "illness in the family", change: func(f map[string]string) { f["reason"] = "illness_or_death" },
			docs: with("illness_or_death_evidence")},
		{name: "pension only, with a few words", change: func(f map[string]string) {
			f["reason"], f["reason_details"] = "pension_only", "  Vivo solo della pensione di reversibilità.  "
		}, docs: with()},
		{name: "a guardian applies on her behalf", change: func(f map[string]string) {
			f["on_behalf"], f["relationship"] = "yes", "guardian"
		}, docs: with("beneficiary_identity_document", "guardianship_decree", "income_drop_evidence")},
		{name: "for herself: a relationship posted anyway is dropped", change: func(f map[string]string) {
			f["relationship"] = "guardian"
		}, docs: with("income_drop_evidence"), dropped: []string{"relationship"}},
		{name: "ISEE exactly at the threshold", change: func(f map[string]string) { f["isee"] = "26.000" },
			docs: with("income_drop_evidence")},
		{name: "ISEE a cent above the threshold", change: func(f map[string]string) { f["isee"] = "26.000,01" },
			problems: map[string]string{"isee": ErrISEEAboveMax}, reasons: []string{"isee_threshold"}, docs: with("income_drop_evidence")},
		{name: "a call without the threshold under \"all\" cannot decide the ISEE", change: func(f map[string]string) { f["isee"] = "30000" },
			call: &CallParams{Thresholds: map[string]int64{"affitto": 2_600_000}, Opens: rentCall.Opens},
			docs: with("income_drop_evidence")},
		{name: "public housing", change: func(f map[string]string) { f["public_housing"] = "yes" },
			reasons: []string{"private_rental"}, docs: with("income_drop_evidence")},
		{name: "owns another home", change: func(f map[string]string) { f["owns_adequate_home"] = "yes" },
			reasons: []string{"no_adequate_home"}, docs: with("income_drop_evidence")},
		{name: "resident elsewhere", change: func(f map[string]string) { f["resident_in_rented_home"] = "no" },
			reasons: []string{"resident_in_rented_home"}, docs: with("income_drop_evidence")},
		{name: "outside the district", change: func(f map[string]string) { f["comune"] = "Cremona" },
			problems: map[string]string{"comune": ErrComuneOutsideDistrict}, reasons: []string{"resident"}, docs: with("income_drop_evidence")},
		{name: "contract not registered: registration details not asked", change: func(f map[string]string) {
			f["contract_registered"], f["registration_date"] = "no", "31/02/2023"
		}, reasons: []string{"registered_contract"}, docs: with("income_drop_evidence"),
			dropped: []string{"registration_date", "registration_code"}},
		{name: "registered contract without its details", change: func(f map[string]string) {
			f["registration_date"], f["registration_code"] = "", " "
		}, problems: map[string]string{"registration_date": ErrRequired, "registration_code": ErrRequired}, docs: with("income_drop_evidence")},
		{name: "typos: registration in the future, rent with a comma of thousands, landlord's code, old DSU", change: func(f map[string]string) {
			f["registration_date"], f["monthly_rent"], f["landlord_cf"], f["dsu_date"] = "15/03/2027", "1,234", "FRRGNN60A01D142X", "20/12/2025"
		}, problems: map[string]string{"registration_date": ErrDateFuture, "monthly_rent": ErrAmountAmbiguous, "landlord_cf": ErrCFChecksum,
			"dsu_date": ErrISEEExpired}, docs: with("income_drop_evidence")},
		{name: "a reason that is not one of the five", change: func(f map[string]string) { f["reason"] = "eviction" },
			problems: map[string]string{"reason": ErrChoiceInvalid}, docs: base},
		{name: "everything left empty", change: func(f map[string]string) { clear(f) },
			problems: map[string]string{"on_behalf": ErrRequired, "first_name": ErrRequired, "last_name": ErrRequired,
				"beneficiary_cf": ErrCFRequired, "birth_date": ErrRequired, "comune": ErrRequired, "address": ErrRequired, "cap": ErrRequired,
				"resident_in_rented_home": ErrRequired, "public_housing": ErrRequired, "owns_adequate_home": ErrRequired,
				"contract_registered": ErrRequired, "contract_start": ErrRequired, "monthly_rent": ErrRequired, "landlord_name": ErrRequired,
				"landlord_cf": ErrCFRequired, "landlord_address": ErrRequired, "reason": ErrRequired, "isee_type": ErrRequired,
				"isee": ErrRequired, "dsu_date": ErrRequired, "iban": ErrIBANRequired, "account_holder": ErrRequired,
				"self_declaration": ErrRequired, "privacy": ErrRequired}, docs: base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := rentForm()
			if tt.change != nil {
				tt.change(values)
			}
			call := rentCall
			if tt.call != nil {
				call = *tt.call
			}
			parsed, stepProblems := fill(t, d, values)
			a, problems := Validate(d, parsed, call, day2026)
			got := map[string]string{}
			for f, p := range problems {
				got[f] = p.ID
			}
			if !maps.Equal(got, tt.problems) && !(len(got) == 0 && len(tt.problems) == 0) {
				t.Errorf("Validate problems = %v, want %v", got, tt.problems)
			}
			for f, p := range stepProblems {
				if f != "isee" && problems[f].ID != p.ID {
					t.Errorf("Parse said %s: %s, Validate said %q", f, p.ID, problems[f].ID)
				}
			}
			if a.Definition != "misura-unica/2026-v1" {
				t.Errorf("definition %q", a.Definition)
			}
			if reasons := ruleIDs(Eligibility(d, a, call)); !slices.Equal(reasons, tt.reasons) {
				t.Errorf("Eligibility = %v, want %v", reasons, tt.reasons)
			}
			if docs := docTypes(RequiredDocuments(d, a)); !slices.Equal(docs, tt.docs) {
				t.Errorf("RequiredDocuments = %v, want %v", docs, tt.docs)
			}
			for _, id := range tt.dropped {
				if a.Raw[id] != nil || a.Value[id] != nil {
					t.Errorf("hidden %s kept: %q", id, a.Raw[id])
				}
			}
		})
	}
}

func TestMisuraUnicaNormalizedValues(t *testing.T) {
	d := misuraUnica(t)
	values := rentForm()
	values["reason_details"] = "  Da gennaio lavoro 20 ore invece di 38.\n"
	parsed, _ := fill(t, d, values)
	a, problems := Validate(d, parsed, rentCall, day2026)
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	want := map[string]string{"isee": "980000", "monthly_rent": "55000", "registration_date": "2023-03-15", "contract_start": "2023-03-01",
		"landlord_cf": withCheck("FRRGNN60A01D142"), "comune": "Crema", "reason": "employee_income_drop", "isee_type": "corrente",
		"reason_details": "Da gennaio lavoro 20 ore invece di 38.", "on_behalf": "no", "relationship": ""}
	for id, v := range want {
		if got := a.Get(id); got != v {
			t.Errorf("%s = %q, want %q", id, got, v)
		}
	}
}

// The ISEE reason carries the call's one threshold, under KeyAll, for the message.
func TestMisuraUnicaThresholdReason(t *testing.T) {
	d := misuraUnica(t)
	values := rentForm()
	values["isee"] = "27.500"
	a, _ := fill(t, d, values)
	r := Eligibility(d, a, rentCall)
	if len(r) != 1 || r[0].ID != "form.misura_unica.reason.isee_above" || r[0].Data["Max"] != Cents(2_600_000) {
		t.Errorf("reasons %+v", r)
	}
	_, problems := Validate(d, a, rentCall, day2026)
	if p := problems["isee"]; p.ID != ErrISEEAboveMax || p.Data["Max"] != Cents(2_600_000) {
		t.Errorf("Validate: %+v", p)
	}
}

// The graduatoria is one list (no categories: the budget is under KeyAll) by ISEE ascending, then time of receipt.
func TestMisuraUnicaRanking(t *testing.T) {
	d := misuraUnica(t)
	at := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, rome) }
	apps := []struct {
		name, isee string
		received   time.Time
	}{
		{"late, ISEE 5.000", "5000", at(16, 0)},
		{"early, ISEE 25.999", "25.999", at(9, 0)},
		{"early, ISEE 5.000", "5.000,00", at(9, 5)},
		{"ISEE 0", "0", at(12, 0)},
		{"ISEE 12.000,50", "12000,50", at(9, 1)},
		{"ISEE 12.000,49", "12.000,49", at(18, 0)},
		{"ISEE not valid", "dodicimila", at(8, 0)},
	}
	var keys []string
	byKey := map[string]string{}
	for _, x := range apps {
		v := rentForm()
		v["isee"] = x.isee
		a, _ := fill(t, d, v)
		k := RankingKey(d, a, x.received)
		if strings.Contains(k, "|"+KeyAll) || strings.HasPrefix(k, "|") {
			t.Errorf("%s: key %q has a group", x.name, k)
		}
		keys = append(keys, k)
		byKey[k] = x.name
	}
	sort.Strings(keys)
	var got []string
	for _, k := range keys {
		got = append(got, byKey[k])
	}
	want := []string{"ISEE 0", "early, ISEE 5.000", "late, ISEE 5.000", "ISEE 12.000,49", "ISEE 12.000,50", "early, ISEE 25.999",
		"ISEE not valid"}
	if !slices.Equal(got, want) {
		t.Errorf("graduatoria:\n got %q\nwant %q", got, want)
	}
}
