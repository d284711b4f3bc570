package portal_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// The guest-code e-mail: its subject in Italian, and the code alone on its line.
var guestCodeRe = regexp.MustCompile(`(?m)^(\d{6})\r?$`)

// guestCode waits until the n-th appointment-code e-mail to addr has reached the real SMTP server and returns its
// code: read from the mail, never from the database or Redis.
func (e *env) guestCode(t *testing.T, addr string, n int) string {
	t.Helper()
	var codes []string
	testenv.WaitFor(t, 15*time.Second, fmt.Sprintf("appointment code e-mail %d to %s", n, addr), func() error {
		codes = codes[:0]
		for _, m := range e.mail.Messages() {
			if len(m.To) != 1 || m.To[0] != addr {
				continue
			}
			if pm := testenv.ParseMail(t, m.Raw); strings.Contains(pm.Subject, "codice per confermare") ||
				strings.Contains(pm.Subject, "رمزك لتأكيد") {
				if c := guestCodeRe.FindStringSubmatch(pm.Text); c != nil {
					codes = append(codes, c[1])
				}
			}
		}
		if len(codes) < n {
			return fmt.Errorf("%d code e-mails so far", len(codes))
		}
		return nil
	})
	return codes[n-1]
}

// holdAsGuest holds a time as a visitor not signed in and returns the confirm page.
func holdAsGuest(t *testing.T, c *client, path, start string) string {
	t.Helper()
	resp, body := c.post(path, "inizio", start)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("guest hold %s: status %d\n%s", start, resp.StatusCode, body)
	}
	resp, body = c.get(resp.Header.Get("Location"))
	wantStatus(t, resp, http.StatusOK)
	return body
}

// guestDetails posts the "continue without an account" form.
func guestDetails(c *client, path, start string, kv ...string) (*http.Response, string) {
	return c.post(path+"/ospite", append([]string{"inizio", start}, kv...)...)
}

func guestCodeURL(path, start string) string { return path + "/ospite/codice?inizio=" + start }

var laura = []string{"nome", " Laura  Verdi ", "email", "Laura@Example.org", "cellulare", "333 123 4567",
	"modalita", "phone", "lingua", "ar", "interprete", "yes"}

