package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Person is a resident with an account.
type Person struct {
	ID          int64     `db:"id" json:"-"`
	FiscalCode  string    `db:"fiscal_code" json:"fiscal_code"`
	GivenName   string    `db:"given_name" json:"given_name"`
	FamilyName  string    `db:"family_name" json:"family_name"`
	Email       *string   `db:"email" json:"email"`
	Phone       string    `db:"phone" json:"phone"`
	Lang        string    `db:"lang" json:"preferred_language"`
	NotifyEmail bool      `db:"notify_email" json:"notify_by_email"`
	NotifySMS   bool      `db:"notify_sms" json:"notify_by_sms"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
	UpdatedAt   time.Time `db:"updated_at" json:"updated_at"`
}

// ErrConflict is returned when a unique value (fiscal code, e-mail) belongs to someone else.
var ErrConflict = errors.New("belongs to another person")

const personColumns = `id, fiscal_code, given_name, family_name, email, phone, lang, notify_email, notify_sms, created_at, updated_at`

// PersonByID returns a person, or ErrNotFound.
func (db *DB) PersonByID(ctx context.Context, id int64) (Person, error) {
	return db.person(ctx, `SELECT `+personColumns+` FROM people WHERE id = $1`, id)
}

// PersonByEmail returns the person who signs in with this (lower-case) e-mail address, or ErrNotFound.
func (db *DB) PersonByEmail(ctx context.Context, email string) (Person, error) {
	return db.person(ctx, `SELECT `+personColumns+` FROM people WHERE email = $1`, email)
}

func (db *DB) person(ctx context.Context, sql string, arg any) (Person, error) {
	rows, _ := db.Pool.Query(ctx, sql, arg)
	p, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Person])
	if errors.Is(err, pgx.ErrNoRows) {
		return Person{}, ErrNotFound
	}
	if err != nil {
		return Person{}, fmt.Errorf("storage: person: %w", err)
	}
	return p, nil
}

// IdentityClaims is what a digital identity provider asserts about a person.
type IdentityClaims struct {
	FiscalCode, GivenName, FamilyName, Email, Phone, Lang string
}

// OnCreate runs in the transaction that creates a person, for what must happen if and only if the account
// exists (the welcome message in the outbox).
type OnCreate func(ctx context.Context, tx pgx.Tx, p Person) error

// UpsertFromIdentity finds the person by fiscal code, creating them if new, and refreshes the names the provider
// asserts. Contact details are filled only where empty: the person may have changed them in their profile.
// The sign-in is recorded in the same transaction.
func (db *DB) UpsertFromIdentity(ctx context.Context, c IdentityClaims, method, level string, onCreate OnCreate) (Person, bool, error) {
	var p Person
	var created bool
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var email *string
		if c.Email != "" {
			// Another person may already sign in with this address: then the provider's e-mail is not copied.
			var taken bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM people WHERE email = $1 AND fiscal_code <> $2)`,
				c.Email, c.FiscalCode).Scan(&taken); err != nil {
				return err
			}
			if !taken {
				email = &c.Email
			}
		}
		rows, _ := tx.Query(ctx, `
			INSERT INTO people (fiscal_code, given_name, family_name, email, phone, lang)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (fiscal_code) DO UPDATE SET
				given_name  = COALESCE(NULLIF(EXCLUDED.given_name, ''), people.given_name),
				family_name = COALESCE(NULLIF(EXCLUDED.family_name, ''), people.family_name),
				email       = COALESCE(people.email, EXCLUDED.email),
				phone       = CASE WHEN people.phone = '' THEN EXCLUDED.phone ELSE people.phone END,
				updated_at  = now()
			RETURNING `+personColumns+`, (xmax = 0) AS created`, c.FiscalCode, c.GivenName, c.FamilyName, email, c.Phone, c.Lang)
		type row struct {
			Person
			Created bool `db:"created"`
		}
		r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[row])
		if err != nil {
			return err
		}
		p, created = r.Person, r.Created
		if created && onCreate != nil {
			if err := onCreate(ctx, tx, p); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO sign_ins (person_id, method, level) VALUES ($1, $2, $3)`, p.ID, method, level)
		return err
	})
	if err != nil {
		return Person{}, false, fmt.Errorf("storage: upsert person: %w", err)
	}
	return p, created, nil
}

// CreateFromEmail creates the person who proved this e-mail address and declared this fiscal code. A fiscal code
// already registered is ErrConflict: it cannot be claimed by a second address.
func (db *DB) CreateFromEmail(ctx context.Context, email string, c IdentityClaims, onCreate OnCreate) (Person, error) {
	var p Person
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `INSERT INTO people (fiscal_code, given_name, family_name, email, lang)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+personColumns, c.FiscalCode, c.GivenName, c.FamilyName, email, c.Lang)
		var err error
		if p, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Person]); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO consents (person_id, kind) VALUES ($1, 'privacy')`, p.ID); err != nil {
			return err
		}
		if onCreate != nil {
			if err := onCreate(ctx, tx, p); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO sign_ins (person_id, method) VALUES ($1, 'email')`, p.ID)
		return err
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

