package portal_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

var manageLinkRe = regexp.MustCompile(`/appuntamenti/gestisci/[A-Za-z0-9_-]{43}`)

// reminders returns the rows of the reminder of booking id, by channel, with when they go out.
func (e *env) reminders(t *testing.T, id int64) map[string]time.Time {
	t.Helper()
	rows, err := e.db.Pool.Query(context.Background(), `SELECT channel, send_at FROM notifications
		WHERE unique_key = 'appointment_reminder:' || $1::bigint`, id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]time.Time{}
	for rows.Next() {
		var ch string
		var at time.Time
		if err := rows.Scan(&ch, &at); err != nil {
			t.Fatal(err)
		}
		out[ch] = at
	}
	return out
}

// bookingAt books a slot of the Crema segretariato for a new resident straight in the database (filling a slot).
func (e *env) fillSlot(t *testing.T, at time.Time, n int) {
	t.Helper()
	ctx := context.Background()
	svc, _ := e.db.ServiceByCode(ctx, "segretariato-sociale")
	for i := range n {
		var person int64
		if err := e.db.Pool.QueryRow(ctx, `INSERT INTO people (fiscal_code) VALUES ('TSTFILL' || $1::int || 'ABCDEFGH') RETURNING id`,
			i).Scan(&person); err != nil {
			t.Fatal(err)
		}
		sl := slots.Slot{Start: at, End: at.Add(30 * time.Minute), Capacity: 2}
		if _, err := e.db.Book(ctx, storage.NewBooking{PersonID: person, Service: svc, Office: "sportello-crema", Slot: sl,
			Mode: "in_person", Lang: "it", Key: key26(i), Now: at.Add(-72 * time.Hour)}, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func key26(i int) string { return "FILLKEYAAAAAAAAAAAAAAAAAA" + string(rune('A'+i)) }

// From the link in the confirmation e-mail, without signing in: the appointment, its .ics, a tampered link, a move
// into a full slot (nothing changes), into the past (refused), then to a free time (new place taken, old freed,
// reminder moved, new link sent, old link shows it moved), then cancelling (reminder withdrawn).
func TestRescheduleByLink(t *testing.T) {
	e, _ := newStaffEnv(t, withMail())
	anna := e.citizen(t, "anna@example.org", cfAnna)
	wed := time.Date(2026, 11, 25, 9, 0, 0, 0, i18n.Rome)
	start := romeSlot(time.November, 25, 9, 0)
	key := hold(t, anna, segretariato, start)
	resp, _ := confirm(anna, segretariato, start, key, "modalita", "in_person", "lingua", "it")
	wantStatus(t, resp, http.StatusSeeOther)
	var first int64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT id FROM bookings`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	mail := e.mailContaining(t, "anna@example.org", "25 novembre 2026, ore 09:00")
	link := manageLinkRe.FindString(mail.Text)
	if link == "" {
		t.Fatalf("no link in\n%s", mail.Text)
	}
	raw := e.rawMailContaining(t, "anna@example.org", link)
	if !strings.Contains(raw, "text/calendar") || !strings.Contains(raw, "appuntamento.ics") {
		t.Errorf("the confirmation has no .ics attached")
	}
	// the reminder, the day before, by e-mail and in the inbox
	r := e.reminders(t, first)
	if len(r) != 2 || !r["email"].Equal(wed.Add(-24*time.Hour)) || !r["inbox"].Equal(wed.Add(-24*time.Hour)) {
		t.Fatalf("reminders %v", r)
	}
	if n := e.countRows(t, `SELECT count(*) FROM notifications WHERE unique_key = 'appointment_reminder:' || $1::bigint
		AND channel = 'inbox' AND data->>'Link' LIKE '/appuntamenti/gestisci/%'`, first); n != 0 {
		t.Error("the link's secret is kept in the inbox")
	}

	guest := e.client(t)
	resp, body := guest.get(link)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "25 novembre 2026, ore 09:00", "Sportello sociale di Crema", "Prenotato", link+"/sposta",
		link+"/annulla", link+"/calendario.ics")

	// a tampered or made-up link is a clear 404
	tampered := link[:len(link)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(link, "A")]
	for _, p := range []string{tampered, "/appuntamenti/gestisci/abc", tampered + "/sposta", tampered + "/calendario.ics"} {
		resp, body = guest.get(p)
		wantStatus(t, resp, http.StatusNotFound)
		wantContains(t, body, "Link non valido")
	}
	resp, _ = guest.post(tampered + "/annulla")
	wantStatus(t, resp, http.StatusNotFound)

	resp, body = guest.get(link + "/calendario.ics")
	wantStatus(t, resp, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") ||
		!strings.Contains(body, "DTSTART;TZID=Europe/Rome:20261125T090000\r\n") || !strings.Contains(body, "BEGIN:VTIMEZONE") {
		t.Errorf("calendar %q:\n%s", ct, body)
	}

	resp, body = guest.get(link + "/sposta")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Sposta l", "Sposta a questo orario")

	// 09:30 is full: moving there keeps the appointment at 09:00
	full := time.Date(2026, 11, 25, 9, 30, 0, 0, i18n.Rome)
	e.fillSlot(t, full, 2)
	resp, body = guest.post(link+"/sposta", "inizio", romeSlot(time.November, 25, 9, 30), "giorno", "2026-11-25")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "Il tuo appuntamento non è cambiato")
	if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE id = $1 AND status = 'booked'`, first); n != 1 {
		t.Fatal("a refused move changed the appointment")
	}
	// a past time
	resp, body = guest.post(link+"/sposta", "inizio", romeSlot(time.November, 23, 9, 0))
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "già passato")

	resp, _ = guest.post(link+"/sposta", "inizio", romeSlot(time.November, 26, 11, 0))
	wantStatus(t, resp, http.StatusSeeOther)
	newLink, _, _ := strings.Cut(resp.Header.Get("Location"), "?")
	if !manageLinkRe.MatchString(newLink) || newLink == link {
		t.Fatalf("after moving: %q", resp.Header.Get("Location"))
	}
	var moved int64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT id FROM bookings WHERE status = 'booked' AND person_id IS NOT NULL
		AND starts_at = $1`, time.Date(2026, 11, 26, 11, 0, 0, 0, i18n.Rome)).Scan(&moved); err != nil {
		t.Fatal(err)
	}
	if n := e.countRows(t, `SELECT count(*) FROM bookings WHERE id = $1 AND status = 'moved'`, first); n != 1 {
		t.Error("the old booking is not marked moved")
	}
	if n := e.countRows(t, `SELECT taken FROM slot_counters WHERE starts_at = $1`, wed); n != 0 {
		t.Errorf("the old place is still taken (%d)", n)
	}
	if r := e.reminders(t, first); len(r) != 0 {
		t.Errorf("the old reminder is still scheduled: %v", r)
	}
	if n := e.countRows(t, `SELECT count(*) FROM river_job WHERE state NOT IN ('cancelled', 'completed')
		AND args->>'notification_id' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.id = (args->>'notification_id')::bigint)`); n != 0 {
		t.Errorf("%d delivery jobs left for withdrawn rows", n)
	}
	if r := e.reminders(t, moved); len(r) != 2 || !r["email"].Equal(time.Date(2026, 11, 25, 11, 0, 0, 0, i18n.Rome)) {
		t.Errorf("new reminders %v", r)
	}
	e.mailContaining(t, "anna@example.org", newLink)
	resp, body = guest.get(newLink + "?spostato=1")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Appuntamento spostato", "26 novembre 2026, ore 11:00")
	resp, body = guest.get(link)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "è stato spostato", "Spostato")
	resp, _ = guest.post(link+"/sposta", "inizio", romeSlot(time.November, 27, 11, 0))
	wantStatus(t, resp, http.StatusConflict)

	// cancelling through the new link withdraws the reminder
	resp, _ = guest.post(newLink + "/annulla")
	wantRedirect(t, resp, newLink+"?annullato=1")
	if r := e.reminders(t, moved); len(r) != 0 {
		t.Errorf("reminder of a cancelled appointment: %v", r)
	}
	resp, body = guest.get(newLink)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "è stato annullato", "Annullato")
	resp, _ = guest.post(newLink+"/sposta", "inizio", romeSlot(time.November, 27, 11, 0))
	wantStatus(t, resp, http.StatusConflict)
}

// Signed in, "I miei appuntamenti" offers the same: move, .ics; nobody else's.
func TestRescheduleSignedIn(t *testing.T) {
	e, clk := newStaffEnv(t, withMail())
	anna := e.citizen(t, "anna@example.org", cfAnna)
	start := romeSlot(time.November, 25, 10, 0)
	key := hold(t, anna, segretariato, start)
	resp, _ := confirm(anna, segretariato, start, key, "modalita", "in_person", "lingua", "it")
	wantStatus(t, resp, http.StatusSeeOther)
	page, _, _ := strings.Cut(resp.Header.Get("Location"), "?")
	_, body := anna.get(page)
	wantContains(t, body, page+"/sposta", page+"/calendario.ics")
	resp, body = anna.get(page + "/calendario.ics")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "BEGIN:VCALENDAR", "DTSTART;TZID=Europe/Rome:20261125T100000")
	bruno := e.citizen(t, "bruno@example.org", cfMario)
	for _, p := range []string{page + "/sposta", page + "/calendario.ics"} {
		resp, _ = bruno.get(p)
		wantStatus(t, resp, http.StatusNotFound)
	}
	resp, _ = anna.post(page+"/sposta", "inizio", romeSlot(time.November, 25, 10, 0))
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	resp, _ = anna.post(page+"/sposta", "inizio", romeSlot(time.November, 25, 11, 0))
	wantStatus(t, resp, http.StatusSeeOther)
	next, _, _ := strings.Cut(resp.Header.Get("Location"), "?")
	_, body = anna.get(next + "?spostato=1")
	wantContains(t, body, "Appuntamento spostato", "25 novembre 2026, ore 11:00")
	// once it has begun it cannot be moved, nor cancelled, through its link either
	link := manageLinkRe.FindString(e.mailContaining(t, "anna@example.org", "25 novembre 2026, ore 11:00").Text)
	clk.add(49 * time.Hour)
	guest := e.client(t)
	resp, body = guest.get(link + "/sposta")
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "non si può più spostare")
	resp, body = guest.get(link)
	wantContains(t, body, "è già passato")
	resp, _ = guest.post(link + "/annulla")
	wantStatus(t, resp, http.StatusConflict)
}

// rawMailContaining is the raw e-mail to addr whose text contains want (its attachments are in the raw form).
func (e *env) rawMailContaining(t *testing.T, addr, want string) string {
	t.Helper()
	e.mailContaining(t, addr, want)
	for _, m := range e.mail.Messages() {
		if len(m.To) == 1 && m.To[0] == addr && strings.Contains(testenv.ParseMail(t, m.Raw).Text, want) {
			return string(m.Raw)
		}
	}
	t.Fatalf("no e-mail to %s about %s", addr, want)
	return ""
}
