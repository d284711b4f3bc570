package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
)

// The staff calendar: an office's slots of some days with their bookings, the time blocked, arrivals and
// no-shows. Every query carries the scope condition (inScope with the staff member as $1): an office outside the
// account's sub-ambiti is ErrNotFound, as if it did not exist.

var (
	// ErrNotYet: an appointment still to come cannot be marked arrived or missed.
	ErrNotYet = errors.New("storage: appointment still to come")
	// ErrNotMarkable: the appointment was cancelled or moved.
	ErrNotMarkable = errors.New("storage: appointment cancelled or moved")
	// ErrBlockPast: time cannot be blocked on a day already gone.
	ErrBlockPast = errors.New("storage: block in the past")
)

// BlockConflictError refuses a block that overlaps booked appointments, naming them.
type BlockConflictError struct{ Bookings []CalendarBooking }

func (e *BlockConflictError) Error() string {
	return fmt.Sprintf("storage: block overlaps %d booked appointments", len(e.Bookings))
}

// CalendarOffices returns the offices in the staff member's scope that offer appointments.
func (db *DB) CalendarOffices(ctx context.Context, staffID int64) ([]Office, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+officeColumns+`
		FROM offices o JOIN comuni c ON c.code = o.comune JOIN sub_ambiti s ON s.code = c.sub_ambito
		WHERE `+inScope("c.sub_ambito")+` AND EXISTS (SELECT 1 FROM office_services os WHERE os.office = o.code)
		ORDER BY s.position, o.name`, staffID)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Office])
	if err != nil {
		return nil, fmt.Errorf("storage: calendar offices: %w", err)
	}
	return out, nil
}

// CalendarWorker is a staff member with weekly hours of their own at an office.
type CalendarWorker struct {
	ID       int64  `db:"id"`
	FullName string `db:"full_name"`
}

