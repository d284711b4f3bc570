package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Staff roles. An operatore works in the sub-ambiti listed in staff_scopes; a coordinatore in the whole district;
// an admin also manages accounts and configuration.
const (
	RoleOperatore    = "operatore"
	RoleCoordinatore = "coordinatore"
	RoleAdmin        = "admin"
)

// StaffUsernamePattern is the shape of a username, as the database checks it.
var StaffUsernamePattern = regexp.MustCompile(`^[a-z0-9._-]{3,64}$`)

// Roles lists the roles from least to most privileged.
var Roles = []string{RoleOperatore, RoleCoordinatore, RoleAdmin}

// Errors of account management that the forms turn into field messages.
var (
	ErrUsernameTaken = errors.New("storage: username taken")
	ErrUnknownScope  = errors.New("storage: unknown sub-ambito")
)

// StaffAttempts is an account's record of failed sign-in steps; the lockout policy lives with the sign-in handlers.
type StaffAttempts struct {
	Failures    int        `db:"failed_count"`
	WindowStart *time.Time `db:"failed_window_start"`
	LastFailure *time.Time `db:"failed_last_at"`
	LockedUntil *time.Time `db:"locked_until"`
}

// StaffUser is a back-office account.
type StaffUser struct {
	ID                 int64      `db:"id"`
	Username           string     `db:"username"`
	FullName           string     `db:"full_name"`
	Role               string     `db:"role"`
	Scopes             []string   `db:"scopes"`      // sub-ambiti codes, for an operatore
	ScopeNames         []string   `db:"scope_names"` // the same sub-ambiti's names
	PasswordHash       string     `db:"password_hash"`
	TOTPSecret         *string    `db:"totp_secret"`
	TOTPConfirmedAt    *time.Time `db:"totp_confirmed_at"`
	TOTPLastStep       int64      `db:"totp_last_step"`
	DisabledAt         *time.Time `db:"disabled_at"`
	MustChangePassword bool       `db:"must_change_password"`
	CreatedAt          time.Time  `db:"created_at"`
	RecoveryLeft       int        `db:"recovery_left"` // unused recovery codes
	StaffAttempts
}

// Enrolled reports whether the account has confirmed its TOTP app.
func (u *StaffUser) Enrolled() bool { return u.TOTPConfirmedAt != nil }

const staffColumns = `u.id, u.username, u.full_name, u.role,
	ARRAY(SELECT x.sub_ambito FROM staff_scopes x JOIN sub_ambiti s ON s.code = x.sub_ambito
		WHERE x.staff_id = u.id ORDER BY s.position) AS scopes,
	ARRAY(SELECT s.name FROM staff_scopes x JOIN sub_ambiti s ON s.code = x.sub_ambito
		WHERE x.staff_id = u.id ORDER BY s.position) AS scope_names,
	u.password_hash, u.totp_secret, u.totp_confirmed_at, u.totp_last_step, u.disabled_at, u.must_change_password,
	u.created_at, (SELECT count(*) FROM staff_recovery_codes r WHERE r.staff_id = u.id AND r.used_at IS NULL)::int AS recovery_left,
	u.failed_count, u.failed_window_start, u.failed_last_at, u.locked_until`

func (db *DB) staffUser(ctx context.Context, where string, arg any) (StaffUser, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+staffColumns+` FROM staff_users u WHERE `+where, arg)
	u, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[StaffUser])
	if errors.Is(err, pgx.ErrNoRows) {
		return StaffUser{}, ErrNotFound
	}
	if err != nil {
		return StaffUser{}, fmt.Errorf("storage: staff user: %w", err)
	}
	return u, nil
}

// StaffUserByID returns an account, disabled or not.
func (db *DB) StaffUserByID(ctx context.Context, id int64) (StaffUser, error) {
	return db.staffUser(ctx, "u.id = $1", id)
}

// StaffUserByUsername returns an account, disabled or not.
func (db *DB) StaffUserByUsername(ctx context.Context, username string) (StaffUser, error) {
	return db.staffUser(ctx, "u.username = $1", username)
}

// StaffUsers returns every account, by username.
func (db *DB) StaffUsers(ctx context.Context) ([]StaffUser, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+staffColumns+` FROM staff_users u ORDER BY u.username`)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[StaffUser])
	if err != nil {
		return nil, fmt.Errorf("storage: staff users: %w", err)
	}
	return out, nil
}

// NewStaff is an account to create.
type NewStaff struct {
	Username, FullName, Role, PasswordHash string
	Scopes                                 []string // only for an operatore
	MustChangePassword                     bool
}

