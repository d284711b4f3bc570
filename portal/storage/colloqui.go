package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Online colloqui (migration 014): the worker assigned to each appointment, the mediator's invitation to an
// online appointment's room, and what the room's door needs to know about the booking. Who may enter, and when,
// is decided by the portal (colloqui.go) from a RoomBooking; these queries only find the rows.

// ErrNotAssignable: the worker chosen cannot receive appointments at the booking's office (outside their scope,
// disabled), or the booking is cancelled or moved.
var ErrNotAssignable = errors.New("storage: worker not assignable to this booking")

// RoomBooking is an appointment as the door of its video room sees it.
type RoomBooking struct {
	ID           int64     `db:"id"`
	ServiceMsg   string    `db:"service_msg"`
	Office       string    `db:"office"`
	OfficeName   string    `db:"office_name"`
	Mode         string    `db:"mode"`
	StartsAt     time.Time `db:"starts_at"`
	EndsAt       time.Time `db:"ends_at"`
	Status       string    `db:"status"`
	Lang         string    `db:"lang"`
	Interpreter  bool      `db:"interpreter"`
	PersonID     int64     `db:"person_id"` // 0 for a guest's booking
	ResidentName string    `db:"resident_name"`
	StaffID      int64     `db:"staff_id"` // 0: no worker assigned yet
	WorkerName   string    `db:"worker_name"`
}

const roomBookingSelect = `SELECT b.id, s.msg AS service_msg, b.office, o.name AS office_name, b.mode, b.starts_at,
	b.ends_at, b.status, b.lang, b.interpreter, coalesce(b.person_id, 0) AS person_id,
	coalesce(nullif(trim(p.given_name || ' ' || p.family_name), ''), '') AS resident_name,
	coalesce(b.staff_id, 0) AS staff_id, coalesce(u.full_name, '') AS worker_name
	FROM bookings b JOIN services s ON s.code = b.service JOIN offices o ON o.code = b.office
	JOIN comuni c ON c.code = o.comune LEFT JOIN people p ON p.id = b.person_id
	LEFT JOIN staff_users u ON u.id = b.staff_id `

func roomBookingBy(ctx context.Context, q querier, where string, args ...any) (RoomBooking, error) {
	rows, _ := q.Query(ctx, roomBookingSelect+where, args...)
	b, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[RoomBooking])
	if errors.Is(err, pgx.ErrNoRows) {
		return RoomBooking{}, ErrNotFound
	}
	if err != nil {
		return RoomBooking{}, fmt.Errorf("storage: room booking: %w", err)
	}
	return b, nil
}

// RoomBookingOf returns a resident's own booking; anyone else's is ErrNotFound.
func (db *DB) RoomBookingOf(ctx context.Context, id, personID int64) (RoomBooking, error) {
	return roomBookingBy(ctx, db.Pool, `WHERE b.id = $1 AND b.person_id = $2`, id, personID)
}

// RoomBookingInScope returns a booking of an office in the staff member's scope; any other is ErrNotFound.
func (db *DB) RoomBookingInScope(ctx context.Context, staffID, id int64) (RoomBooking, error) {
	return roomBookingBy(ctx, db.Pool, `WHERE b.id = $2 AND `+inScope("c.sub_ambito"), staffID, id)
}

// Invitation is a mediator's invitation to a room.
type Invitation struct {
	ID        int64     `db:"id"`
	BookingID int64     `db:"booking_id"`
	Name      string    `db:"name"`
	CreatedAt time.Time `db:"created_at"`
}

// RoomBookingByInvitation returns the booking a valid (not revoked) invitation's secret hashes to (SHA-256), with
// the invitation; ErrNotFound otherwise.
func (db *DB) RoomBookingByInvitation(ctx context.Context, hash []byte) (RoomBooking, Invitation, error) {
	var inv Invitation
	err := db.Pool.QueryRow(ctx, `SELECT id, booking_id, name, created_at FROM colloquio_invitations
		WHERE token_hash = $1 AND revoked_at IS NULL`, hash).Scan(&inv.ID, &inv.BookingID, &inv.Name, &inv.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return RoomBooking{}, Invitation{}, ErrNotFound
	}
	if err != nil {
		return RoomBooking{}, Invitation{}, fmt.Errorf("storage: invitation: %w", err)
	}
	b, err := roomBookingBy(ctx, db.Pool, `WHERE b.id = $1`, inv.BookingID)
	return b, inv, err
}