// CalendarWorkers returns the workers with their own hours at an office (in scope), by name.
func (db *DB) CalendarWorkers(ctx context.Context, staffID int64, office string) ([]CalendarWorker, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT u.id, u.full_name FROM staff_users u
		WHERE u.disabled_at IS NULL AND EXISTS (SELECT 1 FROM availability a JOIN offices o ON o.code = a.office
			JOIN comuni c ON c.code = o.comune WHERE a.staff_id = u.id AND a.office = $2 AND `+inScope("c.sub_ambito")+`)
		ORDER BY u.full_name, u.id`, staffID, office)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[CalendarWorker])
	if err != nil {
		return nil, fmt.Errorf("storage: calendar workers: %w", err)
	}
	return out, nil
}

// OfficeService is a service an office offers, with its desks for it.
type OfficeService struct {
	Service
	Capacity int `db:"capacity"`
}

// OfficeServices returns the services an office offers, in their order (not those it stopped offering: their
// bookings still show in the calendar, in slots of their own).
func (db *DB) OfficeServices(ctx context.Context, office string) ([]OfficeService, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+serviceColumns+`, os.capacity FROM services s
		JOIN office_services os ON os.service = s.code WHERE os.office = $1 AND os.offered ORDER BY s.position, s.code`, office)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[OfficeService])
	if err != nil {
		return nil, fmt.Errorf("storage: services of %s: %w", office, err)
	}
	return out, nil
}

// CalendarBooking is a booking as the staff calendar shows it: who, what, how.
type CalendarBooking struct {
	ID          int64     `db:"id"`
	Service     string    `db:"service"`
	ServiceMsg  string    `db:"service_msg"`
	Mode        string    `db:"mode"`
	StartsAt    time.Time `db:"starts_at"`
	EndsAt      time.Time `db:"ends_at"`
	Lang        string    `db:"lang"`
	Interpreter bool      `db:"interpreter"`
	Status      string    `db:"status"`
	Name        string    `db:"name"` // the resident's names, or the name a guest gave
	FiscalCode  string    `db:"fiscal_code"`
	Phone       string    `db:"phone"`
	GuestEmail  string    `db:"guest_email"` // a guest's booking (no account): the address their code proved
	StaffID     int64     `db:"staff_id"`    // the assigned worker (014), 0 for nobody
	WorkerName  string    `db:"worker_name"` // their name
}

// Occupies reports whether the booking takes a place (booked, arrived, no-show).
func (b CalendarBooking) Occupies() bool {
	return b.Status == BookingBooked || b.Status == BookingArrived || b.Status == BookingNoShow
}

const calendarBookingSelect = `SELECT b.id, b.service, s.msg AS service_msg, b.mode, b.starts_at, b.ends_at, b.lang,
	b.interpreter, b.status,
	coalesce(nullif(trim(p.given_name || ' ' || p.family_name), ''), p.fiscal_code, b.guest_name, b.guest_email) AS name,
	coalesce(p.fiscal_code, '') AS fiscal_code, coalesce(nullif(p.phone, ''), b.guest_phone, '') AS phone,
	coalesce(b.guest_email, '') AS guest_email, coalesce(b.staff_id, 0) AS staff_id, coalesce(w.full_name, '') AS worker_name
	FROM bookings b JOIN services s ON s.code = b.service JOIN offices o ON o.code = b.office
	JOIN comuni c ON c.code = o.comune LEFT JOIN people p ON p.id = b.person_id LEFT JOIN staff_users w ON w.id = b.staff_id `

// CalendarSlot is one slot of a service with its places and every booking made for it.
type CalendarSlot struct {
	Service    string
	ServiceMsg string
	Start, End time.Time
	Capacity   int
	Taken      int
	Bookings   []CalendarBooking
}

// Left is the number of free places.
func (s CalendarSlot) Left() int { return max(s.Capacity-s.Taken, 0) }

// Calendar returns the slots of an office in the staff member's scope on the days first to last, for every service
// it offers, with their bookings; ErrNotFound for an office outside the scope. With worker non-zero only the slots
// that worker's own weekly hours open are shown (bookings are the office's: a booking names no worker). Bookings
// in a slot the rules no longer open (hours changed after booking) still appear, in a slot of their own.
func (db *DB) Calendar(ctx context.Context, staffID int64, office string, worker int64, first, last slots.Day) ([]CalendarSlot, error) {
	o, err := db.StaffOffice(ctx, staffID, office)
	if err != nil {
		return nil, err
	}
	services, err := db.OfficeServices(ctx, o.Code)
	if err != nil {
		return nil, err
	}
	from, to := first.In(i18n.Rome), (last + 1).In(i18n.Rome)
	type key struct {
		service string
		at      int64
	}
	byKey := map[key]*CalendarSlot{}
	var out []*CalendarSlot
	for _, svc := range services {
		rules, err := db.SlotRules(ctx, svc.Service, ServiceOffice{Office: o, Capacity: svc.Capacity}, from)
		if err != nil {
			return nil, err
		}
		if worker != 0 {
			rules.Patterns = slices.DeleteFunc(rules.Patterns, func(p slots.Pattern) bool { return p.Staff != worker })
			rules.Exceptions = slices.DeleteFunc(rules.Exceptions, func(e slots.Exception) bool { return e.Open && e.Staff != worker })
		}
		for _, sl := range slots.Span(rules, first, last) {
			cs := &CalendarSlot{Service: svc.Code, ServiceMsg: svc.Msg, Start: sl.Start, End: sl.End, Capacity: sl.Capacity}
			byKey[key{svc.Code, sl.Start.Unix()}] = cs
			out = append(out, cs)
		}
	}
	rows, _ := db.Pool.Query(ctx, calendarBookingSelect+`WHERE b.office = $2 AND b.starts_at >= $3 AND b.starts_at < $4
		AND `+inScope("c.sub_ambito")+` ORDER BY b.starts_at, b.id`, staffID, o.Code, from, to)
	bookings, err := pgx.CollectRows(rows, pgx.RowToStructByName[CalendarBooking])
	if err != nil {
		return nil, fmt.Errorf("storage: calendar bookings: %w", err)
	}
	for _, b := range bookings {
		cs, ok := byKey[key{b.Service, b.StartsAt.Unix()}]
		if !ok {
			if worker != 0 {
				continue
			}
			cs = &CalendarSlot{Service: b.Service, ServiceMsg: b.ServiceMsg, Start: b.StartsAt, End: b.EndsAt}
			byKey[key{b.Service, b.StartsAt.Unix()}] = cs
			out = append(out, cs)
		}
		cs.Bookings = append(cs.Bookings, b)
		if b.Occupies() {
			cs.Taken++
		}
	}
	pos := map[string]int{}
	for i, svc := range services {
		pos[svc.Code] = i
	}
	slices.SortStableFunc(out, func(a, b *CalendarSlot) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return pos[a.Service] - pos[b.Service]
	})
	res := make([]CalendarSlot, len(out))
	for i, cs := range out {
		res[i] = *cs
	}
	return res, nil
}

// Block is time closed at an office (or for one of its workers): an availability exception of kind closed.
type Block struct {
	ID         int64     `db:"id"`
	FirstDay   time.Time `db:"first_day"`
	LastDay    time.Time `db:"last_day"`
	Starts     string    `db:"starts"` // "15:04", or "" for whole days
	Ends       string    `db:"ends"`
	Note       string    `db:"note"`
	ServiceMsg string    `db:"service_msg"` // "" when every service is closed
	StaffName  string    `db:"staff_name"`  // "" when the whole office is closed
}

// CalendarBlocks returns the closed times of an office in scope that touch the days first to last.
func (db *DB) CalendarBlocks(ctx context.Context, staffID int64, office string, first, last slots.Day) ([]Block, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT e.id, e.first_day, e.last_day, coalesce(to_char(e.starts, 'HH24:MI'), '') AS starts,
			coalesce(to_char(e.ends, 'HH24:MI'), '') AS ends, e.note, coalesce(s.msg, '') AS service_msg,
			coalesce(u.full_name, '') AS staff_name
		FROM availability_exceptions e JOIN offices o ON o.code = e.office JOIN comuni c ON c.code = o.comune
		LEFT JOIN services s ON s.code = e.service LEFT JOIN staff_users u ON u.id = e.staff_id
		WHERE e.office = $2 AND e.kind = 'closed' AND e.first_day <= $4::date AND e.last_day >= $3::date
			AND `+inScope("c.sub_ambito")+` ORDER BY e.first_day, e.starts NULLS FIRST, e.id`,
		staffID, office, first.String(), last.String())
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Block])
	if err != nil {
		return nil, fmt.Errorf("storage: calendar blocks: %w", err)
	}
	return out, nil
}

