package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/slots"
)

// Staff set the services (length, modes, window, limits, which offices offer them with how many desks) and the
// weekly availability (patterns and exceptions). A change never cancels a booking: when it would leave booked
// appointments outside the hours it is refused with a *StrandedError naming them, unless the staff member
// confirms it. Every office carries the scope condition (inScope with the staff member as $1); every change is
// audited in its own transaction.

var (
	// ErrPatternOverlap: the weekly pattern overlaps another of the same desk (010's exclusion constraint, 012).
	ErrPatternOverlap = errors.New("storage: weekly pattern overlaps another of the same desk")
	// ErrUnknownWorker: the worker does not exist, is disabled or does not work in the office's sub-ambito.
	ErrUnknownWorker = errors.New("storage: unknown worker for the office")
)

// StrandedError refuses a change that would leave booked appointments outside the hours, naming them; the same
// change with Confirm set goes through and the appointments stay booked.
type StrandedError struct{ Bookings []StrandedBooking }

func (e *StrandedError) Error() string {
	return fmt.Sprintf("storage: change leaves %d booked appointments outside the hours", len(e.Bookings))
}

// StrandedBooking is a booked appointment a change leaves outside the hours, with its office.
type StrandedBooking struct {
	CalendarBooking
	Office string
}

// ServiceAdmin is a service as staff edit it, with the number of offices offering it.
type ServiceAdmin struct {
	Service
	Position int `db:"position"`
	Offices  int `db:"offices"`
}

const serviceAdminSelect = `SELECT ` + serviceColumns + `, s.position,
	(SELECT count(*) FROM office_services os WHERE os.service = s.code AND os.offered)::int AS offices FROM services s `

// AllServices returns every service, offered or not, in their order.
func (db *DB) AllServices(ctx context.Context) ([]ServiceAdmin, error) {
	rows, _ := db.Pool.Query(ctx, serviceAdminSelect+`ORDER BY s.position, s.code`)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[ServiceAdmin])
	if err != nil {
		return nil, fmt.Errorf("storage: all services: %w", err)
	}
	return out, nil
}

// ServiceForAdmin returns one service, or ErrNotFound.
func (db *DB) ServiceForAdmin(ctx context.Context, code string) (ServiceAdmin, error) {
	rows, _ := db.Pool.Query(ctx, serviceAdminSelect+`WHERE s.code = $1`, code)
	s, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[ServiceAdmin])
	if errors.Is(err, pgx.ErrNoRows) {
		return ServiceAdmin{}, ErrNotFound
	}
	if err != nil {
		return ServiceAdmin{}, fmt.Errorf("storage: service %s: %w", code, err)
	}
	return s, nil
}

// ServiceOfficeSetting is an office in scope with whether it offers a service and with how many desks (0: it
// never did).
type ServiceOfficeSetting struct {
	Office   string `db:"office"`
	Name     string `db:"name"`
	Comune   string `db:"comune"`
	Offered  bool   `db:"offered"`
	Capacity int    `db:"capacity"`
}

