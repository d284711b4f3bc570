package portal_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// The seeded demo: the Crema sportello receives Monday to Friday 09:00–12:30 (and Wednesday 14:00–17:00). Its
// segretariato sociale has two desks, 30-minute slots, from 1 to 60 days ahead, two open bookings per person; the
// colloquio con l'assistente sociale one desk, 45 minutes, from 2 days ahead. The tests' clock starts on Monday
// 23 November 2026, 10:00 in Rome.
const (
	segretariato = "/appuntamenti/prenota/segretariato-sociale/sportello-crema"
	colloquio    = "/appuntamenti/prenota/colloquio-assistente-sociale/sportello-crema"
)

func romeSlot(month time.Month, day, hour, min int) string {
	return strconv.FormatInt(time.Date(2026, month, day, hour, min, 0, 0, i18n.Rome).Unix(), 10)
}

// hold chooses a time on a slots page and follows to the confirm page, returning its key.
func hold(t *testing.T, c *client, path, start string, extra ...string) string {
	t.Helper()
	resp, body := c.post(path, append([]string{"inizio", start}, extra...)...)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("hold %s: status %d\n%s", start, resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, path+"/conferma?inizio="+start) {
		t.Fatalf("hold went to %q", loc)
	}
	resp, body = c.get(loc)
	wantStatus(t, resp, http.StatusOK)
	m := startKeyRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the confirm page has no key")
	}
	return m[1]
}

func confirm(c *client, path, start, key string, kv ...string) (*http.Response, string) {
	return c.post(path+"/conferma", append([]string{"inizio", start, "key", key}, kv...)...)
}

// A resident books at phone size the way the issue describes: service, office by comune with its first free day,
// the day's times, hold, confirm with mode, meeting language and an interpreter, then the appointment's page, the
// confirmation message, "I miei appuntamenti" and cancelling.
func TestBookingJourney(t *testing.T) {
	e, _ := newStaffEnv(t, withMail())
	anna := e.citizen(t, "anna@example.org", cfAnna)

	resp, body := anna.get("/area-personale")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `href="/appuntamenti"`, "I miei appuntamenti")
	resp, body = anna.get("/appuntamenti/prenota")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Passo 1 di 4", "Segretariato sociale", "Sportello assistenti familiari",
		`href="/appuntamenti/prenota/segretariato-sociale"`, "30 minuti", "In presenza, Al telefono")
	resp, body = anna.get("/appuntamenti/prenota/segretariato-sociale?comune=Crema")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Sedi per chi abita a Crema", "Sportello sociale di Crema", "Primo giorno libero: martedì 24 novembre 2026",
		`href="`+segretariato+`"`)
	if strings.Contains(body, "Sportello sociale di Soncino") {
		t.Error("an office of another sub-ambito is offered to a resident of Crema")
	}
	resp, body = anna.get(segretariato)
	wantStatus(t, resp, http.StatusOK)
	first := romeSlot(time.November, 24, 9, 0)
	wantContains(t, body, "martedì 24 novembre 2026", "È il primo giorno con posti liberi", `value="`+first+`" checked`,
		"09:00–09:30", "2 posti liberi", "Altri giorni con posti liberi", `?giorno=2026-11-25`)
	if strings.Contains(body, `?giorno=2026-11-23"`) {
		t.Error("today is offered although the service is bookable from tomorrow")
	}

	key := hold(t, anna, segretariato, first)
	_, body = anna.get(segretariato + "/conferma?inizio=" + first)
	wantContains(t, body, "Ti teniamo questo orario fino alle 10:05", "Passo 4 di 4", `name="modalita" id="modalita-phone" value="phone"`)
	resp, _ = confirm(anna, segretariato, first, key, "modalita", "phone", "lingua", "ar", "interprete", "yes")
	wantStatus(t, resp, http.StatusSeeOther)
	page := resp.Header.Get("Location")
	if !strings.HasPrefix(page, "/appuntamenti/") || !strings.HasSuffix(page, "?prenotato=1") {
		t.Fatalf("after booking: %q", page)
	}
	page = strings.TrimSuffix(page, "?prenotato=1")
	resp, body = anna.get(page + "?prenotato=1")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Prenotazione confermata", "Appuntamento del 24 novembre 2026", "24 novembre 2026, ore 09:00",
		"Al telefono", "العربية", "Richiesto", "Sportello sociale di Crema", "Prenotato", page+"/annulla")

	// the confirmation goes through the outbox, in the resident's language, with the time and the link only
	mail := e.mailContaining(t, "anna@example.org", "24 novembre 2026, ore 09:00")
	if !strings.Contains(mail.Text, "/appuntamenti/gestisci/") || strings.Contains(mail.Text, "Segretariato") || strings.Contains(mail.Text, "interprete") {
		t.Errorf("confirmation e-mail:\n%s", mail.Text)
	}
	if n := e.countRows(t, `SELECT count(*) FROM notifications WHERE kind = 'appointment_booked' AND channel = 'inbox'`); n != 1 {
		t.Errorf("%d inbox confirmations", n)
	}

	// a double click on "confirm" lands on the same appointment
	resp, _ = confirm(anna, segretariato, first, key, "modalita", "phone", "lingua", "ar")
	wantRedirect(t, resp, page)
	if n := e.countRows(t, `SELECT count(*) FROM bookings`); n != 1 {
		t.Errorf("%d bookings after a double click", n)
	}

	// nobody else sees it, or cancels it
	bruno := e.citizen(t, "bruno@example.org", cfMario)
	for _, p := range []string{page, page + "/annulla"} {
		resp, _ = bruno.get(p)
		wantStatus(t, resp, http.StatusNotFound)
	}
	resp, _ = bruno.post(page + "/annulla")
	wantStatus(t, resp, http.StatusNotFound)

	resp, body = anna.get("/appuntamenti")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Prossimi appuntamenti", `href="`+page+`"`, "24 novembre 2026, ore 09:00", "Segretariato sociale")
	resp, body = anna.get(page + "/annulla")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Vuoi annullare l", "24 novembre 2026, ore 09:00", `action="`+page+`/annulla"`)
	resp, _ = anna.post(page + "/annulla")
	wantRedirect(t, resp, "/appuntamenti?annullato=1")
	_, body = anna.get("/appuntamenti?annullato=1")
	wantContains(t, body, "Appuntamento annullato", "Non hai appuntamenti in programma", "Annullato")
	if n := e.countRows(t, `SELECT taken FROM slot_counters`); n != 0 {
		t.Errorf("the cancelled place is still taken (%d)", n)
	}
	resp, body = anna.post(page + "/annulla")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "non si può più annullare")
}

