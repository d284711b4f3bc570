package portal_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var staffBookKeyRe = regexp.MustCompile(`name="key" value="([A-Z2-7]{26})"`)

// bookFor books a time at the Crema sportello for the resident with the fiscal code, as an operatore on the phone.
func bookFor(t *testing.T, c *client, cf, start string) (*http.Response, string) {
	t.Helper()
	resp, body := c.get("/backoffice/appuntamenti/prenota?sede=sportello-crema&cf=" + cf + "&servizio=segretariato-sociale&giorno=2026-11-24")
	wantStatus(t, resp, http.StatusOK)
	m := staffBookKeyRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the booking page for %s has no key:\n%s", cf, body)
	}
	return c.post("/backoffice/appuntamenti/prenota", "sede", "sportello-crema", "cf", cf, "servizio", "segretariato-sociale",
		"giorno", "2026-11-24", "inizio", start, "modalita", "in_person", "lingua", "ar", "interprete", "yes", "key", m[1])
}

// The staff calendar as an operatore of Crema uses it: the day view, booking for residents on the phone (one
// registered on the way), a full slot, blocked time refused over bookings, arrivals only from the day of the
// appointment, and nothing of another sub-ambito.
func TestStaffCalendar(t *testing.T) {
	e, clk := newStaffEnv(t, withMail())
	e.citizen(t, "anna@example.org", cfAnna)
	e.citizen(t, "mario@example.org", cfMario)
	op := e.newStaff(t, "op.calendario", "operatore", "crema")
	c := e.signIn(t, clk, op)

	resp, body := c.get("/backoffice")
	wantContains(t, body, `href="/backoffice/appuntamenti"`)
	resp, body = c.get("/backoffice/appuntamenti")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Calendario degli appuntamenti", "Sportello sociale di Crema", "lunedì 23 novembre 2026",
		"09:00–09:30", "Segretariato sociale", "2 posti liberi su 2", "Giorno successivo")
	if strings.Contains(body, "sportello-soncino") {
		t.Error("an office of another sub-ambito is offered to an operatore of Crema")
	}
	resp, body = c.get("/backoffice/appuntamenti?sede=sportello-crema&giorno=2026-11-24&vista=settimana")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "domenica 29 novembre 2026", "Settimana successiva")
	resp, _ = c.get("/backoffice/appuntamenti?sede=sportello-soncino")
	wantStatus(t, resp, http.StatusNotFound)
	resp, _ = c.get("/backoffice/appuntamenti/prenota?sede=sportello-soncino&cf=" + cfAnna)
	wantStatus(t, resp, http.StatusNotFound)

	// a fiscal code mistyped keeps what was typed
	resp, body = c.get("/backoffice/appuntamenti/prenota?sede=sportello-crema&cf=BNCLRA80A41D142X")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `value="BNCLRA80A41D142X"`, `aria-invalid="true"`)

	// two residents booked by phone fill the two desks of 09:00 on Tuesday; each gets the usual confirmation
	nine := romeSlot(time.November, 24, 9, 0)
	for _, cf := range []string{cfAnna, cfMario} {
		resp, body = bookFor(t, c, cf, nine)
		wantRedirect(t, resp, "/backoffice/appuntamenti?giorno=2026-11-24&sede=sportello-crema")
	}
	if n := e.countRows(t, `SELECT count(*) FROM notifications WHERE kind = 'appointment_booked' AND channel = 'inbox'`); n != 2 {
		t.Errorf("%d confirmations", n)
	}
	if n := e.countRows(t, `SELECT count(*) FROM audit_log WHERE action = 'booking.create'`); n != 2 {
		t.Errorf("%d bookings audited", n)
	}

	// a resident not yet registered: wrong details first, then registered and booked into the full slot
	resp, body = c.get("/backoffice/appuntamenti/prenota?sede=sportello-crema&cf=" + cfGiusy)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Registra la persona")
	resp, body = c.post("/backoffice/appuntamenti/prenota/persona", "sede", "sportello-crema", "cf", cfGiusy,
		"nome", "Giuseppe", "cognome", "", "telefono", "abc", "lingua", "it")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Scrivi il cognome.", `value="Giuseppe"`, `value="abc"`)
	resp, _ = c.post("/backoffice/appuntamenti/prenota/persona", "sede", "sportello-crema", "cf", cfGiusy,
		"nome", "Giuseppe", "cognome", "Verdi", "telefono", "333 123 4567", "lingua", "it")
	wantRedirect(t, resp, "/backoffice/appuntamenti/prenota?cf="+cfGiusy+"&sede=sportello-crema")
	resp, body = bookFor(t, c, cfGiusy, nine)
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "Questo orario è al completo")
	if n := e.countRows(t, `SELECT count(*) FROM bookings`); n != 2 {
		t.Errorf("%d bookings after a full slot", n)
	}

	resp, body = c.get("/backoffice/appuntamenti?sede=sportello-crema&giorno=2026-11-24")
	wantContains(t, body, "0 posti liberi su 2", "Anna", "العربية", "Interprete o mediatore richiesto", "Prenotato")
	if strings.Contains(body, "/arrivato") {
		t.Error("tomorrow's appointments offer marking the arrival")
	}

	// blocked time over the bookings is refused, naming them; elsewhere it is blocked, and unblocked
	resp, body = c.post("/backoffice/appuntamenti/blocchi", "sede", "sportello-crema", "giorno", "2026-11-24",
		"data", "2026-11-24", "dalle", "08:30", "alle", "09:30", "motivo", "Riunione")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "ci sono 2 appuntamenti prenotati", "09:00 Anna", `value="Riunione"`)
	resp, body = c.post("/backoffice/appuntamenti/blocchi", "sede", "sportello-crema", "giorno", "2026-11-24",
		"data", "2026-11-24", "dalle", "11:00", "alle", "10:00", "motivo", "Riunione")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "L&#39;ora di fine deve venire dopo")
	resp, _ = c.post("/backoffice/appuntamenti/blocchi", "sede", "sportello-crema", "giorno", "2026-11-24",
		"data", "2026-11-24", "dalle", "11:00", "alle", "12:30", "motivo", "Riunione d'équipe")
	wantRedirect(t, resp, "/backoffice/appuntamenti?giorno=2026-11-24&sede=sportello-crema")
	resp, body = c.get("/backoffice/appuntamenti?sede=sportello-crema&giorno=2026-11-24")
	wantContains(t, body, "Orario bloccato.", "Riunione d&#39;équipe", "10:30–11:00")
	if strings.Contains(body, "11:00–11:30") {
		t.Error("a blocked time is still shown as a slot")
	}
	var block string
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT id::text FROM availability_exceptions WHERE note = 'Riunione d''équipe'`).Scan(&block); err != nil {
		t.Fatal(err)
	}
	resp, _ = c.post("/backoffice/appuntamenti/blocchi/"+block+"/rimuovi", "sede", "sportello-crema", "giorno", "2026-11-24")
	wantRedirect(t, resp, "/backoffice/appuntamenti?giorno=2026-11-24&sede=sportello-crema")
	if n := e.countRows(t, `SELECT count(*) FROM audit_log WHERE action IN ('calendar.block', 'calendar.unblock')`); n != 2 {
		t.Errorf("%d blocks audited", n)
	}

	// arrived: not before the day; then yes, audited; an operatore of Soncino cannot see it
	var id string
	if err := e.db.Pool.QueryRow(t.Context(), `SELECT b.id::text FROM bookings b JOIN people p ON p.id = b.person_id
		WHERE p.fiscal_code = $1`, cfAnna).Scan(&id); err != nil {
		t.Fatal(err)
	}
	resp, body = c.post("/backoffice/appuntamenti/"+id+"/arrivato", "sede", "sportello-crema", "giorno", "2026-11-24")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "non è ancora arrivato")
	clk.add(24 * time.Hour)
	c = e.signIn(t, clk, op) // a new day, a new sign-in
	other := e.signIn(t, clk, e.newStaff(t, "op.soncino", "operatore", "soncino"))
	resp, _ = other.post("/backoffice/appuntamenti/"+id+"/arrivato", "sede", "sportello-crema")
	wantStatus(t, resp, http.StatusNotFound)
	resp, _ = other.get("/backoffice/appuntamenti?sede=sportello-crema")
	wantStatus(t, resp, http.StatusNotFound)
	resp, _ = c.post("/backoffice/appuntamenti/"+id+"/arrivato", "sede", "sportello-crema", "giorno", "2026-11-24")
	wantRedirect(t, resp, "/backoffice/appuntamenti?giorno=2026-11-24&sede=sportello-crema")
	_, body = c.get("/backoffice/appuntamenti?sede=sportello-crema&giorno=2026-11-24")
	wantContains(t, body, "Arrivo registrato.", "Arrivato", "/assente")
	if n := e.countRows(t, `SELECT count(*) FROM audit_log WHERE action = 'booking.arrived'`); n != 1 {
		t.Errorf("%d arrivals audited", n)
	}
	if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE status = 'arrived'`); n != 1 {
		t.Errorf("%d bookings arrived", n)
	}
}