// ServiceOfficeSettings returns every office in the staff member's scope with its setting for the service.
func (db *DB) ServiceOfficeSettings(ctx context.Context, staffID int64, service string) ([]ServiceOfficeSetting, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT o.code AS office, o.name, c.name AS comune, coalesce(os.offered, false) AS offered,
			coalesce(os.capacity, 0) AS capacity
		FROM offices o JOIN comuni c ON c.code = o.comune JOIN sub_ambiti s ON s.code = c.sub_ambito
		LEFT JOIN office_services os ON os.office = o.code AND os.service = $2
		WHERE `+inScope("c.sub_ambito")+` ORDER BY s.position, o.name`, staffID, service)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[ServiceOfficeSetting])
	if err != nil {
		return nil, fmt.Errorf("storage: offices of %s: %w", service, err)
	}
	return out, nil
}

// ServiceChange is a service's new settings and its offices' (only offices in the staff member's scope are
// changed; an office not listed is left as it is).
type ServiceChange struct {
	Service  Service
	Position int
	Offices  []ServiceOfficeSetting
	Confirm  bool // go ahead although booked appointments end up outside the hours
	Now      time.Time
}

// UpdateService saves a service and its offices. A shorter or longer slot or an office that stops offering the
// service can leave booked appointments outside the hours: *StrandedError unless confirmed. Audited as
// service.update (the fields that changed) and service.office (one line per office that changed).
func (db *DB) UpdateService(ctx context.Context, who Actor, ch ServiceChange) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT `+serviceColumns+`, s.position, 0 AS offices FROM services s WHERE s.code = $1 FOR UPDATE`,
			ch.Service.Code)
		old, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[ServiceAdmin])
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var offices []string
		rows, _ = tx.Query(ctx, `SELECT office FROM office_services WHERE service = $1 ORDER BY office`, ch.Service.Code)
		if offices, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		pairs := make([]officeService, 0, len(offices))
		for _, o := range offices {
			pairs = append(pairs, officeService{o, ch.Service.Code})
		}
		left, err := guardStranded(ctx, tx, pairs, ch.Confirm, ch.Now, func() error {
			s := ch.Service
			if _, err := tx.Exec(ctx, `UPDATE services SET slot_minutes = $2, modes = $3, bookable_from_days = $4,
					bookable_to_days = $5, max_open_per_person = $6, guest_allowed = $7, position = $8 WHERE code = $1`,
				s.Code, s.SlotMinutes, s.Modes, s.FromDays, s.ToDays, s.MaxOpen, s.GuestAllowed, ch.Position); err != nil {
				return err
			}
			if d := serviceDiff(old, s, ch.Position); len(d) > 1 {
				if err := Audit(ctx, tx, who, AuditEntry{Action: "service.update", Detail: d}); err != nil {
					return err
				}
			}
			for _, o := range ch.Offices {
				if err := setServiceOffice(ctx, tx, who, s.Code, o); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return auditStranded(ctx, tx, who, left)
	})
	var stranded *StrandedError
	if err == nil || errors.Is(err, ErrNotFound) || errors.As(err, &stranded) {
		return err
	}
	return fmt.Errorf("storage: update service %s: %w", ch.Service.Code, err)
}

// serviceDiff is the audit detail of a service's change: its code and each field that changed, "old → new".
func serviceDiff(old ServiceAdmin, s Service, position int) map[string]string {
	d := map[string]string{"service": s.Code}
	add := func(k string, was, is any) {
		if a, b := fmt.Sprint(was), fmt.Sprint(is); a != b {
			d[k] = a + " → " + b
		}
	}
	add("slot_minutes", old.SlotMinutes, s.SlotMinutes)
	sorted := func(m []string) string { m = slices.Clone(m); slices.Sort(m); return strings.Join(m, ",") }
	add("modes", sorted(old.Modes), sorted(s.Modes))
	add("bookable_from_days", old.FromDays, s.FromDays)
	add("bookable_to_days", old.ToDays, s.ToDays)
	add("max_open_per_person", old.MaxOpen, s.MaxOpen)
	add("guest_allowed", old.GuestAllowed, s.GuestAllowed)
	add("position", old.Position, position)
	return d
}