// CreateStaff creates an account with its scope and returns its ID. A taken username is ErrUsernameTaken, an
// unknown sub-ambito ErrUnknownScope.
func (db *DB) CreateStaff(ctx context.Context, n NewStaff) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO staff_users (username, full_name, role, password_hash, must_change_password)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, n.Username, n.FullName, n.Role, n.PasswordHash, n.MustChangePassword).Scan(&id)
		if err != nil {
			return err
		}
		return setScopes(ctx, tx, id, n.Role, n.Scopes)
	})
	if err != nil {
		return 0, fmt.Errorf("storage: create staff: %w", constraintError(err))
	}
	return id, nil
}

func setScopes(ctx context.Context, tx pgx.Tx, id int64, role string, scopes []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM staff_scopes WHERE staff_id = $1`, id); err != nil {
		return err
	}
	if role != RoleOperatore || len(scopes) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO staff_scopes (staff_id, sub_ambito) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`, id, scopes)
	return err
}

func constraintError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505" && pe.ConstraintName == "staff_users_username_key":
			return ErrUsernameTaken
		case pe.Code == "23503" && pe.ConstraintName == "staff_scopes_sub_ambito_fkey":
			return ErrUnknownScope
		}
	}
	return err
}

// UpdateStaffRole changes an account's role and scope; scopes are kept only for an operatore.
func (db *DB) UpdateStaffRole(ctx context.Context, id int64, role string, scopes []string) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE staff_users SET role = $2 WHERE id = $1`, id, role)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return setScopes(ctx, tx, id, role, scopes)
	})
	if err != nil {
		return fmt.Errorf("storage: update staff role: %w", constraintError(err))
	}
	return nil
}

func (db *DB) execOne(ctx context.Context, what, sql string, args ...any) error {
	tag, err := db.Pool.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("storage: %s: %w", what, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("storage: %s: %w", what, ErrNotFound)
	}
	return nil
}

// SetStaffPassword replaces an account's password hash; mustChange marks it as a one-time password.
func (db *DB) SetStaffPassword(ctx context.Context, id int64, hash string, mustChange bool) error {
	return db.execOne(ctx, "set staff password",
		`UPDATE staff_users SET password_hash = $2, must_change_password = $3 WHERE id = $1`, id, hash, mustChange)
}

// SetStaffDisabled disables an account at the given time, or enables it again with nil.
func (db *DB) SetStaffDisabled(ctx context.Context, id int64, at *time.Time) error {
	return db.execOne(ctx, "disable staff", `UPDATE staff_users SET disabled_at = $2 WHERE id = $1`, id, at)
}

// ResetStaffTOTP forgets an account's TOTP app and recovery codes: the next sign-in enrols again.
func (db *DB) ResetStaffTOTP(ctx context.Context, id int64) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE staff_users SET totp_secret = NULL, totp_confirmed_at = NULL, totp_last_step = 0
			WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("storage: reset totp: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("storage: reset totp: %w", ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM staff_recovery_codes WHERE staff_id = $1`, id); err != nil {
			return fmt.Errorf("storage: reset totp: %w", err)
		}
		return nil
	})
}

// StartStaffTOTP stores secret as the account's TOTP secret unless enrolment already began, and returns the
// secret in force, so reloading the enrolment page keeps showing the QR code already scanned.
func (db *DB) StartStaffTOTP(ctx context.Context, id int64, secret string) (string, error) {
	var current string
	err := db.Pool.QueryRow(ctx, `UPDATE staff_users SET totp_secret = coalesce(totp_secret, $2)
		WHERE id = $1 AND totp_confirmed_at IS NULL RETURNING totp_secret`, id, secret).Scan(&current)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("storage: start totp: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("storage: start totp: %w", err)
	}
	return current, nil
}

// ConfirmStaffTOTP completes enrolment with the time step of the code that confirmed it and replaces the recovery
// codes. It reports false when enrolment was already confirmed (by a concurrent request).
func (db *DB) ConfirmStaffTOTP(ctx context.Context, id, step int64, recoveryHashes [][]byte, now time.Time) (bool, error) {
	ok := false
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE staff_users SET totp_confirmed_at = $2, totp_last_step = $3
			WHERE id = $1 AND totp_confirmed_at IS NULL AND totp_secret IS NOT NULL`, id, now, step)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM staff_recovery_codes WHERE staff_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO staff_recovery_codes (staff_id, code_hash) SELECT $1, unnest($2::bytea[])`,
			id, recoveryHashes); err != nil {
			return err
		}
		ok = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("storage: confirm totp: %w", err)
	}
	return ok, nil
}

