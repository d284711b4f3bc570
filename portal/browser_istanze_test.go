package portal_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/browsertest"
)

// measureJourney is what a resident answers for one measure, by field ID (choices by value), and one mistake to
// make on the way.
type measureJourney struct {
	slug, measure string
	answers       map[string]string
	badField      string // a field typed wrong first, on its step
	badValue      string
}

var journeys = []measureJourney{
	{slug: "fna-misura-b2", measure: "fna-b2", badField: "iban", badValue: "IT60 X054 2811 1010 0000 0123 457",
		answers: map[string]string{"on_behalf": "yes", "relationship": "parent", "first_name": "Mario", "last_name": "Rossi",
			"beneficiary_cf": cfMario, "birth_date": "10/12/1985", "comune": "Crema", "address": "Via Roma 1", "cap": "26013",
			"lives_at_home": "yes", "category": "disabili_adulti", "certification": "l104_art3_c3", "isee_type": "socio_sanitario",
			"isee": "12345,67", "dsu_date": "15/01/2026", "intervention": "caregiver_familiare",
			"iban": "IT60 X054 2811 1010 0000 0123 456", "account_holder": "Anna Bianchi", "self_declaration": "yes", "privacy": "yes"}},
	{slug: "buono-caregiver", measure: "caregiver", badField: "b2_months", badValue: "tre",
		answers: map[string]string{"on_behalf": "yes", "relationship": "parent", "first_name": "Mario", "last_name": "Rossi",
			"beneficiary_cf": cfMario, "birth_date": "10/12/1985", "comune": "Bagnolo Cremasco", "address": "Via Verdi 2", "cap": "26010",
			"lives_at_home": "yes", "b2_months": "6", "applicant_is_caregiver": "yes",
			"iban": "IT60X0542811101000000123456", "account_holder": "Anna Bianchi", "self_declaration": "yes", "privacy": "yes"}},
	{slug: "misura-unica-affitto", measure: "misura-unica", badField: "landlord_cf", badValue: "FRRGNN40A01D142X",
		answers: map[string]string{"on_behalf": "no", "first_name": "Anna", "last_name": "Bianchi", "beneficiary_cf": cfAnna,
			"birth_date": "01/01/1980", "comune": "Crema", "address": "Via Mazzini 3", "cap": "26013", "resident_in_rented_home": "yes",
			"public_housing": "no", "owns_adequate_home": "no", "contract_registered": "yes", "registration_date": "10/01/2025",
			"registration_code": "TRX25T001234000AB", "contract_start": "01/01/2025", "monthly_rent": "550", "landlord_name": "Giovanni Ferrari",
			"landlord_cf": "FRRGNN40A01D142V", "landlord_address": "Via Mazzini 3, Crema", "reason": "job_loss", "isee_type": "ordinario",
			"isee": "9.800", "dsu_date": "15/01/2026", "iban": "IT60X0542811101000000123456", "account_holder": "Anna Bianchi",
			"self_declaration": "yes", "privacy": "yes"}},
}

// answerStep fills the visible fields of the step on the page from the journey's answers.
func answerStep(t *testing.T, page *browsertest.Page, st forms.Step, answers map[string]string) {
	t.Helper()
	for _, f := range st.Fields {
		v, ok := answers[f.ID]
		if !ok || !page.Exists(t, `[name="`+f.ID+`"]`) {
			continue
		}
		switch f.Kind {
		case forms.KindChoice, forms.KindYesNo, forms.KindMultichoice:
			if f.MustBeYes {
				page.Click(t, "#"+f.ID)
				continue
			}
			sel := "#" + f.ID
			first := "yes"
			if len(f.Options) > 0 {
				first = f.Options[0].Value
			}
			if v != first {
				sel += "-" + v
			}
			page.Click(t, sel)
		default:
			page.SetValue(t, "#"+f.ID, v)
		}
	}
}