// A visitor without an account books the segretariato sociale (which allows guests): service, office, time, hold,
// "continue without an account", the code from the real e-mail (a wrong one first), the appointment's page through
// its link, the confirmation with the .ics and the SMS, moving it through the link; a replayed code and a code
// used in another browser book nothing more; the staff calendar shows the guest. A visitor who signs in on the
// confirm page keeps the time held.
func TestGuestBookingJourney(t *testing.T) {
	e, clk := newStaffEnv(t, withMail())
	v := e.client(t)

	resp, body := v.get("/appuntamenti/prenota")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "I servizi indicati si possono prenotare anche senza", "Prenotabile anche senza account",
		"Per prenotare serve l&#39;accesso")
	// a service without guests asks to sign in, as before
	for _, p := range []string{"/appuntamenti/prenota/colloquio-assistente-sociale", colloquio} {
		resp, _ = v.get(p)
		wantRedirect(t, resp, "/accesso?next="+url.QueryEscape(p))
	}
	resp, _ = v.post(colloquio, "inizio", romeSlot(time.November, 25, 9, 0))
	wantRedirect(t, resp, "/accesso?next="+url.QueryEscape(colloquio))

	resp, body = v.get("/appuntamenti/prenota/segretariato-sociale?comune=Crema")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Primo giorno libero: martedì 24 novembre 2026")
	nine := romeSlot(time.November, 24, 9, 0)
	body = holdAsGuest(t, v, segretariato, nine)
	wantContains(t, body, "Hai un account?", `href="/accesso?next=`+url.QueryEscape(segretariato+"/conferma?inizio="+nine),
		"Continua senza account", `action="`+segretariato+`/ospite"`, `id="nome"`, `id="cellulare"`, "Mandami il codice")

	resp, _ = guestDetails(v, segretariato, nine, laura...)
	wantRedirect(t, resp, guestCodeURL(segretariato, nine))
	resp, body = v.get(guestCodeURL(segretariato, nine))
	wantStatus(t, resp, http.StatusOK)
	// the hold lasts as long as the code: ten minutes from 10:00
	wantContains(t, body, "Ti abbiamo mandato un codice di 6 cifre a \u2068laura@example.org\u2069",
		"Il codice vale fino alle 10:10", `autocomplete="one-time-code"`)
	code := e.guestCode(t, "laura@example.org", 1)
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)

	// wrong code: the tries left are said, what was typed stays
	resp, body = v.post(segretariato+"/ospite/codice", "inizio", nine, "code", wrong)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Il codice non è giusto", "Ti restano 4 tentativi", `value="`+wrong+`"`, `aria-invalid="true"`)

	clk.add(6 * time.Minute) // past an ordinary hold: the code keeps it
	resp, _ = v.post(segretariato+"/ospite/codice", "inizio", nine, "code", code[:3]+" "+code[3:])
	wantStatus(t, resp, http.StatusSeeOther)
	page, _, _ := strings.Cut(resp.Header.Get("Location"), "?")
	if !manageLinkRe.MatchString(page) || !strings.HasSuffix(resp.Header.Get("Location"), "?prenotato=1") {
		t.Fatalf("after the code: %q", resp.Header.Get("Location"))
	}
	resp, body = v.get(page + "?prenotato=1")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Prenotazione confermata. Ti abbiamo mandato un&#39;e-mail", "24 novembre 2026, ore 09:00",
		"Al telefono", "al numero di cellulare che ci hai dato", "Hai prenotato senza account", page+"/sposta", page+"/annulla")
	if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE person_id IS NULL AND guest_email = 'laura@example.org'
		AND guest_verified_at IS NOT NULL AND guest_name = 'Laura Verdi' AND guest_phone = '+393331234567' AND guest_lang = 'it'
		AND lang = 'ar' AND interpreter AND mode = 'phone' AND status = 'booked'`); n != 1 {
		t.Fatalf("%d guest bookings as typed", n)
	}
	if n := e.countRows(t, `SELECT taken FROM slot_counters WHERE starts_at = to_timestamp($1)`, atoi(nine)); n != 1 {
		t.Errorf("%d places taken", n)
	}
	// the usual confirmation: e-mail with the link and the .ics, SMS to the mobile number, reminders
	mail := e.mailContaining(t, "laura@example.org", "24 novembre 2026, ore 09:00")
	if link := manageLinkRe.FindString(mail.Text); link != page {
		t.Errorf("the e-mail links %q, the page was %q", link, page)
	}
	if raw := e.rawMailContaining(t, "laura@example.org", page); !strings.Contains(raw, "text/calendar") {
		t.Error("the guest's confirmation has no .ics")
	}
	if n := e.countRows(t, `SELECT count(*) FROM notifications WHERE recipient = '+393331234567' AND channel = 'sms'
		AND kind = 'appointment_booked'`); n != 1 { // no reminder: the appointment is less than a day away
		t.Errorf("%d SMS confirmations to the guest", n)
	}
	if n := e.countRows(t, `SELECT count(*) FROM notifications WHERE kind = 'appointment_code' AND data ? 'Code'
		AND status = 'sent'`); n != 0 {
		t.Error("a sent code is kept in the outbox")
	}

	// a replayed code is refused and books nothing
	resp, body = v.post(segretariato+"/ospite/codice", "inizio", nine, "code", code)
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "Questo codice è già stato usato", `href="`+page+`"`)
	// and in another browser it is nobody's code
	other := e.client(t)
	resp, _ = other.post(segretariato+"/ospite/codice", "inizio", nine, "code", code)
	wantRedirect(t, resp, segretariato+"/conferma?inizio="+nine)
	if n := e.countRows(t, `SELECT count(*) FROM bookings`); n != 1 {
		t.Errorf("%d bookings after replays", n)
	}

	// the staff calendar shows the guest with name, e-mail and number
	op := e.newStaff(t, "op.ospiti", "operatore", "crema")
	staff := e.signIn(t, clk, op)
	_, body = staff.get("/backoffice/appuntamenti?sede=sportello-crema&giorno=2026-11-24")
	wantContains(t, body, "<strong>Laura Verdi</strong>", "laura@example.org</span> (senza account)", "&#43;393331234567")

	// the link moves it; the new confirmation goes to the guest
	resp, _ = v.post(page+"/sposta", "inizio", romeSlot(time.November, 24, 10, 0))
	wantStatus(t, resp, http.StatusSeeOther)
	e.mailContaining(t, "laura@example.org", "24 novembre 2026, ore 10:00")
	if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE status = 'booked' AND guest_name = 'Laura Verdi'
		AND starts_at = to_timestamp($1)`, atoi(romeSlot(time.November, 24, 10, 0))); n != 1 {
		t.Error("the moved booking lost the guest's details")
	}

	// a visitor who chooses to sign in on the confirm page comes back to the time, still held for them (the
	// sportello assistenti familiari has one desk: nobody else could hold it)
	w := e.client(t)
	ten := romeSlot(time.November, 25, 9, 0)
	familiari := "/appuntamenti/prenota/sportello-assistenti-familiari/sportello-crema"
	holdAsGuest(t, w, familiari, ten)
	next := familiari + "/conferma?inizio=" + ten + "&modalita=in_person&lingua=uk"
	w.get("/accesso?next=" + url.QueryEscape(next))
	code = requestCode(t, e, w, "walter@example.org", 1)
	resp, _ = w.do("POST", "/accesso/email/codice", url.Values{"code": {code}})
	wantRedirect(t, resp, "/accesso/codice-fiscale")
	resp, _ = w.post("/accesso/codice-fiscale", "fiscal_code", cfMario, "given_name", "Walter", "family_name", "Neri", "privacy", "yes")
	wantRedirect(t, resp, next)
	resp, body = w.get(next)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Conferma la prenotazione", `value="uk" lang="uk" selected`)
	if strings.Contains(body, "Continua senza account") {
		t.Error("a signed-in resident is offered the guest form")
	}
	// choosing the same time again is theirs too, not "someone else is confirming it"
	resp, _ = w.post(familiari, "inizio", ten)
	wantStatus(t, resp, http.StatusSeeOther)
	resp, _ = confirm(w, familiari, ten, startKeyRe.FindStringSubmatch(body)[1], "modalita", "in_person", "lingua", "uk")
	wantStatus(t, resp, http.StatusSeeOther)
	if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE person_id IS NOT NULL AND starts_at = to_timestamp($1)`, atoi(ten)); n != 1 {
		t.Error("the resident's booking is missing")
	}
}

// Every way a guest booking can go wrong is explained next to the field, in Italian, keeping what was typed.
func TestGuestBookingRefusals(t *testing.T) {
	e, clk := newStaffEnv(t, withMail())
	at := func(day, hour, min int) string { return romeSlot(time.November, day, hour, min) }

	t.Run("guest on a service that does not allow guests", func(t *testing.T) {
		v := e.client(t)
		start := at(25, 9, 0)
		resp, body := guestDetails(v, colloquio, start, laura...)
		wantStatus(t, resp, http.StatusForbidden)
		wantContains(t, body, "Per questo servizio serve l&#39;accesso",
			`href="/accesso?next=`+url.QueryEscape(colloquio+"/conferma?inizio="+start+"&modalita=phone&lingua=ar&interprete=yes"))
		resp, _ = v.post(colloquio+"/ospite/codice", "inizio", start, "code", "123456")
		wantRedirect(t, resp, colloquio+"/conferma?inizio="+start)
		if n := e.countRows(t, `SELECT count(*) FROM notifications WHERE kind = 'appointment_code'`); n != 0 {
			t.Errorf("%d codes sent for a service without guests", n)
		}
	})

	t.Run("malformed e-mail, missing name, phone appointment without a number", func(t *testing.T) {
		v := e.client(t)
		start := at(24, 9, 30)
		holdAsGuest(t, v, segretariato, start)
		resp, body := guestDetails(v, segretariato, start, "nome", "  ", "email", "laura@", "cellulare", "",
			"modalita", "phone", "lingua", "ro", "interprete", "yes")
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "L&#39;indirizzo e-mail non è valido", "Questo campo è obbligatorio",
			"Per un appuntamento al telefono scrivi il numero", `value="laura@"`, `value="phone" checked`,
			`value="ro" lang="ro" selected`, `id="interprete" name="interprete" value="yes" checked`, `aria-invalid="true"`,
			"Continua senza account")
		resp, body = guestDetails(v, segretariato, start, "nome", "Laura", "email", "laura@example.org", "cellulare", "12ab",
			"modalita", "in_person", "lingua", "it")
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Il numero di telefono non è valido", `value="12ab"`, `value="Laura"`)
		// an online colloquio's room is entered from the personal area: a guest cannot book one
		if _, err := e.db.Pool.Exec(context.Background(), `UPDATE services SET modes = modes || '{online}' WHERE code = 'segretariato-sociale'`); err != nil {
			t.Fatal(err)
		}
		defer e.db.Pool.Exec(context.Background(), `UPDATE services SET modes = array_remove(modes, 'online') WHERE code = 'segretariato-sociale'`) //nolint:errcheck
		resp, body = guestDetails(v, segretariato, start, "nome", "Laura", "email", "laura@example.org", "modalita", "online", "lingua", "it")
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "accedi per prenotarlo online", `value="online" checked`, `value="laura@example.org"`)
	})

	t.Run("expired hold", func(t *testing.T) {
		v := e.client(t)
		start := at(24, 10, 0)
		holdAsGuest(t, v, segretariato, start)
		clk.add(holdTTL + time.Second)
		defer clk.add(-holdTTL - time.Second)
		resp, body := guestDetails(v, segretariato, start, "nome", "Ada Rossi", "email", "ada@example.org",
			"modalita", "in_person", "lingua", "sq")
		wantStatus(t, resp, http.StatusConflict)
		wantContains(t, body, "Il tempo per confermare è scaduto", `value="`+start+`"`, `name="lingua" value="sq"`)
		// holding it again finds the name and the address filled in
		body = holdAsGuest(t, v, segretariato, start)
		wantContains(t, body, `value="Ada Rossi"`, `value="ada@example.org"`)
	})

	t.Run("wrong codes until none is left, then a new code", func(t *testing.T) {
		v := e.client(t)
		start := at(24, 10, 30)
		holdAsGuest(t, v, segretariato, start)
		resp, _ := guestDetails(v, segretariato, start, "nome", "Bice", "email", "bice@example.org", "modalita", "in_person", "lingua", "it")
		wantStatus(t, resp, http.StatusSeeOther)
		code := e.guestCode(t, "bice@example.org", 1)
		wrong := fmt.Sprintf("%06d", (atoi(code)+7)%1_000_000)
		resp, body := v.post(segretariato+"/ospite/codice", "inizio", start, "code", "12a")
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Il codice è di 6 cifre", `value="12a"`)
		for i, left := range []string{"4 tentativi", "3 tentativi", "2 tentativi", "1 tentativo"} {
			resp, body = v.post(segretariato+"/ospite/codice", "inizio", start, "code", wrong)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			if !strings.Contains(body, left) {
				t.Errorf("wrong try %d: the page does not say %q", i+1, left)
			}
		}
		resp, body = v.post(segretariato+"/ospite/codice", "inizio", start, "code", wrong)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Hai sbagliato il codice troppe volte")
		resp, body = v.post(segretariato+"/ospite/codice", "inizio", start, "code", code) // too late, even the right one
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Hai sbagliato il codice troppe volte")
		resp, _ = v.post(segretariato+"/ospite/nuovo-codice", "inizio", start)
		wantRedirect(t, resp, guestCodeURL(segretariato, start)+"&nuovo=1")
		_, body = v.get(guestCodeURL(segretariato, start) + "&nuovo=1")
		wantContains(t, body, "Ti abbiamo mandato un nuovo codice a \u2068bice@example.org\u2069")
		resp, _ = v.post(segretariato+"/ospite/codice", "inizio", start, "code", e.guestCode(t, "bice@example.org", 2))
		wantStatus(t, resp, http.StatusSeeOther)
	})

	t.Run("expired code, then a new code holds the time again", func(t *testing.T) {
		v := e.client(t)
		start := at(24, 11, 0)
		holdAsGuest(t, v, segretariato, start)
		resp, _ := guestDetails(v, segretariato, start, "nome", "Carla", "email", "carla@example.org", "modalita", "in_person", "lingua", "it")
		wantStatus(t, resp, http.StatusSeeOther)
		code := e.guestCode(t, "carla@example.org", 1)
		clk.add(10*time.Minute + time.Second)
		defer clk.add(-10*time.Minute - time.Second)
		resp, body := v.post(segretariato+"/ospite/codice", "inizio", start, "code", code)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Il codice è scaduto", `value="`+code+`"`, "Mandami un nuovo codice")
		resp, _ = v.post(segretariato+"/ospite/nuovo-codice", "inizio", start)
		wantStatus(t, resp, http.StatusSeeOther)
		resp, _ = v.post(segretariato+"/ospite/codice", "inizio", start, "code", e.guestCode(t, "carla@example.org", 2))
		wantStatus(t, resp, http.StatusSeeOther)
		if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE guest_email = 'carla@example.org'`); n != 1 {
			t.Errorf("%d bookings for Carla", n)
		}
	})

	t.Run("code for another hold", func(t *testing.T) {
		v := e.client(t)
		a, b := at(26, 9, 0), at(26, 9, 30)
		holdAsGuest(t, v, segretariato, a)
		resp, _ := guestDetails(v, segretariato, a, "nome", "Dario", "email", "dario@example.org", "modalita", "in_person", "lingua", "it")
		wantStatus(t, resp, http.StatusSeeOther)
		codeA := e.guestCode(t, "dario@example.org", 1)
		// in another tab Dario holds another time and asks its code: the code of the first no longer works
		holdAsGuest(t, v, segretariato, b)
		resp, _ = guestDetails(v, segretariato, b, "nome", "Dario", "email", "dario@example.org", "modalita", "in_person", "lingua", "it")
		wantStatus(t, resp, http.StatusSeeOther)
		e.guestCode(t, "dario@example.org", 2)
		resp, body := v.post(segretariato+"/ospite/codice", "inizio", a, "code", codeA)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Il codice che ti abbiamo mandato serve per un altro orario",
			`href="`+segretariato+"/conferma?inizio="+a)
		resp, body = v.post(segretariato+"/ospite/codice", "inizio", b, "code", codeA)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Il codice non è giusto")
		if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE guest_email = 'dario@example.org'`); n != 0 {
			t.Errorf("%d bookings for Dario", n)
		}
	})

	t.Run("too many codes requested", func(t *testing.T) {
		v := e.client(t)
		start := at(27, 9, 0)
		holdAsGuest(t, v, segretariato, start)
		ask := func() (*http.Response, string) {
			return guestDetails(v, segretariato, start, "nome", "Elena", "email", "elena@example.org", "cellulare", "3471112233",
				"modalita", "in_person", "lingua", "it")
		}
		for i := 0; i < 5; i++ {
			resp, _ := ask()
			wantStatus(t, resp, http.StatusSeeOther)
		}
		resp, body := ask()
		wantStatus(t, resp, http.StatusTooManyRequests)
		wantContains(t, body, "Per questo indirizzo sono stati chiesti troppi codici", `value="Elena"`,
			`value="elena@example.org"`, `value="3471112233"`, `aria-describedby="email-error"`)
		if resp.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
	})

	t.Run("limit per e-mail reached", func(t *testing.T) {
		// the segretariato allows two open appointments per person: Fabio books two as a guest, the third is refused
		// once the code has proved the address is his (before, it would tell anyone who has appointments)
		v := e.client(t)
		for i, start := range []string{at(30, 9, 0), at(30, 9, 30)} {
			holdAsGuest(t, v, segretariato, start)
			resp, _ := guestDetails(v, segretariato, start, "nome", "Fabio", "email", "fabio@example.org", "modalita", "in_person", "lingua", "it")
			wantStatus(t, resp, http.StatusSeeOther)
			resp, _ = v.post(segretariato+"/ospite/codice", "inizio", start, "code", e.guestCode(t, "fabio@example.org", i+1))
			wantStatus(t, resp, http.StatusSeeOther)
		}
		start := at(30, 10, 0)
		holdAsGuest(t, v, segretariato, start)
		resp, _ := guestDetails(v, segretariato, start, "nome", "Fabio", "email", "FABIO@example.org", "modalita", "phone",
			"cellulare", "3339998877", "lingua", "uk")
		wantStatus(t, resp, http.StatusSeeOther)
		resp, body := v.post(segretariato+"/ospite/codice", "inizio", start, "code", e.guestCode(t, "fabio@example.org", 3))
		wantStatus(t, resp, http.StatusConflict)
		wantContains(t, body, "Con questo indirizzo e-mail hai già il numero massimo", `value="fabio@example.org"`,
			`value="Fabio"`, `value="&#43;393339998877"`, `value="phone" checked`, `value="uk" lang="uk" selected`)
		if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE guest_email = 'fabio@example.org'`); n != 2 {
			t.Errorf("%d bookings for Fabio", n)
		}
	})
}