// UseStaffTOTPStep records step as the last accepted TOTP time step. It reports false when that step or a later
// one was already used: the code is a replay. The check and the write are one statement, so two requests with
// the same code cannot both pass.
func (db *DB) UseStaffTOTPStep(ctx context.Context, id, step int64) (bool, error) {
	tag, err := db.Pool.Exec(ctx, `UPDATE staff_users SET totp_last_step = $2
		WHERE id = $1 AND totp_confirmed_at IS NOT NULL AND totp_last_step < $2`, id, step)
	if err != nil {
		return false, fmt.Errorf("storage: use totp step: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// UseStaffRecoveryCode marks an unused recovery code as used; it reports false when there is no such unused code.
func (db *DB) UseStaffRecoveryCode(ctx context.Context, id int64, hash []byte, now time.Time) (bool, error) {
	tag, err := db.Pool.Exec(ctx, `UPDATE staff_recovery_codes SET used_at = $3
		WHERE staff_id = $1 AND code_hash = $2 AND used_at IS NULL`, id, hash, now)
	if err != nil {
		return false, fmt.Errorf("storage: use recovery code: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// RecordStaffFailure applies next to the account's failure record, under a row lock so concurrent failures are
// all counted.
func (db *DB) RecordStaffFailure(ctx context.Context, id int64, next func(StaffAttempts) StaffAttempts) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT failed_count, failed_window_start, failed_last_at, locked_until
			FROM staff_users WHERE id = $1 FOR UPDATE`, id)
		a, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[StaffAttempts])
		if err != nil {
			return err
		}
		a = next(a)
		_, err = tx.Exec(ctx, `UPDATE staff_users SET failed_count = $2, failed_window_start = $3, failed_last_at = $4,
			locked_until = $5 WHERE id = $1`, id, a.Failures, a.WindowStart, a.LastFailure, a.LockedUntil)
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: record staff failure: %w", err)
	}
	return nil
}

// ResetStaffAttempts clears the failure record and any lock: after a complete sign-in, or an admin's unlock.
func (db *DB) ResetStaffAttempts(ctx context.Context, id int64) error {
	return db.execOne(ctx, "reset staff attempts", `UPDATE staff_users SET failed_count = 0, failed_window_start = NULL,
		failed_last_at = NULL, locked_until = NULL WHERE id = $1`, id)
}

// inScope is the SQL condition "staff member $1 may work on sub-ambito col": coordinatori and admins everywhere,
// operatori in their listed sub-ambiti, disabled accounts nowhere. Every query on scoped data uses it, so scope
// is enforced by the database query, not by which links a menu shows.
func inScope(col string) string {
	return `EXISTS (SELECT 1 FROM staff_users u WHERE u.id = $1 AND u.disabled_at IS NULL AND (u.role IN ('coordinatore', 'admin')
		OR EXISTS (SELECT 1 FROM staff_scopes x WHERE x.staff_id = u.id AND x.sub_ambito = ` + col + `)))`
}

const officeColumns = `o.code, o.name, c.name AS comune, c.sub_ambito, o.address, o.phone, o.email, o.hours`

// StaffOffices returns the offices in the staff member's scope, ordered by sub-ambito and name.
func (db *DB) StaffOffices(ctx context.Context, staffID int64) ([]Office, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+officeColumns+`
		FROM offices o JOIN comuni c ON c.code = o.comune JOIN sub_ambiti s ON s.code = c.sub_ambito
		WHERE `+inScope("c.sub_ambito")+` ORDER BY s.position, o.name`, staffID)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Office])
	if err != nil {
		return nil, fmt.Errorf("storage: staff offices: %w", err)
	}
	return out, nil
}

// StaffOffice returns one office if it is in the staff member's scope, else ErrNotFound.
func (db *DB) StaffOffice(ctx context.Context, staffID int64, code string) (Office, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+officeColumns+`
		FROM offices o JOIN comuni c ON c.code = o.comune
		WHERE o.code = $2 AND `+inScope("c.sub_ambito"), staffID, code)
	o, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Office])
	if errors.Is(err, pgx.ErrNoRows) {
		return Office{}, ErrNotFound
	}
	if err != nil {
		return Office{}, fmt.Errorf("storage: staff office: %w", err)
	}
	return o, nil
}

// UpdateStaffOffice changes an office's contacts and hours if it is in the staff member's scope, else ErrNotFound.
func (db *DB) UpdateStaffOffice(ctx context.Context, staffID int64, code, phone, email string, hours []OpeningHours) error {
	if hours == nil {
		hours = []OpeningHours{}
	}
	js, err := json.Marshal(hours)
	if err != nil {
		return fmt.Errorf("storage: update office: %w", err)
	}
	return db.execOne(ctx, "update office", `UPDATE offices o SET phone = $3, email = $4, hours = $5
		FROM comuni c WHERE c.code = o.comune AND o.code = $2 AND `+inScope("c.sub_ambito"), staffID, code, phone, email, js)
}