// Every way a booking can fail is explained in Italian, with the next free times where they help, and what the
// resident chose on the confirm page is carried along.
func TestBookingRefusals(t *testing.T) {
	e, clk := newStaffEnv(t, withMail())
	anna := e.citizen(t, "anna@example.org", cfAnna)
	bruno := e.citizen(t, "bruno@example.org", cfMario)
	nine := romeSlot(time.November, 24, 9, 0)

	t.Run("nothing chosen", func(t *testing.T) {
		_, body := anna.get(segretariato + "?giorno=2026-11-25")
		wantContains(t, body, `name="giorno" value="2026-11-25"`)
		resp, body := anna.post(segretariato, "giorno", "2026-11-25")
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Scegli un orario dall", "<h2 class=\"h4\">mercoledì 25 novembre 2026</h2>")
	})
	for _, c := range []struct{ name, start, want string }{
		{"in the past", romeSlot(time.November, 23, 9, 0), "Questo orario è già passato"},
		{"outside the opening hours", romeSlot(time.November, 24, 15, 0), "la sede non riceve per questo servizio"},
		{"off the slot grid", romeSlot(time.November, 24, 9, 10), "la sede non riceve per questo servizio"},
		{"on a holiday", romeSlot(time.December, 8, 9, 0), "la sede non riceve per questo servizio"},
		{"beyond the bookable window", strconv.FormatInt(time.Date(2027, time.February, 1, 9, 0, 0, 0, i18n.Rome).Unix(), 10),
			"la sede non riceve per questo servizio"},
		{"today, though bookable from tomorrow", romeSlot(time.November, 23, 11, 0), "la sede non riceve per questo servizio"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := anna.post(segretariato, "inizio", c.start)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, body, c.want, "Prossimi orari liberi", `value="`+nine+`"`)
			// the confirm step refuses it just as well, keeping the resident's choices
			resp, body = confirm(anna, segretariato, c.start, "AAAAAAAAAAAAAAAAAAAAAAAAAA", "modalita", "phone", "lingua", "uk")
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, body, c.want, `name="modalita" value="phone"`, `name="lingua" value="uk"`)
		})
	}

	t.Run("malformed key", func(t *testing.T) {
		resp, _ := confirm(anna, segretariato, nine, "not-a-key", "modalita", "phone", "lingua", "it")
		wantStatus(t, resp, http.StatusBadRequest)
	})
	t.Run("unknown service or office", func(t *testing.T) {
		for _, p := range []string{"/appuntamenti/prenota/astrologia", "/appuntamenti/prenota/segretariato-sociale/sportello-milano",
			"/appuntamenti/prenota/sportello-assistenti-familiari/sportello-soncino"} {
			resp, _ := anna.get(p)
			wantStatus(t, resp, http.StatusNotFound)
		}
	})

	t.Run("mode and language not offered", func(t *testing.T) {
		at := romeSlot(time.November, 24, 9, 30)
		key := hold(t, anna, segretariato, at)
		resp, body := confirm(anna, segretariato, at, key, "modalita", "online", "lingua", "de", "interprete", "yes")
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Scegli come preferisci fare l", "Scegli la lingua del colloquio dall", `aria-invalid="true"`,
			`id="interprete" name="interprete" value="yes" checked`, `name="key" value="`+key+`"`)
	})

	t.Run("hold expired", func(t *testing.T) {
		at := romeSlot(time.November, 24, 10, 0)
		key := hold(t, anna, segretariato, at)
		clk.add(holdTTL + time.Second)
		defer clk.add(-holdTTL - time.Second)
		resp, body := anna.get(segretariato + "/conferma?inizio=" + at)
		wantStatus(t, resp, http.StatusConflict)
		wantContains(t, body, "Il tempo per confermare è scaduto")
		resp, body = confirm(anna, segretariato, at, key, "modalita", "phone", "lingua", "ro", "interprete", "yes")
		wantStatus(t, resp, http.StatusConflict)
		wantContains(t, body, "Il tempo per confermare è scaduto", "Prossimi orari liberi", `value="`+at+`"`,
			`name="modalita" value="phone"`, `name="lingua" value="ro"`, `name="interprete" value="yes"`)
		// holding again carries the choices on to the confirm page
		resp, _ = anna.post(segretariato, "inizio", at, "modalita", "phone", "lingua", "ro", "interprete", "yes")
		wantStatus(t, resp, http.StatusSeeOther)
		_, body = anna.get(resp.Header.Get("Location"))
		wantContains(t, body, `value="phone" checked`, `value="ro" lang="ro" selected`, `value="yes" checked`)
	})

	t.Run("held by someone else", func(t *testing.T) {
		at := romeSlot(time.November, 25, 9, 0) // the colloquio has one desk
		hold(t, anna, colloquio, at)
		resp, body := bruno.post(colloquio, "inizio", at)
		wantStatus(t, resp, http.StatusConflict)
		wantContains(t, body, "persona sta confermando questo orario", "Prossimi orari liberi")
		// the next free times leave out the one another person is confirming, not for that person
		if strings.Contains(body, `value="`+at+`"`) {
			t.Errorf("the time anna holds is offered to bruno as free")
		}
		_, body = anna.post(colloquio, "inizio", romeSlot(time.November, 23, 9, 0))
		wantContains(t, body, "Prossimi orari liberi", `value="`+at+`"`)
		resp, body = confirm(bruno, colloquio, at, "BBBBBBBBBBBBBBBBBBBBBBBBBB", "modalita", "online", "lingua", "it")
		wantStatus(t, resp, http.StatusConflict)
		wantContains(t, body, "persona sta confermando questo orario", `name="modalita" value="online"`)
	})

	t.Run("just taken", func(t *testing.T) {
		at := romeSlot(time.November, 24, 11, 0) // two desks: both residents may hold it
		annaKey := hold(t, anna, segretariato, at)
		brunoKey := hold(t, bruno, segretariato, at)
		// meanwhile the office books the other place for someone on the phone
		e.bookDirectly(t, "segretariato-sociale", at)
		resp, _ := confirm(anna, segretariato, at, annaKey, "modalita", "in_person", "lingua", "it")
		wantStatus(t, resp, http.StatusSeeOther)
		resp, body := confirm(bruno, segretariato, at, brunoKey, "modalita", "phone", "lingua", "sq")
		wantStatus(t, resp, http.StatusConflict)
		wantContains(t, body, "Questo orario è appena stato prenotato da un", "Prossimi orari liberi",
			`name="lingua" value="sq"`)
		if strings.Contains(body, `value="`+at+`"`) {
			t.Error("the full time is offered again")
		}
		if n := e.countRows(t, `SELECT taken FROM slot_counters WHERE starts_at = to_timestamp($1)`, atoi(at)); n != 2 {
			t.Errorf("%d places taken in a slot of two", n)
		}
	})

	t.Run("limit of open appointments", func(t *testing.T) {
		// Anna holds one segretariato appointment (just taken, above); one more is allowed, then none
		at := romeSlot(time.November, 26, 9, 0)
		key := hold(t, anna, segretariato, at)
		resp, _ := confirm(anna, segretariato, at, key, "modalita", "phone", "lingua", "it")
		wantStatus(t, resp, http.StatusSeeOther)
		resp, body := anna.post(segretariato, "inizio", romeSlot(time.November, 27, 9, 0))
		wantStatus(t, resp, http.StatusConflict)
		wantContains(t, body, "Hai già il numero massimo di appuntamenti in programma", `href="/appuntamenti"`)
	})

	t.Run("limit reached from another tab", func(t *testing.T) {
		// Bruno holds two times in two tabs, then confirms both: the second is refused on the confirm page
		a, b := romeSlot(time.November, 30, 9, 0), romeSlot(time.November, 30, 9, 30)
		ka, kb := hold(t, bruno, segretariato, a), hold(t, bruno, segretariato, b)
		resp, _ := confirm(bruno, segretariato, a, ka, "modalita", "phone", "lingua", "it")
		wantStatus(t, resp, http.StatusSeeOther)
		e.bookDirectlyFor(t, "bruno@example.org", "segretariato-sociale", romeSlot(time.December, 1, 9, 0))
		resp, body := confirm(bruno, segretariato, b, kb, "modalita", "in_person", "lingua", "it", "interprete", "yes")
		wantStatus(t, resp, http.StatusConflict)
		wantContains(t, body, "Hai già il numero massimo", `value="in_person" checked`, `value="yes" checked`)
	})
}