// A resident applies at phone size, in Italian and Arabic, with axe-core on every page: pre-check, sign-in, the
// steps with a mistake corrected, leaving and resuming from "Le mie pratiche", uploads, the summary, submitting,
// the receipt and the timeline.
func TestBrowserApplicationJourneys(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "documento.pdf")
	if err := os.WriteFile(doc, pdf("browser"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, j := range journeys {
		for _, lang := range []string{"it", "ar"} {
			t.Run(j.measure+"/"+lang, func(t *testing.T) {
				e := newEnv(t, withMail(), withNow(func() time.Time { return journeyNow }))
				// every demo call is open for this journey
				if _, err := e.db.Pool.Exec(t.Context(), `UPDATE calls SET opens_at = $1, closes_at = $2`,
					journeyNow.AddDate(0, 0, -7), journeyNow.AddDate(0, 1, 0)); err != nil {
					t.Fatal(err)
				}
				d, err := forms.Latest(j.measure)
				if err != nil {
					t.Fatal(err)
				}
				base := e.listen(t)
				page := chromium.Browser(t).NewPage(t, browsertest.WithLanguage(lang))
				email := "browser-" + lang + "@example.org"

				// sign in with an e-mail code, coming from the measure's "apply" button
				page.Navigate(t, base+"/misure/"+j.slug)
				page.CheckAxe(t)
				page.ClickAndWait(t, `main a[href="/misure/`+j.slug+`/domanda"]`)
				page.SetValue(t, "#email", email)
				page.Submit(t, `form[action="/accesso/email"]`)
				page.SetValue(t, "#code", codeRe.FindStringSubmatch(e.mailTo(t, email, 1).Text)[1])
				page.Submit(t, `form[action="/accesso/email/codice"]`)
				page.SetValue(t, "#fiscal_code", cfAnna)
				page.SetValue(t, "#given_name", "Anna")
				page.SetValue(t, "#family_name", "Bianchi")
				page.Click(t, "#privacy")
				if status := page.Submit(t, `form[action="/accesso/codice-fiscale"]`); status != http.StatusOK {
					t.Fatalf("sign-in: status %d", status)
				}
				if !strings.HasSuffix(page.Location(t), "/misure/"+j.slug+"/domanda") {
					t.Fatalf("after sign-in at %s", page.Location(t))
				}
				page.CheckAxe(t)
				page.Submit(t, `form[action="/misure/`+j.slug+`/domanda"]`)

				// the steps, with one mistake; leave halfway and resume from "Le mie pratiche"
				app := ""
				for i, st := range d.Steps {
					if !strings.Contains(page.Location(t), "/passo/"+st.ID) {
						t.Fatalf("step %s: at %s", st.ID, page.Location(t))
					}
					if app == "" {
						app = page.Location(t)[:strings.Index(page.Location(t), "/passo/")]
					}
					page.CheckAxe(t)
					answers := j.answers
					bad := false
					for _, f := range st.Fields {
						if f.ID == j.badField {
							bad = true
							answers = map[string]string{}
							for k, v := range j.answers {
								answers[k] = v
							}
							answers[j.badField] = j.badValue
						}
					}
					answerStep(t, page, st, answers)
					status := page.Submit(t, `main form button[value="next"]`)
					if status == http.StatusOK && strings.Contains(page.Location(t), "/passo/"+st.ID) {
						// a question appeared because of an answer on the same page
						page.CheckAxe(t)
						answerStep(t, page, st, answers)
						status = page.Submit(t, `main form button[value="next"]`)
					}
					if bad {
						if status != http.StatusUnprocessableEntity || page.Attr(t, "#"+j.badField, "value") != j.badValue {
							t.Fatalf("mistake on %s: status %d, value %q", j.badField, status, page.Attr(t, "#"+j.badField, "value"))
						}
						page.CheckAxe(t)
						page.SetValue(t, "#"+j.badField, j.answers[j.badField])
						status = page.Submit(t, `main form button[value="next"]`)
					}
					if status != http.StatusOK {
						t.Fatalf("step %s: status %d: %s", st.ID, status, page.Text(t, "main"))
					}
					if i == len(d.Steps)/2 {
						page.Navigate(t, base+"/pratiche")
						page.CheckAxe(t)
						page.ClickAndWait(t, `main a[href="`+strings.TrimPrefix(app, base)+`"]`)
						page.CheckAxe(t)
						page.ClickAndWait(t, `main a.btn-primary`)
						if !strings.Contains(page.Location(t), "/passo/"+d.Steps[i].ID) && !strings.Contains(page.Location(t), "/passo/"+d.Steps[i+1].ID) {
							t.Fatalf("resumed at %s", page.Location(t))
						}
						page.Navigate(t, app+"/passo/"+d.Steps[i+1].ID)
					}
				}

				// documents: every one the answers call for
				if !strings.HasSuffix(page.Location(t), "/documenti") {
					t.Fatalf("after the steps at %s", page.Location(t))
				}
				page.CheckAxe(t)
				for {
					var missing string
					page.Eval(t, `(() => { for (const s of document.querySelectorAll('section.document-slot')) {
						if (s.querySelector('.badge') && !s.querySelector('.file-list')) return s.id.replace('doc-', ''); } return ''; })()`, &missing)
					if missing == "" {
						break
					}
					page.SetUploadFiles(t, "#file-"+missing, doc)
					if status := page.Submit(t, `#doc-`+missing+` form[enctype]`); status != http.StatusOK {
						t.Fatalf("upload %s: status %d", missing, status)
					}
				}
				page.CheckAxe(t)
				if next := page.Attr(t, `main .form-actions a.btn-primary`, "href"); !strings.HasSuffix(next, "/riepilogo") {
					t.Fatalf("the documents page leads to %q", next)
				}
				page.Navigate(t, app+"/riepilogo")
				page.CheckAxe(t)
				if status := page.Submit(t, `form[action$="/invia"]`); status != http.StatusOK {
					t.Fatalf("submit: status %d: %s", status, page.Text(t, "main"))
				}
				page.CheckAxe(t)
				if !protocolRe.MatchString(page.Text(t, "main")) || !page.Exists(t, `a[href$="/ricevuta"]`) || !page.Exists(t, "ol.timeline li") {
					t.Fatalf("the application's page lacks protocol, receipt or timeline: %s", page.Text(t, "main"))
				}
				page.Click(t, "#score-4")
				page.Submit(t, `form[action$="/valutazione#valutazione"]`)
				page.CheckAxe(t)
				page.AssertNoConsoleErrors(t)
			})
		}
	}
}