// ValidInvitation returns the booking's valid invitation, or ErrNotFound.
func (db *DB) ValidInvitation(ctx context.Context, bookingID int64) (Invitation, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT id, booking_id, name, created_at FROM colloquio_invitations
		WHERE booking_id = $1 AND revoked_at IS NULL`, bookingID)
	inv, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Invitation])
	if errors.Is(err, pgx.ErrNoRows) {
		return Invitation{}, ErrNotFound
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("storage: invitation: %w", err)
	}
	return inv, nil
}

// Invite writes a mediator's invitation to the booking's room, revoking the one before, in one transaction; only
// the booking's assigned worker may (ErrNotFound for anyone else, as for a booking that does not exist). Audited
// as colloquio.invite.
func (db *DB) Invite(ctx context.Context, who Actor, bookingID int64, name string, tokenHash []byte, now time.Time) (Invitation, error) {
	var inv Invitation
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM bookings WHERE id = $1 AND staff_id = $2 FOR UPDATE`, bookingID, who.StaffID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE colloquio_invitations SET revoked_at = $2 WHERE booking_id = $1 AND revoked_at IS NULL`,
			bookingID, now); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `INSERT INTO colloquio_invitations (booking_id, token_hash, name, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id, booking_id, name, created_at`, bookingID, tokenHash, name, who.StaffID, now)
		if inv, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Invitation]); err != nil {
			return err
		}
		return Audit(ctx, tx, who, AuditEntry{Action: "colloquio.invite", Detail: map[string]string{
			"booking_id": strconv.FormatInt(bookingID, 10), "invitation_id": strconv.FormatInt(inv.ID, 10)}})
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Invitation{}, fmt.Errorf("storage: invite: %w", err)
	}
	return inv, err
}

// RevokeInvitation revokes the booking's valid invitation, if any; only the assigned worker may (ErrNotFound).
// Audited as colloquio.revoke.
func (db *DB) RevokeInvitation(ctx context.Context, who Actor, bookingID int64, now time.Time) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE colloquio_invitations i SET revoked_at = $3 FROM bookings b
			WHERE i.booking_id = $1 AND i.revoked_at IS NULL AND b.id = i.booking_id AND b.staff_id = $2 RETURNING i.id`,
			bookingID, who.StaffID, now).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return Audit(ctx, tx, who, AuditEntry{Action: "colloquio.revoke", Detail: map[string]string{
			"booking_id": strconv.FormatInt(bookingID, 10), "invitation_id": strconv.FormatInt(id, 10)}})
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("storage: revoke invitation: %w", err)
	}
	return err
}

// AssignableWorkers returns who may receive appointments at an office in the staff member's scope: enabled
// accounts with a scope on the office's sub-ambito or weekly hours of their own there, and the staff member
// themselves. By name.
func (db *DB) AssignableWorkers(ctx context.Context, staffID int64, office string) ([]CalendarWorker, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT u.id, u.full_name FROM staff_users u, offices o JOIN comuni c ON c.code = o.comune
		WHERE o.code = $2 AND `+inScope("c.sub_ambito")+` AND `+assignable+`
		ORDER BY u.full_name, u.id`, staffID, office)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[CalendarWorker])
	if err != nil {
		return nil, fmt.Errorf("storage: assignable workers: %w", err)
	}
	return out, nil
}

// assignable is the condition on staff_users u that they may receive appointments at office o (comune c), as
// chosen by staff member $1.
const assignable = `u.disabled_at IS NULL AND (u.id = $1
	OR EXISTS (SELECT 1 FROM staff_scopes x WHERE x.staff_id = u.id AND x.sub_ambito = c.sub_ambito)
	OR EXISTS (SELECT 1 FROM availability a WHERE a.staff_id = u.id AND a.office = o.code))`

// AssignBooking makes worker (0: nobody) the one who receives a booking of an office in the staff member's scope
// (ErrNotFound otherwise). The worker must be assignable there, and the booking neither cancelled nor moved
// (ErrNotAssignable). Audited as booking.assign. It returns the office and the appointment's start.
func (db *DB) AssignBooking(ctx context.Context, who Actor, id, worker int64) (string, time.Time, error) {
	var office string
	var at time.Time
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var status string
		var was *int64
		err := tx.QueryRow(ctx, `SELECT b.office, b.starts_at, b.status, b.staff_id FROM bookings b
			JOIN offices o ON o.code = b.office JOIN comuni c ON c.code = o.comune
			WHERE b.id = $2 AND `+inScope("c.sub_ambito")+` FOR UPDATE OF b`, who.StaffID, id).Scan(&office, &at, &status, &was)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if status == BookingCancelled || status == BookingMoved {
			return ErrNotAssignable
		}
		var to *int64
		if worker != 0 {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM staff_users u, offices o JOIN comuni c ON c.code = o.comune
				WHERE o.code = $2 AND u.id = $3 AND `+assignable+`)`, who.StaffID, office, worker).Scan(&ok); err != nil {
				return err
			}
			if !ok {
				return ErrNotAssignable
			}
			to = &worker
		}
		if _, err := tx.Exec(ctx, `UPDATE bookings SET staff_id = $2 WHERE id = $1`, id, to); err != nil {
			return err
		}
		detail := map[string]string{"booking_id": strconv.FormatInt(id, 10), "office": office,
			"worker_id": strconv.FormatInt(worker, 10)}
		if was != nil {
			detail["was"] = strconv.FormatInt(*was, 10)
		}
		return Audit(ctx, tx, who, AuditEntry{Action: "booking.assign", Detail: detail})
	})
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return office, at, nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNotAssignable):
		return office, at, err
	case errors.As(err, &pgErr) && pgErr.Code == "23503":
		return office, at, ErrNotAssignable
	}
	return "", time.Time{}, fmt.Errorf("storage: assign booking %d: %w", id, err)
}
