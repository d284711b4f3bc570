package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
)

// Booking statuses. Booked, arrived and no-show occupy the slot's place; cancelled and moved free it.
const (
	BookingBooked    = "booked"
	BookingCancelled = "cancelled"
	BookingMoved     = "moved"
	BookingArrived   = "arrived"
	BookingNoShow    = "no_show"
)

// Modes of an appointment.
var Modes = []string{"in_person", "phone", "online"}

var (
	// ErrSlotTaken: the slot's last place went to someone else (PostgreSQL refused the booking, see 010).
	ErrSlotTaken = errors.New("storage: slot just taken")
	// ErrBookingLimit: the person already holds as many open appointments for the service as it allows.
	ErrBookingLimit = errors.New("storage: open bookings limit reached")
	// ErrAlreadyBooked: the person already has a booking in this slot (from another tab).
	ErrAlreadyBooked = errors.New("storage: already booked in this slot")
	// ErrNotCancellable: the appointment is over, or no longer booked.
	ErrNotCancellable = errors.New("storage: booking cannot be cancelled")
)

// Service is something residents book an appointment for.
type Service struct {
	Code         string   `db:"code"`
	Msg          string   `db:"msg"` // appointments.service.<Msg>.title / .text
	SlotMinutes  int      `db:"slot_minutes"`
	Modes        []string `db:"modes"`
	FromDays     int      `db:"bookable_from_days"`
	ToDays       int      `db:"bookable_to_days"`
	MaxOpen      int      `db:"max_open_per_person"`
	GuestAllowed bool     `db:"guest_allowed"`
}

const serviceColumns = `s.code, s.msg, s.slot_minutes, s.modes, s.bookable_from_days, s.bookable_to_days,
	s.max_open_per_person, s.guest_allowed`

// Services returns the services some office offers, in their order.
func (db *DB) Services(ctx context.Context) ([]Service, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+serviceColumns+` FROM services s
		WHERE EXISTS (SELECT 1 FROM office_services os WHERE os.service = s.code AND os.offered) ORDER BY s.position, s.code`)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Service])
	if err != nil {
		return nil, fmt.Errorf("storage: services: %w", err)
	}
	return out, nil
}

// ServiceByCode returns a service, or ErrNotFound.
func (db *DB) ServiceByCode(ctx context.Context, code string) (Service, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+serviceColumns+` FROM services s WHERE s.code = $1`, code)
	s, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Service])
	if errors.Is(err, pgx.ErrNoRows) {
		return Service{}, ErrNotFound
	}
	if err != nil {
		return Service{}, fmt.Errorf("storage: service %s: %w", code, err)
	}
	return s, nil
}

// ServiceOffice is an office offering a service, with its desks for it.
type ServiceOffice struct {
	Office
	ComuneCode string `db:"comune_code"`
	Capacity   int    `db:"capacity"`
}

// ServiceOffices returns the offices offering a service, by sub-ambito and name.
func (db *DB) ServiceOffices(ctx context.Context, service string) ([]ServiceOffice, error) {
	rows, _ := db.Pool.Query(ctx, `
		SELECT o.code, o.name, c.name AS comune, c.code AS comune_code, c.sub_ambito, o.address, o.phone, o.email, o.hours,
			os.capacity
		FROM office_services os JOIN offices o ON o.code = os.office JOIN comuni c ON c.code = o.comune
		JOIN sub_ambiti s ON s.code = c.sub_ambito
		WHERE os.service = $1 AND os.offered ORDER BY s.position, o.name`, service)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[ServiceOffice])
	if err != nil {
		return nil, fmt.Errorf("storage: offices of %s: %w", service, err)
	}
	return out, nil
}

// ServiceOffice returns one office offering a service, or ErrNotFound.
func (db *DB) ServiceOffice(ctx context.Context, service, office string) (ServiceOffice, error) {
	all, err := db.ServiceOffices(ctx, service)
	if err != nil {
		return ServiceOffice{}, err
	}
	for _, o := range all {
		if o.Code == office {
			return o, nil
		}
	}
	return ServiceOffice{}, ErrNotFound
}

// SlotRules loads what the slots of a service at an office come from: its desks, weekly patterns and the
// exceptions still to come at now.
func (db *DB) SlotRules(ctx context.Context, svc Service, office ServiceOffice, now time.Time) (slots.Rules, error) {
	return slotRules(ctx, db.Pool, svc, office, now)
}