// setServiceOffice offers the service at an office in scope with its desks, or stops offering it (the row stays:
// bookings reference it). Nothing changes, and nothing is audited, for an office out of scope or unchanged.
func setServiceOffice(ctx context.Context, tx pgx.Tx, who Actor, service string, o ServiceOfficeSetting) error {
	var was struct {
		Offered  *bool
		Capacity *int
	}
	err := tx.QueryRow(ctx, `SELECT os.offered, os.capacity FROM offices o JOIN comuni c ON c.code = o.comune
		LEFT JOIN office_services os ON os.office = o.code AND os.service = $3
		WHERE o.code = $2 AND `+inScope("c.sub_ambito")+` FOR UPDATE OF o`, who.StaffID, o.Office, service).Scan(&was.Offered, &was.Capacity)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	offered := was.Offered != nil && *was.Offered
	switch {
	case o.Offered && (!offered || *was.Capacity != o.Capacity):
		_, err = tx.Exec(ctx, `INSERT INTO office_services (office, service, capacity) VALUES ($1, $2, $3)
			ON CONFLICT (office, service) DO UPDATE SET offered = true, capacity = EXCLUDED.capacity`, o.Office, service, o.Capacity)
	case !o.Offered && offered:
		_, err = tx.Exec(ctx, `UPDATE office_services SET offered = false WHERE office = $1 AND service = $2`, o.Office, service)
	default:
		return nil
	}
	if err != nil {
		return err
	}
	d := map[string]string{"service": service, "office": o.Office, "offered": strconv.FormatBool(o.Offered)}
	if o.Offered {
		d["capacity"] = strconv.Itoa(o.Capacity)
	}
	return Audit(ctx, tx, who, AuditEntry{Action: "service.office", Detail: d})
}

// OfficeServiceState says whether an office in scope offers a service: ErrNotFound when the office is out of
// scope, or it has never offered the service (no weekly hours can be set then); offered false when it stopped.
func (db *DB) OfficeServiceState(ctx context.Context, staffID int64, office, service string) (offered bool, err error) {
	err = db.Pool.QueryRow(ctx, `SELECT os.offered FROM office_services os JOIN offices o ON o.code = os.office
		JOIN comuni c ON c.code = o.comune WHERE os.office = $2 AND os.service = $3 AND `+inScope("c.sub_ambito"),
		staffID, office, service).Scan(&offered)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("storage: office service: %w", err)
	}
	return offered, nil
}

// OfficeWorkers returns the enabled staff who may work at an office in scope (whose own weekly hours or leave
// can be set there): coordinatori and admins, and operatori of its sub-ambito.
func (db *DB) OfficeWorkers(ctx context.Context, staffID int64, office string) ([]CalendarWorker, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT w.id, w.full_name FROM staff_users w, offices o JOIN comuni c ON c.code = o.comune
		WHERE o.code = $2 AND `+inScope("c.sub_ambito")+` AND `+worksAt("w")+`
		ORDER BY w.full_name, w.id`, staffID, office)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[CalendarWorker])
	if err != nil {
		return nil, fmt.Errorf("storage: office workers: %w", err)
	}
	return out, nil
}

// worksAt is the condition "account alias may work at the office of comune c".
func worksAt(alias string) string {
	return alias + `.disabled_at IS NULL AND (` + alias + `.role IN ('coordinatore', 'admin')
		OR EXISTS (SELECT 1 FROM staff_scopes x WHERE x.staff_id = ` + alias + `.id AND x.sub_ambito = c.sub_ambito))`
}

// WeeklyPattern is one weekly opening of a service at an office, as staff read it.
type WeeklyPattern struct {
	ID        int64      `db:"id"`
	Weekday   int        `db:"weekday"`
	Starts    string     `db:"starts"` // "15:04"
	Ends      string     `db:"ends"`
	ValidFrom *time.Time `db:"valid_from"`
	ValidTo   *time.Time `db:"valid_to"`
	StaffName string     `db:"staff_name"` // "" for every desk of the office
}

// WeeklyPatterns returns the weekly openings of a service at an office in scope, by weekday and time.
func (db *DB) WeeklyPatterns(ctx context.Context, staffID int64, office, service string) ([]WeeklyPattern, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT a.id, a.weekday, to_char(a.starts, 'HH24:MI') AS starts,
			to_char(a.ends, 'HH24:MI') AS ends, a.valid_from, a.valid_to, coalesce(u.full_name, '') AS staff_name
		FROM availability a JOIN offices o ON o.code = a.office JOIN comuni c ON c.code = o.comune
		LEFT JOIN staff_users u ON u.id = a.staff_id
		WHERE a.office = $2 AND a.service = $3 AND `+inScope("c.sub_ambito")+`
		ORDER BY a.weekday, a.starts, a.staff_id NULLS FIRST, a.id`, staffID, office, service)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[WeeklyPattern])
	if err != nil {
		return nil, fmt.Errorf("storage: weekly patterns: %w", err)
	}
	return out, nil
}