// RecordSignIn logs a sign-in.
func (db *DB) RecordSignIn(ctx context.Context, personID int64, method, level string) error {
	_, err := db.Pool.Exec(ctx, `INSERT INTO sign_ins (person_id, method, level) VALUES ($1, $2, $3)`, personID, method, level)
	if err != nil {
		return fmt.Errorf("storage: sign-in: %w", err)
	}
	return nil
}

// ProfileUpdate is what a person may change about themselves.
type ProfileUpdate struct {
	Email                  *string
	Phone, Lang            string
	NotifyEmail, NotifySMS bool
}

// UpdateProfile saves a person's own changes; an e-mail address of another person is ErrConflict.
func (db *DB) UpdateProfile(ctx context.Context, id int64, u ProfileUpdate) error {
	_, err := db.Pool.Exec(ctx, `UPDATE people SET email = $2, phone = $3, lang = $4, notify_email = $5, notify_sms = $6,
		updated_at = now() WHERE id = $1`, id, u.Email, u.Phone, u.Lang, u.NotifyEmail, u.NotifySMS)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("storage: update profile: %w", err)
	}
	return nil
}

// Consent is one consent with its dates.
type Consent struct {
	Kind        string     `db:"kind" json:"kind"`
	GrantedAt   time.Time  `db:"granted_at" json:"granted_at"`
	WithdrawnAt *time.Time `db:"withdrawn_at" json:"withdrawn_at"`
}

// Consents lists a person's consents, newest first.
func (db *DB) Consents(ctx context.Context, personID int64) ([]Consent, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT kind, granted_at, withdrawn_at FROM consents WHERE person_id = $1 ORDER BY granted_at DESC, id DESC`, personID)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Consent])
	if err != nil {
		return nil, fmt.Errorf("storage: consents: %w", err)
	}
	return out, nil
}

// SetConsent grants (idempotently) or withdraws a consent.
func (db *DB) SetConsent(ctx context.Context, personID int64, kind string, granted bool) error {
	var err error
	if granted {
		_, err = db.Pool.Exec(ctx, `INSERT INTO consents (person_id, kind) VALUES ($1, $2) ON CONFLICT DO NOTHING`, personID, kind)
	} else {
		_, err = db.Pool.Exec(ctx, `UPDATE consents SET withdrawn_at = now() WHERE person_id = $1 AND kind = $2 AND withdrawn_at IS NULL`, personID, kind)
	}
	if err != nil {
		return fmt.Errorf("storage: consent: %w", err)
	}
	return nil
}

// SignIn is one recorded sign-in.
type SignIn struct {
	Method string    `db:"method" json:"method"`
	Level  string    `db:"level" json:"level"`
	At     time.Time `db:"at" json:"at"`
}

// SignIns lists a person's sign-ins, newest first.
func (db *DB) SignIns(ctx context.Context, personID int64, limit int) ([]SignIn, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT method, level, at FROM sign_ins WHERE person_id = $1 ORDER BY at DESC LIMIT $2`, personID, limit)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[SignIn])
	if err != nil {
		return nil, fmt.Errorf("storage: sign-ins: %w", err)
	}
	return out, nil
}
