package portal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const checkPath = "/misure/fna-misura-b2/verifica"

// eligibleAnswers are an elderly resident of Crema, at home, with accompagnamento and a low ISEE.
func eligibleAnswers() url.Values {
	return url.Values{"birth_date": {"01/02/1940"}, "comune": {"Crema"}, "lives_at_home": {"yes"},
		"category": {"anziani"}, "certification": {"accompagnamento"}, "isee_type": {"socio_sanitario"}, "isee": {"12000"}}
}

func TestMeasureCheckSaysWhetherOneCanApply(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	_, body := c.get("/misure/fna-misura-b2")
	wantContains(t, body, `href="`+checkPath+`"`, "Posso fare domanda?")
	resp, body := c.get(checkPath)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `name="isee"`, `name="comune"`, `<legend class="form-label">La persona vive a casa propria`, "solo indicativa")
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q: the page depends on the answers", cc)
	}

	resp, body = c.do("POST", checkPath, eligibleAnswers())
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Puoi fare domanda.", `href="/accesso?next=/misure/fna-misura-b2"`, "decide l&#39;ufficio")

	t.Run("ISEE above the threshold, in the reader's language", func(t *testing.T) {
		for lang, amount := range map[string]string{"it": "25.000", "en": "25,000"} {
			c := e.client(t)
			c.headers["Accept-Language"] = lang
			a := eligibleAnswers()
			a.Set("isee", "30000")
			resp, body := c.do("POST", checkPath, a)
			wantStatus(t, resp, http.StatusOK)
			wantContains(t, body, amount)
			if lang == "it" {
				wantContains(t, body, "non puoi fare domanda", "L&#39;ISEE supera il limite di")
			}
		}
	})
	t.Run("comune outside the district", func(t *testing.T) {
		a := eligibleAnswers()
		a.Set("comune", "Milano")
		resp, body := c.do("POST", checkPath, a)
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, body, "chi risiede in uno dei 48 comuni del Distretto di Crema")
	})
}

func TestMeasureCheckBadInputKeepsWhatWasTyped(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	a := eligibleAnswers()
	a.Set("isee", "12,3,4")
	a.Set("comune", "Cremaa")
	resp, body := c.do("POST", checkPath, a)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `value="12,3,4"`, `value="Cremaa"`, `aria-invalid="true"`, `href="#isee"`, `href="#comune"`,
		"Questo comune non è tra i 48 comuni", `value="anziani" checked`)
	if strings.Contains(body, "Puoi fare domanda.") {
		t.Error("a form with mistakes gave a verdict")
	}
}

func TestMeasureCheckArabicIsRightToLeft(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	c.headers["Accept-Language"] = "ar"
	resp, body := c.do("POST", checkPath, eligibleAnswers())
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `<html lang="ar" dir="rtl">`, "يمكنك تقديم الطلب.")
}

func TestMeasureCheckUnknownMeasureAndCrossSite(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	resp, _ := c.get("/misure/nessuna/verifica")
	wantStatus(t, resp, http.StatusNotFound)
	resp, body := c.get("/misure/buono-caregiver/verifica") // a measure without an ISEE rule has a pre-check too
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `name="b2_months"`)
	c.headers["Sec-Fetch-Site"] = "cross-site"
	resp, _ = c.do("POST", checkPath, eligibleAnswers())
	wantStatus(t, resp, http.StatusForbidden)
}

// The thresholds are the call's data: when staff raise one, the pre-check follows without a release.
func TestMeasureCheckFollowsTheCallsThresholds(t *testing.T) {
	e := newEnv(t)
	a := eligibleAnswers()
	a.Set("isee", "30000")
	_, body := e.client(t).do("POST", checkPath, a)
	wantContains(t, body, "L&#39;ISEE supera il limite di")
	if _, err := e.db.Pool.Exec(t.Context(), `UPDATE calls SET thresholds = jsonb_set(thresholds, '{anziani}', '3500000')
		WHERE measure = 'fna-b2'`); err != nil {
		t.Fatal(err)
	}
	_, body = e.client(t).do("POST", checkPath, a)
	wantContains(t, body, "Puoi fare domanda.")
}