// NewPattern is a weekly opening to add: every desk (Worker 0) or one worker's, valid from and to some days
// (0: no bound).
type NewPattern struct {
	Office, Service    string
	Weekday            int
	Start, End         slots.Clock
	Worker             int64
	ValidFrom, ValidTo slots.Day
}

// AddPattern adds a weekly opening of a service an office in scope offers (ErrNotFound otherwise). An opening can
// only add time, so it leaves no booking outside the hours. ErrPatternOverlap when the same desk is already open
// then, ErrUnknownWorker for a worker who may not work at the office. Audited as availability.add.
func (db *DB) AddPattern(ctx context.Context, who Actor, np NewPattern) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := checkWorker(ctx, tx, np.Office, np.Worker); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO availability (office, service, staff_id, weekday, starts, ends, valid_from, valid_to)
			SELECT os.office, os.service, $4, $5, $6::time, $7::time, $8::date, $9::date
			FROM office_services os JOIN offices o ON o.code = os.office JOIN comuni c ON c.code = o.comune
			WHERE os.office = $2 AND os.service = $3 AND `+inScope("c.sub_ambito")+` RETURNING id`,
			who.StaffID, np.Office, np.Service, nullID(np.Worker), np.Weekday, np.Start.String(), np.End.String(),
			dayArg(np.ValidFrom), dayArg(np.ValidTo)).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		d := map[string]string{"office": np.Office, "service": np.Service, "pattern_id": strconv.FormatInt(id, 10),
			"weekday": strconv.Itoa(np.Weekday), "from": np.Start.String(), "to": np.End.String()}
		addDays(d, np.ValidFrom, np.ValidTo, np.Worker)
		return Audit(ctx, tx, who, AuditEntry{Action: "availability.add", Detail: d})
	})
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return id, nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrUnknownWorker):
		return 0, err
	case errors.As(err, &pgErr) && pgErr.ConstraintName == "availability_no_overlap":
		return 0, ErrPatternOverlap
	}
	return 0, fmt.Errorf("storage: add pattern: %w", err)
}

// RemovePattern removes a weekly opening of a service at an office in scope. *StrandedError, unless confirm,
// when booked appointments would be left outside the hours. Audited as availability.remove.
func (db *DB) RemovePattern(ctx context.Context, who Actor, office, service string, id int64, confirm bool, now time.Time) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		left, err := guardStranded(ctx, tx, []officeService{{office, service}}, confirm, now, func() error {
			var weekday int
			var from, to string
			err := tx.QueryRow(ctx, `DELETE FROM availability a USING offices o, comuni c
				WHERE a.id = $4 AND a.office = $2 AND a.service = $3 AND o.code = a.office AND c.code = o.comune
					AND `+inScope("c.sub_ambito")+` RETURNING a.weekday, to_char(a.starts, 'HH24:MI'), to_char(a.ends, 'HH24:MI')`,
				who.StaffID, office, service, id).Scan(&weekday, &from, &to)
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrNotFound
			}
			if err != nil {
				return err
			}
			return Audit(ctx, tx, who, AuditEntry{Action: "availability.remove", Detail: map[string]string{
				"office": office, "service": service, "pattern_id": strconv.FormatInt(id, 10), "weekday": strconv.Itoa(weekday),
				"from": from, "to": to}})
		})
		if err != nil {
			return err
		}
		return auditStranded(ctx, tx, who, left)
	})
	var stranded *StrandedError
	if err == nil || errors.Is(err, ErrNotFound) || errors.As(err, &stranded) {
		return err
	}
	return fmt.Errorf("storage: remove pattern: %w", err)
}

// AvailabilityException is a day (or days) that differ from the week, as staff read it.
type AvailabilityException struct {
	ID         int64     `db:"id"`
	Open       bool      `db:"open"`
	FirstDay   time.Time `db:"first_day"`
	LastDay    time.Time `db:"last_day"`
	Starts     string    `db:"starts"` // "15:04", or "" for whole days
	Ends       string    `db:"ends"`
	Note       string    `db:"note"`
	ServiceMsg string    `db:"service_msg"` // "" when it concerns every service of the office
	StaffName  string    `db:"staff_name"`  // "" when it concerns every desk
}

// Exceptions returns the exceptions of an office in scope that concern a service (its own and the office's) and
// end on today or later.
func (db *DB) Exceptions(ctx context.Context, staffID int64, office, service string, today slots.Day) ([]AvailabilityException, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT e.id, e.kind = 'open' AS open, e.first_day, e.last_day,
			coalesce(to_char(e.starts, 'HH24:MI'), '') AS starts, coalesce(to_char(e.ends, 'HH24:MI'), '') AS ends, e.note,
			coalesce(s.msg, '') AS service_msg, coalesce(u.full_name, '') AS staff_name
		FROM availability_exceptions e JOIN offices o ON o.code = e.office JOIN comuni c ON c.code = o.comune
		LEFT JOIN services s ON s.code = e.service LEFT JOIN staff_users u ON u.id = e.staff_id
		WHERE e.office = $2 AND (e.service IS NULL OR e.service = $3) AND e.last_day >= $4::date
			AND `+inScope("c.sub_ambito")+` ORDER BY e.first_day, e.starts NULLS FIRST, e.id`,
		staffID, office, service, today.String())
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[AvailabilityException])
	if err != nil {
		return nil, fmt.Errorf("storage: exceptions: %w", err)
	}
	return out, nil
}