// batcher sends a batch of queries: the pool, or a transaction (which sees its own changes).
type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

func slotRules(ctx context.Context, q batcher, svc Service, office ServiceOffice, now time.Time) (slots.Rules, error) {
	r := slots.Rules{SlotMinutes: svc.SlotMinutes, Capacity: office.Capacity, FromDays: svc.FromDays, ToDays: svc.ToDays,
		Loc: i18n.Rome}
	day := func(t *time.Time) slots.Day {
		if t == nil {
			return 0
		}
		return slots.Date(t.Date())
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT weekday, (extract(epoch FROM starts) / 60)::int, (extract(epoch FROM ends) / 60)::int,
			valid_from, valid_to, coalesce(staff_id, 0)
		FROM availability WHERE office = $1 AND service = $2 ORDER BY id`, office.Code, svc.Code).Query(func(rows pgx.Rows) error {
		var p slots.Pattern
		var from, to *time.Time
		_, err := pgx.ForEachRow(rows, []any{&p.Weekday, &p.Start, &p.End, &from, &to, &p.Staff}, func() error {
			p.ValidFrom, p.ValidTo = day(from), day(to)
			r.Patterns = append(r.Patterns, p)
			return nil
		})
		return err
	})
	b.Queue(`SELECT first_day, last_day, kind = 'open', coalesce((extract(epoch FROM starts) / 60)::int, 0),
			coalesce((extract(epoch FROM ends) / 60)::int, 0), coalesce(staff_id, 0)
		FROM availability_exceptions
		WHERE office = $1 AND (service IS NULL OR service = $2) AND last_day >= $3::date ORDER BY id`,
		office.Code, svc.Code, now.In(i18n.Rome).Format(time.DateOnly)).Query(func(rows pgx.Rows) error {
		var e slots.Exception
		var first, last time.Time
		_, err := pgx.ForEachRow(rows, []any{&first, &last, &e.Open, &e.Start, &e.End, &e.Staff}, func() error {
			e.First, e.Last = day(&first), day(&last)
			r.Exceptions = append(r.Exceptions, e)
			return nil
		})
		return err
	})
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return slots.Rules{}, fmt.Errorf("storage: availability of %s at %s: %w", svc.Code, office.Code, err)
	}
	return r, nil
}

// Taken returns the places taken per slot start (seconds since the epoch) of a service at an office in [from, to).
func (db *DB) Taken(ctx context.Context, office, service string, from, to time.Time) (map[int64]int, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT starts_at, taken FROM slot_counters
		WHERE office = $1 AND service = $2 AND starts_at >= $3 AND starts_at < $4 AND taken > 0`, office, service, from, to)
	out := map[int64]int{}
	var at time.Time
	var n int
	_, err := pgx.ForEachRow(rows, []any{&at, &n}, func() error {
		out[at.Unix()] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: taken places: %w", err)
	}
	return out, nil
}

// FreeSlots returns the slots with a place left of a service at an office, from the first to the last day (within
// the service's window, after now).
func (db *DB) FreeSlots(ctx context.Context, svc Service, office ServiceOffice, first, last slots.Day, now time.Time) ([]slots.Slot, error) {
	rules, err := db.SlotRules(ctx, svc, office, now)
	if err != nil {
		return nil, err
	}
	all := slots.Generate(rules, first, last, now)
	if len(all) == 0 {
		return nil, nil
	}
	taken, err := db.Taken(ctx, office.Code, svc.Code, all[0].Start, all[len(all)-1].End)
	if err != nil {
		return nil, err
	}
	return slots.Free(all, taken), nil
}

// Booking is an appointment as the resident reads it.
type Booking struct {
	ID            int64      `db:"id"`
	Service       string     `db:"service"`
	ServiceMsg    string     `db:"service_msg"`
	Office        string     `db:"office"`
	OfficeName    string     `db:"office_name"`
	OfficeAddress string     `db:"office_address"`
	OfficePhone   string     `db:"office_phone"`
	ComuneName    string     `db:"comune_name"`
	Mode          string     `db:"mode"`
	StartsAt      time.Time  `db:"starts_at"`
	EndsAt        time.Time  `db:"ends_at"`
	PersonID      *int64     `db:"person_id"`
	GuestEmail    string     `db:"guest_email"` // a guest's booking (no account): their address, name, mobile and
	GuestName     string     `db:"guest_name"`  // the language of their messages; "" for a resident's
	GuestPhone    string     `db:"guest_phone"`
	GuestLang     string     `db:"guest_lang"`
	Lang          string     `db:"lang"`
	Interpreter   bool       `db:"interpreter"`
	Status        string     `db:"status"`
	CreatedAt     time.Time  `db:"created_at"`
	CancelledAt   *time.Time `db:"cancelled_at"`
}

// Guest reports whether the booking is a guest's, made without an account.
func (b Booking) Guest() bool { return b.GuestEmail != "" }

// Upcoming reports whether the appointment is booked and still to come at now.
func (b Booking) Upcoming(now time.Time) bool {
	return b.Status == BookingBooked && b.StartsAt.After(now)
}

const bookingSelect = `SELECT b.id, b.service, s.msg AS service_msg, b.office, o.name AS office_name,
	o.address AS office_address, o.phone AS office_phone, c.name AS comune_name, b.mode, b.starts_at, b.ends_at,
	b.person_id, coalesce(b.guest_email, '') AS guest_email, coalesce(b.guest_name, '') AS guest_name,
	coalesce(b.guest_phone, '') AS guest_phone, coalesce(b.guest_lang, '') AS guest_lang, b.lang, b.interpreter,
	b.status, b.created_at, b.cancelled_at
	FROM bookings b JOIN services s ON s.code = b.service JOIN offices o ON o.code = b.office
	JOIN comuni c ON c.code = o.comune `

func bookingBy(ctx context.Context, q querier, where string, args ...any) (Booking, error) {
	rows, _ := q.Query(ctx, bookingSelect+where, args...)
	b, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Booking])
	if errors.Is(err, pgx.ErrNoRows) {
		return Booking{}, ErrNotFound
	}
	if err != nil {
		return Booking{}, fmt.Errorf("storage: booking: %w", err)
	}
	return b, nil
}