// NewBlock is time a staff member closes at an office: one day, whole (Start = End = 0) or some hours, for every
// desk or for one worker.
type NewBlock struct {
	Office     string
	Worker     int64 // 0: the whole office
	Day        slots.Day
	Start, End slots.Clock
	Note       string
	Now        time.Time
}

// AddBlock closes the time, refusing with a *BlockConflictError, naming them, when appointments are booked in it.
// A worker's block is refused as well when the office has bookings then: a booking names no worker, so whose
// desk it sits at is not known. Audited as calendar.block.
func (db *DB) AddBlock(ctx context.Context, who Actor, nb NewBlock) (int64, error) {
	if nb.Day < slots.DayOf(nb.Now, i18n.Rome) {
		return 0, ErrBlockPast
	}
	from, to := nb.Day.In(i18n.Rome), (nb.Day + 1).In(i18n.Rome)
	var starts, ends *string
	if nb.Start != 0 || nb.End != 0 {
		from = from.Add(time.Duration(nb.Start) * time.Minute)
		to = nb.Day.In(i18n.Rome).Add(time.Duration(nb.End) * time.Minute)
		s, e := nb.Start.String(), nb.End.String()
		starts, ends = &s, &e
	}
	var id int64
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var worker *int64
		if nb.Worker != 0 {
			worker = &nb.Worker
		}
		err := tx.QueryRow(ctx, `INSERT INTO availability_exceptions (office, staff_id, kind, first_day, last_day, starts, ends, note)
			SELECT o.code, $3, 'closed', $4::date, $4::date, $5::time, $6::time, $7
			FROM offices o JOIN comuni c ON c.code = o.comune WHERE o.code = $2 AND `+inScope("c.sub_ambito")+`
			RETURNING id`, who.StaffID, nb.Office, worker, nb.Day.String(), starts, ends, nb.Note).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		// the block is written first: a booking confirmed from now on sees the closed time in the rules
		rows, _ := tx.Query(ctx, calendarBookingSelect+`WHERE b.office = $1 AND b.status = 'booked'
			AND b.starts_at < $3 AND b.ends_at > $2 ORDER BY b.starts_at, b.id`, nb.Office, from, to)
		clash, err := pgx.CollectRows(rows, pgx.RowToStructByName[CalendarBooking])
		if err != nil {
			return err
		}
		if len(clash) > 0 {
			return &BlockConflictError{Bookings: clash}
		}
		detail := map[string]string{"office": nb.Office, "block_id": strconv.FormatInt(id, 10), "day": nb.Day.String(),
			"note": nb.Note}
		if starts != nil {
			detail["from"], detail["to"] = *starts, *ends
		}
		if nb.Worker != 0 {
			detail["worker_id"] = strconv.FormatInt(nb.Worker, 10)
		}
		return Audit(ctx, tx, who, AuditEntry{Action: "calendar.block", Detail: detail})
	})
	var conflict *BlockConflictError
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return id, nil
	case errors.Is(err, ErrNotFound), errors.As(err, &conflict):
		return 0, err
	case errors.As(err, &pgErr) && pgErr.Code == "23503": // the worker does not exist
		return 0, ErrNotFound
	}
	return 0, fmt.Errorf("storage: add block: %w", err)
}

