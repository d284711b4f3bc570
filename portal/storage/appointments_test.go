package storage_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// bookingNow is a Friday morning; the seeded Crema sportello receives Monday to Friday 09:00–12:30 and on
// Wednesday afternoon, with two desks for the segretariato sociale.
var bookingNow = time.Date(2026, 11, 20, 10, 0, 0, 0, i18n.Rome)

// newPeople inserts n residents and returns their IDs.
func newPeople(t *testing.T, db *storage.DB, n int) []int64 {
	t.Helper()
	rows, _ := db.Pool.Query(context.Background(), `INSERT INTO people (fiscal_code)
		SELECT 'TSTBKG' || upper(substr(md5(random()::text || i), 1, 10)) FROM generate_series(1, $1) i RETURNING id`, n)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// crema returns the segretariato sociale at the Crema sportello.
func crema(t *testing.T, db *storage.DB) (storage.Service, storage.ServiceOffice) {
	t.Helper()
	svc, err := db.ServiceByCode(t.Context(), "segretariato-sociale")
	if err != nil {
		t.Fatal(err)
	}
	office, err := db.ServiceOffice(t.Context(), svc.Code, "sportello-crema")
	if err != nil {
		t.Fatal(err)
	}
	return svc, office
}

// key is a confirm form's key (26 base32 characters), different for each i < 676.
func key(i int) string {
	return "BOOKINGKEYAAAAAAAAAAAAAA" + string(rune('A'+i/26)) + string(rune('A'+i%26))
}

func bookingFor(person int64, svc storage.Service, office storage.ServiceOffice, s slots.Slot, k string) storage.NewBooking {
	return storage.NewBooking{PersonID: person, Service: svc, Office: office.Code, Slot: s, Mode: "in_person", Lang: "it",
		Key: k, Now: bookingNow}
}

// The seeded availability gives the slots a resident expects: the first free day is the next working day, the
// Immacolata (8 December) is closed, Wednesday has its afternoon.
func TestSlotsFromSeededAvailability(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	svc, office := crema(t, db)
	free, err := db.FreeSlots(t.Context(), svc, office, 0, 1<<30, bookingNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(free) == 0 || !free[0].Start.Equal(time.Date(2026, 11, 23, 9, 0, 0, 0, i18n.Rome)) || free[0].Capacity != 2 {
		t.Fatalf("first free slot %+v", free[0])
	}
	last := slots.DayOf(free[len(free)-1].Start, i18n.Rome)
	if want := slots.DayOf(bookingNow, i18n.Rome) + 60; last > want {
		t.Errorf("slots until %s, beyond the 60 days of the service", last)
	}
	immacolata, wednesday := slots.Date(2026, 12, 8), slots.Date(2026, 12, 9)
	if n := len(slots.On(free, immacolata, i18n.Rome)); n != 0 {
		t.Errorf("%d slots on 8 December", n)
	}
	wed := slots.On(free, wednesday, i18n.Rome)
	if len(wed) != 7+6 || wed[len(wed)-1].Start.In(i18n.Rome).Format("15:04") != "16:30" {
		t.Errorf("Wednesday: %d slots, last %v", len(wed), wed[len(wed)-1].Start)
	}
}

// Fifty residents race for the last place of one slot: exactly one gets it, the others are told it was just
// taken, and the slot never holds more bookings than it has places.
func TestBookingRaceForTheLastPlace(t *testing.T) {
	s := testenv.Shared(t)
	db, err := storage.Open(t.Context(), s.DatabaseURL(t), 60)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	ctx := context.Background()
	svc, office := crema(t, db)
	free, err := db.FreeSlots(ctx, svc, office, 0, 1<<30, bookingNow)
	if err != nil {
		t.Fatal(err)
	}
	slot := free[0]
	people := newPeople(t, db, 52)
	if _, err := db.Book(ctx, bookingFor(people[0], svc, office, slot, key(0)), nil); err != nil {
		t.Fatal(err)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, taken := 0, 0
	var other []error
	for i, p := range people[1:51] {
		wg.Go(func() {
			<-start
			_, err := db.Book(ctx, bookingFor(p, svc, office, slot, key(i+1)), nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, storage.ErrSlotTaken):
				taken++
			default:
				other = append(other, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if won != 1 || taken != 49 || len(other) > 0 {
		t.Fatalf("%d booked, %d told taken, other errors: %v", won, taken, other)
	}
	var booked, counted int
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM bookings WHERE starts_at = $1 AND status = 'booked'),
		(SELECT taken FROM slot_counters WHERE starts_at = $1)`, slot.Start).Scan(&booked, &counted); err != nil {
		t.Fatal(err)
	}
	if booked != 2 || counted != 2 {
		t.Errorf("%d bookings, counter %d, in a slot of 2 places", booked, counted)
	}
	// a cancellation frees a place for the next resident
	if _, err := db.CancelBooking(ctx, mustBooking(t, db, people[0]), people[0], bookingNow); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Book(ctx, bookingFor(people[51], svc, office, slot, key(99)), nil); err != nil {
		t.Errorf("after a cancellation: %v", err)
	}
}

func mustBooking(t *testing.T, db *storage.DB, person int64) int64 {
	t.Helper()
	all, err := db.BookingsOf(t.Context(), person)
	if err != nil || len(all) == 0 {
		t.Fatalf("bookings of %d: %v (%v)", person, all, err)
	}
	return all[0].ID
}

// The per-person limit, the same key twice, cancelling and the confirmation written in the booking's transaction.
func TestBookingLimitKeyAndCancel(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := t.Context()
	svc, office := crema(t, db) // at most two open bookings per person
	free, err := db.FreeSlots(ctx, svc, office, 0, 1<<30, bookingNow)
	if err != nil {
		t.Fatal(err)
	}
	me := newPeople(t, db, 1)[0]
	calls := 0
	then := func(tx pgx.Tx, b storage.Booking) error {
		calls++
		_, err := tx.Exec(ctx, `INSERT INTO notifications (kind, person_id, channel, lang, unique_key, status, sent_at)
			VALUES ('appointment_booked', $1, 'inbox', 'it', $2, 'sent', now())`, me, fmt.Sprint("booked:", b.ID))
		return err
	}
	first, err := db.Book(ctx, bookingFor(me, svc, office, free[0], key(1)), then)
	if err != nil {
		t.Fatal(err)
	}
	again, err := db.Book(ctx, bookingFor(me, svc, office, free[0], key(1)), then)
	if err != nil || again.ID != first.ID || calls != 1 {
		t.Fatalf("the same key again: booking %d (first %d), %d confirmations, %v", again.ID, first.ID, calls, err)
	}
	if first.OfficeName == "" || first.ServiceMsg != "segretariato" || first.Status != storage.BookingBooked ||
		!first.EndsAt.Equal(free[0].Start.Add(30*time.Minute)) {
		t.Errorf("booking %+v", first)
	}
	if _, err := db.Book(ctx, bookingFor(me, svc, office, free[0], key(6)), then); !errors.Is(err, storage.ErrAlreadyBooked) {
		t.Fatalf("the same slot from another tab: %v", err)
	}
	if _, err := db.Book(ctx, bookingFor(me, svc, office, free[1], key(2)), then); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Book(ctx, bookingFor(me, svc, office, free[2], key(3)), then); !errors.Is(err, storage.ErrBookingLimit) {
		t.Fatalf("a third open booking: %v", err)
	}
	// a confirmation that cannot be written undoes the booking
	failing := func(pgx.Tx, storage.Booking) error { return errors.New("outbox down") }
	other := newPeople(t, db, 2)[1]
	if _, err := db.Book(ctx, bookingFor(other, svc, office, free[2], key(4)), failing); err == nil {
		t.Fatal("booked although the confirmation failed")
	}
	if n, _ := db.OpenBookings(ctx, other, svc.Code, bookingNow); n != 0 {
		t.Errorf("%d bookings left by a failed transaction", n)
	}
	// someone else cannot cancel it; after cancelling, the limit lets one more in
	if _, err := db.CancelBooking(ctx, first.ID, other, bookingNow); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a stranger cancels: %v", err)
	}
	cancelled, err := db.CancelBooking(ctx, first.ID, me, bookingNow)
	if err != nil || cancelled.Status != storage.BookingCancelled || cancelled.CancelledAt == nil {
		t.Fatalf("cancel: %+v %v", cancelled, err)
	}
	if _, err := db.CancelBooking(ctx, first.ID, me, bookingNow); !errors.Is(err, storage.ErrNotCancellable) {
		t.Errorf("cancelled twice: %v", err)
	}
	if _, err := db.Book(ctx, bookingFor(me, svc, office, free[2], key(5)), then); err != nil {
		t.Errorf("after cancelling: %v", err)
	}
	var taken int
	if err := db.Pool.QueryRow(ctx, `SELECT taken FROM slot_counters WHERE starts_at = $1`, free[0].Start).Scan(&taken); err != nil || taken != 0 {
		t.Errorf("the cancelled slot's counter: %d (%v)", taken, err)
	}
	// an appointment that has begun cannot be cancelled any more
	second := mustBookingAt(t, db, me, free[1].Start)
	if _, err := db.CancelBooking(ctx, second, me, free[1].Start.Add(time.Minute)); !errors.Is(err, storage.ErrNotCancellable) {
		t.Errorf("cancelled after it began: %v", err)
	}
}

func mustBookingAt(t *testing.T, db *storage.DB, person int64, at time.Time) int64 {
	t.Helper()
	all, _ := db.BookingsOf(t.Context(), person)
	for _, b := range all {
		if b.StartsAt.Equal(at) && b.Status == storage.BookingBooked {
			return b.ID
		}
	}
	t.Fatalf("no booking of %d at %s", person, at)
	return 0
}

// PostgreSQL itself refuses what would break the rules, whatever code writes: a booking beyond the slot's places,
// a booking without its slot's counter, a booking moved in place.
func TestBookingConstraints(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := t.Context()
	people := newPeople(t, db, 3)
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, i18n.Rome)
	insert := func(person int64) error {
		_, err := db.Pool.Exec(ctx, `INSERT INTO bookings (service, office, mode, starts_at, ends_at, person_id, lang)
			VALUES ('colloquio-assistente-sociale', 'sportello-crema', 'online', $1, $2, $3, 'ar')`, at, at.Add(45*time.Minute), person)
		return err
	}
	if err := insert(people[0]); err == nil {
		t.Error("a booking without its slot's counter was written")
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO slot_counters (office, service, starts_at, capacity)
		VALUES ('sportello-crema', 'colloquio-assistente-sociale', $1, 1)`, at); err != nil {
		t.Fatal(err)
	}
	if err := insert(people[0]); err != nil {
		t.Fatal(err)
	}
	if err := insert(people[1]); err == nil {
		t.Error("a second booking in a slot of one place was written")
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE slot_counters SET taken = 2 WHERE starts_at = $1`, at); err == nil {
		t.Error("a counter above its capacity was written")
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE bookings SET starts_at = starts_at + interval '45 minutes' WHERE person_id = $1`, people[0]); err == nil {
		t.Error("a booking changed slot in place")
	}
	for name, sql := range map[string]string{
		"a service without modes":         `INSERT INTO services (code, msg, slot_minutes, modes) VALUES ('x-y', 'x', 30, '{}')`,
		"an unknown mode":                 `INSERT INTO services (code, msg, slot_minutes, modes) VALUES ('x-y', 'x', 30, '{video}')`,
		"a window ending before it opens": `INSERT INTO services (code, msg, slot_minutes, modes, bookable_from_days, bookable_to_days) VALUES ('x-y', 'x', 30, '{phone}', 10, 5)`,
		"a pattern ending before it starts": `INSERT INTO availability (office, service, weekday, starts, ends)
			VALUES ('sportello-crema', 'aiuto-domanda', 1, '12:00', '09:00')`,
		"weekday 8": `INSERT INTO availability (office, service, weekday, starts, ends) VALUES ('sportello-crema', 'aiuto-domanda', 8, '09:00', '12:00')`,
		"an extra opening without hours": `INSERT INTO availability_exceptions (office, service, kind, first_day, last_day)
			VALUES ('sportello-crema', 'aiuto-domanda', 'open', '2026-12-12', '2026-12-12')`,
	} {
		if _, err := db.Pool.Exec(ctx, sql); err == nil {
			t.Errorf("%s was written", name)
		}
	}
	// deleting a resident's account frees the place they held
	if _, err := db.Pool.Exec(ctx, `DELETE FROM people WHERE id = $1`, people[0]); err != nil {
		t.Fatal(err)
	}
	if err := insert(people[2]); err != nil {
		t.Errorf("the place of a deleted account stays taken: %v", err)
	}
}

func hashOf(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

// Moving is atomic: into a full slot it fails and the booking stays where it was; into the past it is refused;
// otherwise the new slot's place is taken and the old one freed in one transaction, the old booking marked moved
// and found by its old link's secret; the moved booking cannot be moved again; cancelling by the link's secret.
func TestBookingMoveAndCancelByToken(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := t.Context()
	svc, office := crema(t, db)
	free, err := db.FreeSlots(ctx, svc, office, 0, 1<<30, bookingNow)
	if err != nil {
		t.Fatal(err)
	}
	p := newPeople(t, db, 3)
	nb := bookingFor(p[0], svc, office, free[0], key(1))
	nb.TokenHash = hashOf("first")
	mine, err := db.Book(ctx, nb, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, other := range p[1:] { // free[1] is full: two desks, two residents
		if _, err := db.Book(ctx, bookingFor(other, svc, office, free[1], key(10+i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	taken := func(sl slots.Slot) int {
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT coalesce((SELECT taken FROM slot_counters WHERE office = $1 AND service = $2
			AND starts_at = $3), 0)`, office.Code, svc.Code, sl.Start).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	byLink := storage.BookingWhere{TokenHash: hashOf("first")}
	called := false
	then := func(pgx.Tx, storage.Booking, storage.Booking) error { called = true; return nil }
	full := free[1]
	full.Taken = 0 // what a stale page believed
	if _, err := db.MoveBooking(ctx, byLink, storage.Move{Slot: full, TokenHash: hashOf("second"), Now: bookingNow}, then); !errors.Is(err, storage.ErrSlotTaken) {
		t.Fatalf("move into a full slot: %v", err)
	}
	if b, err := db.BookingByToken(ctx, hashOf("first")); err != nil || b.Status != storage.BookingBooked || !b.StartsAt.Equal(free[0].Start) {
		t.Fatalf("after a refused move: %+v, %v", b, err)
	}
	if taken(free[0]) != 1 || taken(free[1]) != 2 || called {
		t.Fatalf("counters %d and %d after a refused move (then called: %v)", taken(free[0]), taken(free[1]), called)
	}
	past := slots.Slot{Start: bookingNow.Add(-time.Hour), End: bookingNow.Add(-30 * time.Minute), Capacity: 2}
	if _, err := db.MoveBooking(ctx, byLink, storage.Move{Slot: past, TokenHash: hashOf("second"), Now: bookingNow}, then); !errors.Is(err, storage.ErrSlotPast) {
		t.Fatalf("move into the past: %v", err)
	}
	if _, err := db.MoveBooking(ctx, storage.BookingWhere{TokenHash: hashOf("forged")}, storage.Move{Slot: free[2], Now: bookingNow}, then); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("move by an unknown secret: %v", err)
	}
	moved, err := db.MoveBooking(ctx, byLink, storage.Move{Slot: free[2], TokenHash: hashOf("second"), Now: bookingNow}, then)
	if err != nil || !called {
		t.Fatal(err)
	}
	if !moved.StartsAt.Equal(free[2].Start) || moved.Status != storage.BookingBooked || moved.ID == mine.ID || *moved.PersonID != p[0] {
		t.Fatalf("moved booking %+v", moved)
	}
	if taken(free[0]) != 0 || taken(free[2]) != 1 {
		t.Fatalf("counters %d and %d after the move", taken(free[0]), taken(free[2]))
	}
	if old, err := db.BookingByToken(ctx, hashOf("first")); err != nil || old.Status != storage.BookingMoved {
		t.Fatalf("old booking %+v, %v", old, err)
	}
	if _, err := db.MoveBooking(ctx, byLink, storage.Move{Slot: free[3], TokenHash: hashOf("third"), Now: bookingNow}, nil); !errors.Is(err, storage.ErrNotCancellable) {
		t.Fatalf("moving a moved booking: %v", err)
	}
	// the person's own, signed in: the limit of open bookings is not hit by moving
	if n, _ := db.OpenBookings(ctx, p[0], svc.Code, bookingNow); n != 1 {
		t.Fatalf("%d open bookings after moving", n)
	}
	c, err := db.Cancel(ctx, storage.BookingWhere{TokenHash: hashOf("second")}, bookingNow, nil)
	if err != nil || c.Status != storage.BookingCancelled || taken(free[2]) != 0 {
		t.Fatalf("cancel by link: %+v, %v", c, err)
	}
	if _, err := db.Cancel(ctx, storage.BookingWhere{TokenHash: hashOf("second")}, bookingNow, nil); !errors.Is(err, storage.ErrNotCancellable) {
		t.Fatalf("cancelling twice: %v", err)
	}
}