// BookingOf returns a person's own booking; anyone else's is ErrNotFound.
func (db *DB) BookingOf(ctx context.Context, id, personID int64) (Booking, error) {
	return bookingBy(ctx, db.Pool, `WHERE b.id = $1 AND b.person_id = $2`, id, personID)
}

// BookingByKey returns the person's booking made with a confirm form's key, or ErrNotFound.
func (db *DB) BookingByKey(ctx context.Context, key string, personID int64) (Booking, error) {
	return bookingBy(ctx, db.Pool, `WHERE b.create_key = $1 AND b.person_id = $2`, key, personID)
}

// BookingsOf returns a person's bookings, the soonest first.
func (db *DB) BookingsOf(ctx context.Context, personID int64) ([]Booking, error) {
	rows, _ := db.Pool.Query(ctx, bookingSelect+`WHERE b.person_id = $1 ORDER BY b.starts_at, b.id`, personID)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Booking])
	if err != nil {
		return nil, fmt.Errorf("storage: bookings: %w", err)
	}
	return out, nil
}

// OpenBookings counts a person's appointments for a service that are booked and still to come at now.
func (db *DB) OpenBookings(ctx context.Context, personID int64, service string, now time.Time) (int, error) {
	var n int
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM bookings WHERE person_id = $1 AND service = $2
		AND status = 'booked' AND starts_at > $3`, personID, service, now).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("storage: open bookings: %w", err)
	}
	return n, nil
}

// NewBooking is what a resident confirms: a signed-in resident (PersonID) or a guest who proved their address
// (Guest).
type NewBooking struct {
	PersonID    int64
	Guest       *Guest
	Service     Service
	Office      string
	Slot        slots.Slot // from the slot engine: its start, end and places
	Mode        string
	Lang        string // of the meeting
	Interpreter bool
	Key         string // the confirm form's random key
	TokenHash   []byte // SHA-256 of the secret of the link to move or cancel it without signing in
	Now         time.Time
}

// Guest is who books without an account: the address a code proved (lower case), their name, mobile number (""
// or +digits) and the language of their messages.
type Guest struct {
	Email, Name, Phone, Lang string
	VerifiedAt               time.Time // when the code was accepted
}

// Book makes a booking in one transaction: the person's (or the guest e-mail's) open bookings for the service stay
// within the service's limit (the person's row is locked, or for a guest a lock on the address is taken, so two
// tabs cannot both take the last one), the slot's counter is created or its capacity brought up to date, and the
// insert is refused by PostgreSQL when the slot is full (ErrSlotTaken). then writes the confirmation message in the
// same transaction. A second call with the same Key returns the booking the first one made, without calling then
// again.
func (db *DB) Book(ctx context.Context, nb NewBooking, then func(tx pgx.Tx, b Booking) error) (Booking, error) {
	var out Booking
	owner, ownerArg := "person_id", any(nb.PersonID)
	var person *int64
	var guest Guest
	if nb.Guest != nil {
		owner, ownerArg, guest = "guest_email", nb.Guest.Email, *nb.Guest
	} else {
		person = &nb.PersonID
	}
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		lock := `SELECT 1 FROM people WHERE id = $1 FOR UPDATE`
		if nb.Guest != nil {
			lock = `SELECT pg_advisory_xact_lock(hashtextextended('guest-booking:' || $1::text, 0))`
		}
		if _, err := tx.Exec(ctx, lock, ownerArg); err != nil {
			return err
		}
		b, err := bookingBy(ctx, tx, `WHERE b.create_key = $1 AND b.`+owner+` = $2`, nb.Key, ownerArg)
		if err == nil {
			out = b
			return nil
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		var open int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM bookings WHERE `+owner+` = $1 AND service = $2
			AND status = 'booked' AND starts_at > $3`, ownerArg, nb.Service.Code, nb.Now).Scan(&open); err != nil {
			return err
		}
		if open >= nb.Service.MaxOpen {
			return ErrBookingLimit
		}
		if _, err := tx.Exec(ctx, `INSERT INTO slot_counters (office, service, starts_at, capacity) VALUES ($1, $2, $3, $4)
			ON CONFLICT (office, service, starts_at) DO UPDATE SET capacity = greatest(EXCLUDED.capacity, slot_counters.taken)`,
			nb.Office, nb.Service.Code, nb.Slot.Start, nb.Slot.Capacity); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO bookings (service, office, mode, starts_at, ends_at, person_id, lang,
				interpreter, create_key, created_at, reschedule_token_hash, guest_email, guest_verified_at, guest_name,
				guest_phone, guest_lang)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, nullif($12, ''), $13, nullif($14, ''), nullif($15, ''),
				nullif($16, '')) RETURNING id`, nb.Service.Code, nb.Office, nb.Mode,
			nb.Slot.Start, nb.Slot.End, person, nb.Lang, nb.Interpreter, nb.Key, nb.Now, nb.TokenHash, guest.Email,
			nullTime(guest.VerifiedAt), guest.Name, guest.Phone, guest.Lang).Scan(&id); err != nil {
			return err
		}
		if out, err = bookingBy(ctx, tx, `WHERE b.id = $1`, id); err != nil {
			return err
		}
		if then != nil {
			return then(tx, out)
		}
		return nil
	})
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return out, nil
	case errors.As(err, &pgErr) && pgErr.Code == "CS010":
		return Booking{}, ErrSlotTaken
	case errors.As(err, &pgErr) && (pgErr.ConstraintName == "bookings_one_per_person_slot" ||
		pgErr.ConstraintName == "bookings_one_per_guest_slot"):
		return Booking{}, ErrAlreadyBooked
	case errors.Is(err, ErrBookingLimit):
		return Booking{}, err
	}
	return Booking{}, fmt.Errorf("storage: book: %w", err)
}

// BookingByToken returns the booking whose link secret hashes to hash (SHA-256), or ErrNotFound.
func (db *DB) BookingByToken(ctx context.Context, hash []byte) (Booking, error) {
	return bookingBy(ctx, db.Pool, `WHERE b.reschedule_token_hash = $1`, hash)
}

// BookingWhere picks the booking an action is on: a person's own (PersonID), or the one a link's secret names
// (TokenHash).
type BookingWhere struct {
	ID        int64
	PersonID  int64
	TokenHash []byte
}

func (w BookingWhere) sql() (string, []any) {
	if w.TokenHash != nil {
		return `WHERE b.reschedule_token_hash = $1 FOR UPDATE OF b`, []any{w.TokenHash}
	}
	return `WHERE b.id = $1 AND b.person_id = $2 FOR UPDATE OF b`, []any{w.ID, w.PersonID}
}

// CancelBooking cancels a person's own booking that is still to come; the trigger of 010 frees its place.
func (db *DB) CancelBooking(ctx context.Context, id, personID int64, now time.Time) (Booking, error) {
	return db.Cancel(ctx, BookingWhere{ID: id, PersonID: personID}, now, nil)
}

// Cancel cancels the booking w picks if it is still to come; the trigger of 010 frees its place. then (may be
// nil) runs in the same transaction: it withdraws the reminder.
func (db *DB) Cancel(ctx context.Context, w BookingWhere, now time.Time, then func(tx pgx.Tx, b Booking) error) (Booking, error) {
	var out Booking
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		where, args := w.sql()
		b, err := bookingBy(ctx, tx, where, args...)
		if err != nil {
			return err
		}
		if !b.Upcoming(now) {
			return ErrNotCancellable
		}
		if _, err := tx.Exec(ctx, `UPDATE bookings SET status = 'cancelled', cancelled_at = $2 WHERE id = $1`, b.ID, now); err != nil {
			return err
		}
		if out, err = bookingBy(ctx, tx, `WHERE b.id = $1`, b.ID); err != nil {
			return err
		}
		if then != nil {
			return then(tx, out)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrNotCancellable) {
			return Booking{}, err
		}
		return Booking{}, fmt.Errorf("storage: cancel booking: %w", err)
	}
	return out, nil
}

// ErrSlotPast: the time to move to is not after now.
var ErrSlotPast = errors.New("storage: slot in the past")

// Move is a booking's new time.
type Move struct {
	Slot      slots.Slot // from the slot engine, of the booking's service and office
	TokenHash []byte     // the new booking's link secret (the old link then shows the booking moved)
	Now       time.Time
}

// MoveBooking moves the booking w picks to another time of its service and office, atomically: in one
// transaction a new booking takes a place in the new slot (the trigger of 010 refuses it when the slot is full:
// ErrSlotTaken, and the old booking stays as it was) and only then is the old one marked moved, which frees its
// place. A booking never changes slot in place (010 forbids it). A booking that is not upcoming cannot be moved
// (ErrNotCancellable), nor moved to a time not after now (ErrSlotPast). then (may be nil) runs in the same
// transaction with the old booking and the new one: it withdraws the old reminder and schedules the new.
func (db *DB) MoveBooking(ctx context.Context, w BookingWhere, m Move, then func(tx pgx.Tx, old, moved Booking) error) (Booking, error) {
	var out Booking
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		where, args := w.sql()
		old, err := bookingBy(ctx, tx, where, args...)
		if err != nil {
			return err
		}
		if !old.Upcoming(m.Now) {
			return ErrNotCancellable
		}
		if !m.Slot.Start.After(m.Now) {
			return ErrSlotPast
		}
		if _, err := tx.Exec(ctx, `INSERT INTO slot_counters (office, service, starts_at, capacity) VALUES ($1, $2, $3, $4)
			ON CONFLICT (office, service, starts_at) DO UPDATE SET capacity = greatest(EXCLUDED.capacity, slot_counters.taken)`,
			old.Office, old.Service, m.Slot.Start, m.Slot.Capacity); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO bookings (service, office, mode, starts_at, ends_at, person_id, guest_email,
				guest_verified_at, guest_name, guest_phone, guest_lang, lang, interpreter, created_at, reschedule_token_hash)
			SELECT service, office, mode, $2, $3, person_id, guest_email, guest_verified_at, guest_name, guest_phone,
				guest_lang, lang, interpreter, $4, $5
			FROM bookings WHERE id = $1 RETURNING id`, old.ID, m.Slot.Start, m.Slot.End, m.Now, m.TokenHash).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE bookings SET status = 'moved' WHERE id = $1`, old.ID); err != nil {
			return err
		}
		if old, err = bookingBy(ctx, tx, `WHERE b.id = $1`, old.ID); err != nil {
			return err
		}
		if out, err = bookingBy(ctx, tx, `WHERE b.id = $1`, id); err != nil {
			return err
		}
		if then != nil {
			return then(tx, old, out)
		}
		return nil
	})
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return out, nil
	case errors.As(err, &pgErr) && pgErr.Code == "CS010":
		return Booking{}, ErrSlotTaken
	case errors.As(err, &pgErr) && (pgErr.ConstraintName == "bookings_one_per_person_slot" ||
		pgErr.ConstraintName == "bookings_one_per_guest_slot"):
		return Booking{}, ErrAlreadyBooked
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNotCancellable), errors.Is(err, ErrSlotPast):
		return Booking{}, err
	}
	return Booking{}, fmt.Errorf("storage: move booking: %w", err)
}

// BookingByID returns a booking whoever's it is: for the delivery worker, never for a page.
func (db *DB) BookingByID(ctx context.Context, id int64) (Booking, error) {
	return bookingBy(ctx, db.Pool, `WHERE b.id = $1`, id)
}