// RemoveBlock reopens closed time of an office in scope. Audited as calendar.unblock.
func (db *DB) RemoveBlock(ctx context.Context, who Actor, office string, id int64) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var day time.Time
		var note string
		err := tx.QueryRow(ctx, `DELETE FROM availability_exceptions e USING offices o, comuni c
			WHERE e.id = $3 AND e.office = $2 AND e.kind = 'closed' AND o.code = e.office AND c.code = o.comune
				AND `+inScope("c.sub_ambito")+` RETURNING e.first_day, e.note`, who.StaffID, office, id).Scan(&day, &note)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return Audit(ctx, tx, who, AuditEntry{Action: "calendar.unblock", Detail: map[string]string{"office": office,
			"block_id": strconv.FormatInt(id, 10), "day": day.Format(time.DateOnly), "note": note}})
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("storage: remove block: %w", err)
	}
	return err
}

// MarkBooking records that the resident came (BookingArrived) or did not (BookingNoShow) to an appointment of an
// office in scope, of today or before (ErrNotYet otherwise); a mistake can be corrected by marking again.
// Cancelled and moved appointments are ErrNotMarkable. Audited as booking.arrived or booking.no_show. It returns
// the office and the appointment's start.
func (db *DB) MarkBooking(ctx context.Context, who Actor, id int64, status string, now time.Time) (string, time.Time, error) {
	if status != BookingArrived && status != BookingNoShow {
		return "", time.Time{}, fmt.Errorf("storage: mark booking as %q", status)
	}
	var office string
	var at time.Time
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var was string
		err := tx.QueryRow(ctx, `SELECT b.office, b.starts_at, b.status FROM bookings b JOIN offices o ON o.code = b.office
			JOIN comuni c ON c.code = o.comune WHERE b.id = $2 AND `+inScope("c.sub_ambito")+` FOR UPDATE OF b`,
			who.StaffID, id).Scan(&office, &at, &was)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if slots.DayOf(at, i18n.Rome) > slots.DayOf(now, i18n.Rome) {
			return ErrNotYet
		}
		if was == BookingCancelled || was == BookingMoved {
			return ErrNotMarkable
		}
		if _, err := tx.Exec(ctx, `UPDATE bookings SET status = $2 WHERE id = $1`, id, status); err != nil {
			return err
		}
		return Audit(ctx, tx, who, AuditEntry{Action: "booking." + status, Detail: map[string]string{
			"booking_id": strconv.FormatInt(id, 10), "office": office, "was": was}})
	})
	switch {
	case err == nil:
		return office, at, nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNotYet), errors.Is(err, ErrNotMarkable):
		return office, at, err
	}
	return "", time.Time{}, fmt.Errorf("storage: mark booking %d: %w", id, err)
}

// PersonByFiscalCode returns the person with this fiscal code, or ErrNotFound.
func (db *DB) PersonByFiscalCode(ctx context.Context, fiscalCode string) (Person, error) {
	return db.person(ctx, `SELECT `+personColumns+` FROM people WHERE fiscal_code = $1`, fiscalCode)
}

// NewPersonByStaff is a resident whom staff register on the phone, to book for them: no account to sign in with
// until they sign in with their digital identity (the fiscal code links them) or prove the e-mail address.
type NewPersonByStaff struct {
	FiscalCode, GivenName, FamilyName, Email, Phone, Lang string
}

// CreatePersonByStaff registers the person; a fiscal code or e-mail address already registered is ErrConflict.
// Audited as person.create.
func (db *DB) CreatePersonByStaff(ctx context.Context, who Actor, n NewPersonByStaff) (Person, error) {
	var p Person
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var email *string
		if n.Email != "" {
			email = &n.Email
		}
		rows, _ := tx.Query(ctx, `INSERT INTO people (fiscal_code, given_name, family_name, email, phone, lang)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+personColumns, n.FiscalCode, n.GivenName, n.FamilyName, email, n.Phone, n.Lang)
		var err error
		if p, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Person]); err != nil {
			return err
		}
		return Audit(ctx, tx, who, AuditEntry{Action: "person.create", Detail: map[string]string{
			"person_id": strconv.FormatInt(p.ID, 10), "fiscal_code": p.FiscalCode}})
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return Person{}, ErrConflict
	}
	if err != nil {
		return Person{}, fmt.Errorf("storage: create person: %w", err)
	}
	return p, nil
}
