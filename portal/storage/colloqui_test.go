package storage_test

import (
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// A new booking's worker (014): the first free worker whose own hours open the slot, none on leave, none for a
// slot only the office's hours open; staff change it, within scope.
func TestDefaultWorker(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := t.Context()
	svc, office := crema(t, db)
	var workers []int64
	for _, u := range []string{"op.primo", "op.secondo"} {
		id, err := db.CreateStaff(ctx, storage.NewStaff{Username: u, FullName: u, Role: storage.RoleOperatore,
			Scopes: []string{"crema"}, PasswordHash: "$argon2id$test"})
		if err != nil {
			t.Fatal(err)
		}
		workers = append(workers, id)
		// both receive on Tuesday mornings, besides the office's own hours
		if _, err := db.Pool.Exec(ctx, `INSERT INTO availability (office, service, staff_id, weekday, starts, ends)
			VALUES ($1, $2, $3, 2, '09:00', '12:30')`, office.Code, svc.Code, id); err != nil {
			t.Fatal(err)
		}
	}
	// the first is on leave on Tuesday 1 December
	if _, err := db.Pool.Exec(ctx, `INSERT INTO availability_exceptions (office, staff_id, kind, first_day, last_day, note)
		VALUES ($1, $2, 'closed', '2026-12-01', '2026-12-01', 'ferie')`, office.Code, workers[0]); err != nil {
		t.Fatal(err)
	}
	rules, err := db.SlotRules(ctx, svc, office, bookingNow)
	if err != nil {
		t.Fatal(err)
	}
	people := newPeople(t, db, 4)
	book := func(i int, at time.Time) storage.RoomBooking {
		t.Helper()
		sl, ok := slots.Find(rules, at, bookingNow)
		if !ok {
			t.Fatalf("%s is no slot", at)
		}
		b, err := db.Book(ctx, bookingFor(people[i], svc, office, sl, key(200+i)), nil)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := db.RoomBookingOf(ctx, b.ID, people[i])
		if err != nil {
			t.Fatal(err)
		}
		return rb
	}
	tuesday := time.Date(2026, 11, 24, 9, 30, 0, 0, i18n.Rome)
	if a, b := book(0, tuesday), book(1, tuesday); a.StaffID != workers[0] || b.StaffID != workers[1] || b.WorkerName != "op.secondo" {
		t.Errorf("two bookings of one slot went to workers %d and %d, want %v", a.StaffID, b.StaffID, workers)
	}
	if b := book(2, time.Date(2026, 12, 1, 9, 30, 0, 0, i18n.Rome)); b.StaffID != workers[1] {
		t.Errorf("with the first on leave the booking went to %d", b.StaffID)
	}
	wednesday := book(3, time.Date(2026, 11, 25, 9, 30, 0, 0, i18n.Rome))
	if wednesday.StaffID != 0 {
		t.Errorf("a slot of the office's own hours went to worker %d", wednesday.StaffID)
	}

	// staff in scope assign it; a worker of another sub-ambito cannot receive it; staff out of scope see nothing
	admin := storage.Actor{StaffID: workers[1]}
	if _, _, err := db.AssignBooking(ctx, admin, wednesday.ID, workers[1]); err != nil {
		t.Fatal(err)
	}
	far, err := db.CreateStaff(ctx, storage.NewStaff{Username: "op.lontano", FullName: "op.lontano", Role: storage.RoleOperatore,
		Scopes: []string{"soncino"}, PasswordHash: "$argon2id$test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.AssignBooking(ctx, admin, wednesday.ID, far); err != storage.ErrNotAssignable {
		t.Errorf("assigned to a worker of Soncino: %v", err)
	}
	if _, _, err := db.AssignBooking(ctx, storage.Actor{StaffID: far}, wednesday.ID, far); err != storage.ErrNotFound {
		t.Errorf("assigned by a worker of Soncino: %v", err)
	}
	if got, err := db.RoomBookingInScope(ctx, workers[0], wednesday.ID); err != nil || got.StaffID != workers[1] {
		t.Errorf("after assigning: %+v %v", got, err)
	}
}