// NewException is a change to some days of an office: closed (the whole day when Start = End = 0, a holiday or
// leave) or opened extra from Start to End; for one service or, closing only, every service of the office
// (Service ""); for every desk or one worker.
type NewException struct {
	Office, Service string
	Open            bool
	First, Last     slots.Day
	Start, End      slots.Clock
	Worker          int64
	Note            string
	Confirm         bool
	Now             time.Time
}

// AddException records the exception at an office in scope (ErrNotFound otherwise; and for a service the
// office has never offered). A closure that leaves booked appointments outside the hours is *StrandedError unless
// confirmed; the appointments stay booked. Audited as availability.exception_add.
func (db *DB) AddException(ctx context.Context, who Actor, ne NewException) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := checkWorker(ctx, tx, ne.Office, ne.Worker); err != nil {
			return err
		}
		left, err := guardStranded(ctx, tx, []officeService{{ne.Office, ne.Service}}, ne.Confirm, ne.Now, func() error {
			kind := "closed"
			if ne.Open {
				kind = "open"
			}
			var starts, ends *string
			if ne.Start != 0 || ne.End != 0 {
				s, e := ne.Start.String(), ne.End.String()
				starts, ends = &s, &e
			}
			err := tx.QueryRow(ctx, `INSERT INTO availability_exceptions (office, service, staff_id, kind, first_day, last_day,
					starts, ends, note)
				SELECT o.code, $3, $4, $5, $6::date, $7::date, $8::time, $9::time, $10
				FROM offices o JOIN comuni c ON c.code = o.comune
				WHERE o.code = $2 AND `+inScope("c.sub_ambito")+`
					AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM office_services os WHERE os.office = o.code AND os.service = $3))
				RETURNING id`, who.StaffID, ne.Office, nullText(ne.Service), nullID(ne.Worker), kind, ne.First.String(),
				ne.Last.String(), starts, ends, ne.Note).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrNotFound
			}
			if err != nil {
				return err
			}
			d := map[string]string{"office": ne.Office, "exception_id": strconv.FormatInt(id, 10), "kind": kind,
				"first_day": ne.First.String(), "last_day": ne.Last.String(), "note": ne.Note}
			if ne.Service != "" {
				d["service"] = ne.Service
			}
			if starts != nil {
				d["from"], d["to"] = *starts, *ends
			}
			addDays(d, 0, 0, ne.Worker)
			return Audit(ctx, tx, who, AuditEntry{Action: "availability.exception_add", Detail: d})
		})
		if err != nil {
			return err
		}
		return auditStranded(ctx, tx, who, left)
	})
	var stranded *StrandedError
	switch {
	case err == nil:
		return id, nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrUnknownWorker), errors.As(err, &stranded):
		return 0, err
	}
	return 0, fmt.Errorf("storage: add exception: %w", err)
}