const holdTTL = 5 * time.Minute

// bookDirectly books a place for a new resident without the web pages (as the office does for a phone call).
func (e *env) bookDirectly(t *testing.T, service, start string) {
	t.Helper()
	var id int64
	cf := "TSTPHN" + strings.ToUpper(strconv.FormatInt(time.Now().UnixNano()%1e10, 36))
	cf += strings.Repeat("0", 16-len(cf))
	if err := e.db.Pool.QueryRow(context.Background(), `INSERT INTO people (fiscal_code) VALUES ($1) RETURNING id`, cf).Scan(&id); err != nil {
		t.Fatal(err)
	}
	e.bookFor(t, id, service, start)
}

func (e *env) bookDirectlyFor(t *testing.T, email, service, start string) {
	t.Helper()
	e.bookFor(t, e.personOf(t, email), service, start)
}

func (e *env) bookFor(t *testing.T, person int64, service, start string) {
	t.Helper()
	at := time.Unix(int64(atoi(start)), 0)
	e.bookSlot(t, person, service, "phone", at, at.Add(-48*time.Hour),
		"PHONEBOOKING"+strings.Repeat("A", 14-len(strconv.Itoa(int(person))))+alpha(person))
}

// bookSlot books the slot of a service at the Crema sportello that starts at at for a person, as made at then with
// the confirm form's key, straight through storage; it returns the booking.
func (e *env) bookSlot(t *testing.T, person int64, service, mode string, at, then time.Time, key string) storage.Booking {
	t.Helper()
	ctx := context.Background()
	svc, err := e.db.ServiceByCode(ctx, service)
	if err != nil {
		t.Fatal(err)
	}
	office, err := e.db.ServiceOffice(ctx, service, "sportello-crema")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := e.db.SlotRules(ctx, svc, office, then)
	if err != nil {
		t.Fatal(err)
	}
	sl, ok := slots.Find(rules, at, then)
	if !ok {
		t.Fatalf("%s is no slot of %s", at, service)
	}
	b, err := e.db.Book(ctx, storage.NewBooking{PersonID: person, Service: svc, Office: office.Code, Slot: sl, Mode: mode,
		Lang: "it", Key: key, Now: then}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// alpha spells n with the letters A–J, for keys of base32 letters.
func alpha(n int64) string {
	s := strconv.FormatInt(n, 10)
	return strings.Map(func(r rune) rune { return 'A' + (r - '0') }, s)
}
