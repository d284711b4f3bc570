package storage_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// A guest's bookings follow a resident's rules by e-mail address: a key books once, one place per address in a
// slot, the service's limit of open appointments (two concurrent tabs cannot both take the last one), and
// PostgreSQL refuses a guest booking without its name or a resident's with a guest's details.
func TestGuestBookingsByAddress(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := t.Context()
	svc, office := crema(t, db) // at most two open bookings per person
	free, err := db.FreeSlots(ctx, svc, office, 0, 1<<30, bookingNow)
	if err != nil {
		t.Fatal(err)
	}
	guest := func(email string, i int) storage.NewBooking {
		nb := bookingFor(0, svc, office, free[i], key(100+i))
		nb.Guest = &storage.Guest{Email: email, Name: "Ospite Prova", Lang: "uk", VerifiedAt: bookingNow}
		return nb
	}
	calls := 0
	then := func(pgx.Tx, storage.Booking) error { calls++; return nil }
	first, err := db.Book(ctx, guest("ospite@example.org", 0), then)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Guest() || first.PersonID != nil || first.GuestName != "Ospite Prova" || first.GuestLang != "uk" || first.GuestPhone != "" {
		t.Errorf("guest booking %+v", first)
	}
	again, err := db.Book(ctx, guest("ospite@example.org", 0), then)
	if err != nil || again.ID != first.ID || calls != 1 {
		t.Fatalf("the same key again: %d (first %d), %d confirmations, %v", again.ID, first.ID, calls, err)
	}
	if b, err := db.BookingByGuestKey(ctx, key(100), "ospite@example.org"); err != nil || b.ID != first.ID {
		t.Errorf("by key: %v %v", b.ID, err)
	}
	if _, err := db.BookingByGuestKey(ctx, key(100), "altro@example.org"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("another address finds the booking by its key: %v", err)
	}
	sameSlot := guest("ospite@example.org", 0)
	sameSlot.Key = key(150)
	if _, err := db.Book(ctx, sameSlot, then); !errors.Is(err, storage.ErrAlreadyBooked) {
		t.Errorf("the same address in the same slot: %v", err)
	}

	// one open booking left for the address: two tabs race for it, one gets it
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = db.Book(ctx, guest("ospite@example.org", 1+i), nil)
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !(errors.Is(errs[0], storage.ErrBookingLimit) || errors.Is(errs[1], storage.ErrBookingLimit)) {
		t.Errorf("racing for the last open booking: %v, %v", errs[0], errs[1])
	}
	var open int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM bookings WHERE guest_email = 'ospite@example.org'`).Scan(&open); err != nil || open != 2 {
		t.Errorf("%d open guest bookings (%v)", open, err)
	}
	// another address, and a resident, have limits of their own
	if _, err := db.Book(ctx, guest("altro@example.org", 3), nil); err != nil {
		t.Errorf("another address: %v", err)
	}

	at := time.Date(2026, 11, 24, 11, 0, 0, 0, bookingNow.Location())
	person := newPeople(t, db, 1)[0]
	for name, sql := range map[string]string{
		"a guest booking without a name": `INSERT INTO bookings (service, office, mode, starts_at, ends_at, guest_email,
			guest_verified_at, guest_lang, lang) VALUES ('segretariato-sociale', 'sportello-crema', 'phone', $1, $2, 'x@example.org', now(), 'it', 'it')`,
		"a guest booking not verified": `INSERT INTO bookings (service, office, mode, starts_at, ends_at, guest_email,
			guest_name, guest_lang, lang) VALUES ('segretariato-sociale', 'sportello-crema', 'phone', $1, $2, 'x@example.org', 'X', 'it', 'it')`,
		"a resident's booking with a guest's name": `INSERT INTO bookings (service, office, mode, starts_at, ends_at, person_id,
			guest_name, lang) VALUES ('segretariato-sociale', 'sportello-crema', 'phone', $1, $2, $3, 'X', 'it')`,
		"a guest's malformed mobile number": `INSERT INTO bookings (service, office, mode, starts_at, ends_at, guest_email,
			guest_verified_at, guest_name, guest_phone, guest_lang, lang) VALUES ('segretariato-sociale', 'sportello-crema', 'phone',
			$1, $2, 'x@example.org', now(), 'X', '333 1234', 'it', 'it')`,
	} {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO slot_counters (office, service, starts_at, capacity)
			VALUES ('sportello-crema', 'segretariato-sociale', $1, 2) ON CONFLICT DO NOTHING`, at); err != nil {
			t.Fatal(err)
		}
		args := []any{at, at.Add(30 * time.Minute)}
		if strings.Contains(sql, "$3") {
			args = append(args, person)
		}
		if _, err := db.Pool.Exec(ctx, sql, args...); err == nil {
			t.Errorf("%s was written", name)
		}
	}
}
