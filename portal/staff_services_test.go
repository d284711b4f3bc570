package portal_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// staffLike creates an account with the same password as a, without hashing it again (argon2 under the race
// detector costs seconds).
func (e *env) staffLike(t *testing.T, a *staffAccount, username, role string, scopes ...string) *staffAccount {
	t.Helper()
	var hash string
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT password_hash FROM staff_users WHERE id = $1`, a.id).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	id, err := e.db.CreateStaff(t.Context(), storage.NewStaff{Username: username, FullName: "Persona " + username,
		Role: role, Scopes: scopes, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	return &staffAccount{id: id, username: username, password: a.password}
}

// serviceForm is the service's edit form as the page fills it for segretariato-sociale, with changes: every
// office offering it stays ticked with its desks unless kv says otherwise.
func serviceForm(t *testing.T, e *env, kv ...string) []string {
	t.Helper()
	form := map[string]string{"minuti": "30", "modo-in_person": "yes", "modo-phone": "yes", "da_giorni": "1",
		"a_giorni": "60", "max_aperti": "2", "posizione": "1", "ospiti": "yes"}
	rows, err := e.db.Pool.Query(t.Context(), `SELECT office, capacity FROM office_services
		WHERE service = 'segretariato-sociale' AND offered`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var office string
		var desks int
		if err := rows.Scan(&office, &desks); err != nil {
			t.Fatal(err)
		}
		form["offerta-"+office], form["posti-"+office] = "yes", strconv.Itoa(desks)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(form, kv[i])
		} else {
			form[kv[i]] = kv[i+1]
		}
	}
	out := make([]string, 0, 2*len(form))
	for k, v := range form {
		out = append(out, k, v)
	}
	return out
}

// Admins and coordinatori set the services and the weekly hours; operatori are refused. Every bad input is named
// next to its field and kept as typed; a change shows on the residents' booking pages at once; removing hours or
// closing a day over a booked appointment is shown first, naming it, and only confirmed it goes through, the
// appointment still booked; every change is audited.
func TestStaffServicesAndAvailability(t *testing.T) {
	e, clk := newStaffEnv(t, withMail())
	anna := e.citizen(t, "anna@example.org", cfAnna)
	op := e.newStaff(t, "op.orari", "operatore", "crema")
	coord := e.staffLike(t, op, "coord.orari", "coordinatore")
	soncino := e.staffLike(t, op, "op.soncino", "operatore", "soncino")

	o := e.signIn(t, clk, op)
	for _, p := range []string{"/backoffice/servizi", "/backoffice/servizi/segretariato-sociale",
		"/backoffice/disponibilita?sede=sportello-crema"} {
		resp, _ := o.get(p)
		wantStatus(t, resp, http.StatusForbidden)
	}
	resp, _ := o.post("/backoffice/servizi/segretariato-sociale", serviceForm(t, e, "max_aperti", "9")...)
	wantStatus(t, resp, http.StatusForbidden)
	resp, _ = o.post("/backoffice/disponibilita/orari", "sede", "sportello-crema", "servizio", "segretariato-sociale",
		"giorno", "6", "dalle", "09:00", "alle", "10:00")
	wantStatus(t, resp, http.StatusForbidden)
	_, body := o.get("/backoffice/appuntamenti")
	if strings.Contains(body, "/backoffice/disponibilita") {
		t.Error("the calendar links an operatore to the hours")
	}

	c := e.signIn(t, clk, coord)
	_, body = c.get("/backoffice/appuntamenti?sede=sportello-crema")
	wantContains(t, body, `href="/backoffice/disponibilita?sede=sportello-crema"`)
	resp, body = c.get("/backoffice/servizi")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Servizi su appuntamento", "Segretariato sociale", "Sedi che lo offrono: 6",
		`href="/backoffice/servizi/segretariato-sociale"`)
	resp, _ = c.get("/backoffice/servizi/non-esiste")
	wantStatus(t, resp, http.StatusNotFound)

	// the service: every wrong value named and kept
	resp, body = c.post("/backoffice/servizi/segretariato-sociale", serviceForm(t, e, "minuti", "7", "modo-in_person", "",
		"modo-phone", "", "da_giorni", "10", "a_giorni", "5", "max_aperti", "0", "posizione", "primo",
		"posti-sportello-crema", "25")...)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Scrivi una durata da 5 a 240 minuti", `value="7"`, "Scegli almeno una modalità",
		"Il periodo deve finire", `value="10"`, "Scrivi un numero da 1 a 10.", "Scrivi un numero da 0 a 999.", `value="primo"`,
		"Scrivi un numero di sportelli da 1 a 20.", `value="25"`, `aria-invalid="true"`)
	// three desks at Crema, Soncino stops offering it, three open appointments a person
	resp, _ = c.post("/backoffice/servizi/segretariato-sociale", serviceForm(t, e, "posti-sportello-crema", "3",
		"offerta-sportello-soncino", "", "max_aperti", "3")...)
	wantRedirect(t, resp, "/backoffice/servizi")
	_, body = c.get("/backoffice/servizi")
	wantContains(t, body, "Servizio salvato.", "Sedi che lo offrono: 5", "al massimo 3")
	if n := e.countRows(t, `SELECT count(*) FROM audit_log WHERE action = 'service.update'
		AND detail->>'max_open_per_person' = '2 → 3'`); n != 1 {
		t.Errorf("%d service changes audited", n)
	}
	if n := e.countRows(t, `SELECT count(*) FROM audit_log WHERE action = 'service.office'`); n != 2 {
		t.Errorf("%d office changes audited", n)
	}
	_, body = anna.get("/appuntamenti/prenota/segretariato-sociale")
	if strings.Contains(body, "Sportello sociale di Soncino") {
		t.Error("an office that stopped offering the service is still offered to residents")
	}
	wantContains(t, body, "Sportello sociale di Crema")
	_, body = anna.get(segretariato + "?giorno=2026-11-24")
	wantContains(t, body, "3 posti liberi")

	// the week of Crema's segretariato; unknown office or service
	avail := "/backoffice/disponibilita?sede=sportello-crema&servizio=segretariato-sociale"
	resp, body = c.get(avail)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Orari di ricevimento", "<strong>martedì</strong>, <span dir=\"ltr\">09:00–12:30</span>",
		"Tutti gli sportelli", "festività", "Persona op.orari")
	if strings.Contains(body, "Persona op.soncino") {
		t.Error("a worker of another sub-ambito is offered for Crema")
	}
	for _, p := range []string{"/backoffice/disponibilita?sede=non-esiste", "/backoffice/disponibilita?sede=sportello-crema&servizio=non-esiste"} {
		resp, _ = c.get(p)
		wantStatus(t, resp, http.StatusNotFound)
	}

	// a weekly pattern: each mistake named next to its field, what was typed kept
	pattern := func(kv ...string) (*http.Response, string) {
		return c.post("/backoffice/disponibilita/orari", append([]string{"sede", "sportello-crema",
			"servizio", "segretariato-sociale"}, kv...)...)
	}
	soncinoID := strconv.FormatInt(soncino.id, 10)
	for name, tc := range map[string]struct {
		kv   []string
		want []string
	}{
		"no weekday":               {[]string{"dalle", "09:00", "alle", "10:00"}, []string{"Scegli il giorno della settimana."}},
		"end before start":         {[]string{"giorno", "6", "dalle", "10:00", "alle", "09:00"}, []string{"L&#39;ora di fine deve venire dopo", `value="09:00"`}},
		"time not a time":          {[]string{"giorno", "6", "dalle", "9 e mezza", "alle", "10:00"}, []string{"Scrivi l&#39;ora come 09:30.", `value="9 e mezza"`}},
		"slots not filling it":     {[]string{"giorno", "6", "dalle", "09:00", "alle", "10:10"}, []string{"durano 30 minuti e non riempiono questo orario: fallo finire alle 10:00.", `value="10:10"`}},
		"overlap on the same desk": {[]string{"giorno", "1", "dalle", "12:00", "alle", "13:00"}, []string{"lo stesso sportello è già aperto", `value="13:00"`}},
		"worker of another sub-ambito": {[]string{"giorno", "6", "dalle", "09:00", "alle", "10:00", "per", soncinoID},
			[]string{"Scegli un operatore dall&#39;elenco."}},
		"valid to before valid from": {[]string{"giorno", "6", "dalle", "09:00", "alle", "10:00", "dal", "2026-12-10", "al", "2026-12-01"},
			[]string{"La data di fine deve essere uguale o successiva", `value="2026-12-01"`}},
	} {
		resp, body := pattern(tc.kv...)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", name, resp.StatusCode)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: page lacks %q", name, w)
			}
		}
	}
	// Saturday mornings open: residents see the new times at once
	resp, _ = pattern("giorno", "6", "dalle", "09:00", "alle", "10:00")
	wantRedirect(t, resp, avail)
	_, body = anna.get(segretariato + "?giorno=2026-11-28")
	wantContains(t, body, "sabato 28 novembre 2026", "09:00–09:30", "09:30–10:00")

	// Anna books Tuesday 09:00; removing Tuesday's hours is shown first, naming her, and confirmed keeps her booked
	first := romeSlot(time.November, 24, 9, 0)
	key := hold(t, anna, segretariato, first)
	resp, _ = confirm(anna, segretariato, first, key, "modalita", "in_person", "lingua", "it")
	wantStatus(t, resp, http.StatusSeeOther)
	var tuesday string
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT id::text FROM availability WHERE office = 'sportello-crema'
		AND service = 'segretariato-sociale' AND weekday = 2`).Scan(&tuesday); err != nil {
		t.Fatal(err)
	}
	removeTuesday := "/backoffice/disponibilita/orari/" + tuesday + "/rimuovi"
	resp, body = c.post(removeTuesday, "sede", "sportello-crema", "servizio", "segretariato-sociale")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "resterebbero fuori orario: 1", "24 novembre 2026, ore 09:00", "Anna Test",
		`name="conferma" value="1"`, "Salva comunque")
	if n := e.countRows(t, `SELECT count(*) FROM availability WHERE id = `+tuesday); n != 1 {
		t.Fatal("the hours went before the change was confirmed")
	}
	// nobody removes another office's hours through Crema's address
	var soncinoPattern string
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT id::text FROM availability WHERE office = 'sportello-soncino' LIMIT 1`).Scan(&soncinoPattern); err != nil {
		t.Fatal(err)
	}
	resp, _ = c.post("/backoffice/disponibilita/orari/"+soncinoPattern+"/rimuovi", "sede", "sportello-crema",
		"servizio", "segretariato-sociale", "conferma", "1")
	wantStatus(t, resp, http.StatusNotFound)
	resp, _ = c.post(removeTuesday, "sede", "sportello-crema", "servizio", "segretariato-sociale", "conferma", "1")
	wantRedirect(t, resp, avail)
	_, body = c.get(avail)
	wantContains(t, body, "Gli appuntamenti rimasti fuori orario sono ancora prenotati")
	if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE status = 'booked'`); n != 1 {
		t.Errorf("%d bookings still booked after the hours went", n)
	}
	_, body = anna.get(segretariato + "?giorno=2026-11-24")
	if strings.Contains(body, "09:30–10:00") {
		t.Error("the removed Tuesday hours are still offered to residents")
	}

	// days that differ: mistakes named; a closure over a booking shown first; removed again
	exception := func(kv ...string) (*http.Response, string) {
		return c.post("/backoffice/disponibilita/eccezioni", append([]string{"sede", "sportello-crema",
			"servizio", "segretariato-sociale"}, kv...)...)
	}
	resp, body = exception("tipo", "open", "primo", "2026-11-20", "ultimo", "2026-11-19", "ambito", "tutti", "nota", "")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Questo giorno è già passato.", "L&#39;ultimo giorno deve essere uguale o successivo",
		"Indica l&#39;ora.", "vale per un solo servizio", "Scrivi una nota.", `value="2026-11-19"`)
	thursday := romeSlot(time.November, 26, 10, 0)
	key = hold(t, anna, segretariato, thursday)
	resp, _ = confirm(anna, segretariato, thursday, key, "modalita", "phone", "lingua", "it")
	wantStatus(t, resp, http.StatusSeeOther)
	resp, body = exception("tipo", "closed", "primo", "2026-11-26", "ambito", "tutti", "nota", "Assemblea")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "resterebbero fuori orario: 1", "26 novembre 2026, ore 10:00", `value="Assemblea"`)
	resp, _ = exception("tipo", "closed", "primo", "2026-11-26", "ambito", "tutti", "nota", "Assemblea", "conferma", "1")
	wantRedirect(t, resp, avail)
	resp, _ = exception("tipo", "open", "primo", "2026-11-29", "ex_dalle", "10:00", "ex_alle", "11:00",
		"ambito", "servizio", "nota", "Domenica aperta")
	wantRedirect(t, resp, avail)
	_, body = anna.get(segretariato + "?giorno=2026-11-29")
	wantContains(t, body, "domenica 29 novembre 2026", "10:30–11:00")
	_, body = c.get(avail)
	wantContains(t, body, "Assemblea", "Apertura straordinaria", "Domenica aperta")
	var closure string
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT id::text FROM availability_exceptions WHERE note = 'Assemblea'`).Scan(&closure); err != nil {
		t.Fatal(err)
	}
	resp, _ = c.post("/backoffice/disponibilita/eccezioni/"+closure+"/rimuovi", "sede", "sportello-soncino", "servizio", "segretariato-sociale")
	wantStatus(t, resp, http.StatusNotFound)
	resp, _ = c.post("/backoffice/disponibilita/eccezioni/"+closure+"/rimuovi", "sede", "sportello-crema", "servizio", "segretariato-sociale")
	wantRedirect(t, resp, avail)

	if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE status = 'booked'`); n != 2 {
		t.Errorf("%d bookings still booked: a change of hours cancelled some", n)
	}
	for action, want := range map[string]int{"availability.add": 1, "availability.remove": 1, "availability.exception_add": 2,
		"availability.exception_remove": 1, "availability.stranded": 2} {
		if n := e.countRows(t, `SELECT count(*) FROM audit_log WHERE action = '`+action+`'`); n != want {
			t.Errorf("%d lines %s, want %d", n, action, want)
		}
	}
}