// RemoveException removes an exception of an office in scope. Removing an extra opening can leave booked
// appointments outside the hours: *StrandedError unless confirmed. Audited as availability.exception_remove.
func (db *DB) RemoveException(ctx context.Context, who Actor, office string, id int64, confirm bool, now time.Time) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var service *string
		err := tx.QueryRow(ctx, `SELECT e.service FROM availability_exceptions e JOIN offices o ON o.code = e.office
			JOIN comuni c ON c.code = o.comune WHERE e.id = $3 AND e.office = $2 AND `+inScope("c.sub_ambito")+`
			FOR UPDATE OF e`, who.StaffID, office, id).Scan(&service)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		pair := officeService{office: office}
		if service != nil {
			pair.service = *service
		}
		left, err := guardStranded(ctx, tx, []officeService{pair}, confirm, now, func() error {
			var kind, first, note string
			if err := tx.QueryRow(ctx, `DELETE FROM availability_exceptions WHERE id = $1
				RETURNING kind, first_day::text, note`, id).Scan(&kind, &first, &note); err != nil {
				return err
			}
			d := map[string]string{"office": office, "exception_id": strconv.FormatInt(id, 10), "kind": kind,
				"first_day": first, "note": note}
			if service != nil {
				d["service"] = *service
			}
			return Audit(ctx, tx, who, AuditEntry{Action: "availability.exception_remove", Detail: d})
		})
		if err != nil {
			return err
		}
		return auditStranded(ctx, tx, who, left)
	})
	var stranded *StrandedError
	if err == nil || errors.Is(err, ErrNotFound) || errors.As(err, &stranded) {
		return err
	}
	return fmt.Errorf("storage: remove exception: %w", err)
}

// checkWorker is ErrUnknownWorker unless worker is 0 (every desk) or an enabled account that may work at the office.
func checkWorker(ctx context.Context, tx pgx.Tx, office string, worker int64) error {
	if worker == 0 {
		return nil
	}
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM staff_users w, offices o JOIN comuni c ON c.code = o.comune
		WHERE w.id = $1 AND o.code = $2 AND `+worksAt("w")+`)`, worker, office).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return ErrUnknownWorker
	}
	return nil
}

func dayArg(d slots.Day) *string {
	if d == 0 {
		return nil
	}
	s := d.String()
	return &s
}

func addDays(d map[string]string, from, to slots.Day, worker int64) {
	if from != 0 {
		d["valid_from"] = from.String()
	}
	if to != 0 {
		d["valid_to"] = to.String()
	}
	if worker != 0 {
		d["worker_id"] = strconv.FormatInt(worker, 10)
	}
}

// auditStranded records, when the staff member confirmed a change over booked appointments, which ones it left
// outside the hours (availability.stranded): who decided, and about whom.
func auditStranded(ctx context.Context, tx pgx.Tx, who Actor, left []StrandedBooking) error {
	if len(left) == 0 {
		return nil
	}
	var ids, offices []string
	for _, b := range left {
		ids = append(ids, strconv.FormatInt(b.ID, 10))
		if !slices.Contains(offices, b.Office) {
			offices = append(offices, b.Office)
		}
	}
	return Audit(ctx, tx, who, AuditEntry{Action: "availability.stranded", Detail: map[string]string{
		"office": strings.Join(offices, ","), "count": strconv.Itoa(len(left)), "booking_ids": strings.Join(ids, ",")}})
}

// officeService is a service at an office; service "" is every service of the office.
type officeService struct{ office, service string }

// guardStranded runs change in tx and returns the booked appointments it left outside the hours (those outside
// already before are not its doing). When there are some and confirm is false, it returns a *StrandedError
// naming them, and the caller's transaction is rolled back.
func guardStranded(ctx context.Context, tx pgx.Tx, pairs []officeService, confirm bool, now time.Time, change func() error) ([]StrandedBooking, error) {
	before, err := strandedBookings(ctx, tx, pairs, now)
	if err != nil {
		return nil, err
	}
	if err := change(); err != nil {
		return nil, err
	}
	after, err := strandedBookings(ctx, tx, pairs, now)
	if err != nil {
		return nil, err
	}
	var left []StrandedBooking
	for _, b := range after {
		if !slices.ContainsFunc(before, func(x StrandedBooking) bool { return x.ID == b.ID }) {
			left = append(left, b)
		}
	}
	if len(left) > 0 && !confirm {
		return nil, &StrandedError{Bookings: left}
	}
	return left, nil
}

// strandedBookings returns the booked appointments still to come at the offices whose start the rules, as the
// transaction sees them, no longer open as a slot (or whose office no longer offers the service).
func strandedBookings(ctx context.Context, tx pgx.Tx, pairs []officeService, now time.Time) ([]StrandedBooking, error) {
	var out []StrandedBooking
	for _, p := range pairs {
		rows, _ := tx.Query(ctx, calendarBookingSelect+`WHERE b.office = $1 AND ($2 = '' OR b.service = $2)
			AND b.status = 'booked' AND b.starts_at > $3 ORDER BY b.starts_at, b.id`, p.office, p.service, now)
		bookings, err := pgx.CollectRows(rows, pgx.RowToStructByName[CalendarBooking])
		if err != nil {
			return nil, err
		}
		type key struct {
			service string
			day     slots.Day
		}
		open := map[key][]slots.Slot{}
		rules := map[string]*slots.Rules{}
		for _, b := range bookings {
			r, seen := rules[b.Service]
			if !seen {
				if r, err = rulesIn(ctx, tx, p.office, b.Service, now); err != nil {
					return nil, err
				}
				rules[b.Service] = r
			}
			inside := false
			if r != nil {
				k := key{b.Service, slots.DayOf(b.StartsAt, i18n.Rome)}
				all, ok := open[k]
				if !ok {
					all = slots.Span(*r, k.day, k.day)
					open[k] = all
				}
				inside = slices.ContainsFunc(all, func(s slots.Slot) bool { return s.Start.Equal(b.StartsAt) })
			}
			if !inside {
				out = append(out, StrandedBooking{CalendarBooking: b, Office: p.office})
			}
		}
	}
	return out, nil
}

// rulesIn loads the slot rules of a service at an office inside tx; nil when the office no longer offers it.
func rulesIn(ctx context.Context, tx pgx.Tx, office, service string, now time.Time) (*slots.Rules, error) {
	rows, _ := tx.Query(ctx, `SELECT `+serviceColumns+`, os.capacity FROM services s
		JOIN office_services os ON os.service = s.code WHERE os.office = $1 AND s.code = $2 AND os.offered`, office, service)
	svc, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[OfficeService])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r, err := slotRules(ctx, tx, svc.Service, ServiceOffice{Office: Office{Code: office}, Capacity: svc.Capacity}, now)
	if err != nil {
		return nil, err
	}
	return &r, nil
}
