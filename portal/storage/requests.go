package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/i18n"
)

// ErrNoOpenRequest: the application is not waiting for documents (the request was answered, or never made).
var ErrNoOpenRequest = errors.New("storage: no open request")

// Request is what the office asked the resident for: documents of some types and/or information, with a message.
type Request struct {
	ID            int64      `db:"id"`
	ApplicationID int64      `db:"application_id"`
	StaffID       int64      `db:"staff_id"`
	StaffName     string     `db:"staff_name"`
	DocTypes      []string   `db:"doc_types"`
	Message       string     `db:"message"`
	CreatedAt     time.Time  `db:"created_at"`
	AnsweredAt    *time.Time `db:"answered_at"`
	Answer        string     `db:"answer"`
}

const requestColumns = `r.id, r.application_id, r.staff_id, u.full_name AS staff_name, r.doc_types, r.message, r.created_at,
	r.answered_at, r.answer`

// Requests lists an application's requests, oldest first. The caller has checked who may see the application.
func (db *DB) Requests(ctx context.Context, applicationID int64) ([]Request, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+requestColumns+` FROM application_requests r
		JOIN staff_users u ON u.id = r.staff_id WHERE r.application_id = $1 ORDER BY r.id`, applicationID)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Request])
	if err != nil {
		return nil, fmt.Errorf("storage: requests of %d: %w", applicationID, err)
	}
	return out, nil
}

// OpenRequest is the request an application waits on; ErrNoOpenRequest when none.
func (db *DB) OpenRequest(ctx context.Context, applicationID int64) (Request, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+requestColumns+` FROM application_requests r
		JOIN staff_users u ON u.id = r.staff_id WHERE r.application_id = $1 AND r.answered_at IS NULL`, applicationID)
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Request])
	if errors.Is(err, pgx.ErrNoRows) {
		return Request{}, ErrNoOpenRequest
	}
	if err != nil {
		return Request{}, fmt.Errorf("storage: open request of %d: %w", applicationID, err)
	}
	return r, nil
}

// AskDocuments is the workflow step in review → waiting for the resident: the office's request is recorded.
func AskDocuments(staffID int64, docTypes []string, message string, now time.Time) func(ctx context.Context, tx pgx.Tx, c *Case) error {
	return func(ctx context.Context, tx pgx.Tx, c *Case) error {
		_, err := tx.Exec(ctx, `INSERT INTO application_requests (application_id, staff_id, doc_types, message, created_at)
			VALUES ($1, $2, $3, $4, $5)`, c.ID, staffID, docTypes, message, now)
		return err
	}
}

// AnswerRequest is the workflow step waiting for the resident → in review, when the resident sends what was
// asked: every requested document type needs a file sent for the request (a *MissingDocumentsError lists the
// missing ones). The legal deadline is suspended while the office waits (L. 241/1990 art. 2 c. 7): it moves on by
// the days the request stayed open. The worker sees the application flagged in the queue.
func AnswerRequest(answer string, now time.Time) func(ctx context.Context, tx pgx.Tx, c *Case) error {
	return func(ctx context.Context, tx pgx.Tx, c *Case) error {
		var id int64
		var types []string
		var asked time.Time
		err := tx.QueryRow(ctx, `SELECT id, doc_types, created_at FROM application_requests
			WHERE application_id = $1 AND answered_at IS NULL FOR UPDATE`, c.ID).Scan(&id, &types, &asked)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoOpenRequest
		}
		if err != nil {
			return err
		}
		var sent []string
		rows, _ := tx.Query(ctx, `SELECT DISTINCT doc_type FROM attachments WHERE request_id = $1`, id)
		if sent, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		var missing []string
		for _, t := range types {
			if !slices.Contains(sent, t) {
				missing = append(missing, t)
			}
		}
		if len(missing) > 0 {
			return &MissingDocumentsError{Types: missing}
		}
		if len(types) == 0 && answer == "" {
			return ErrEmptyAnswer
		}
		if _, err := tx.Exec(ctx, `UPDATE application_requests SET answered_at = $3, answer = $2 WHERE id = $1`, id, answer, now); err != nil {
			return err
		}
		a, b := asked.In(i18n.Rome), now.In(i18n.Rome)
		waited := int(time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC).Sub(
			time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)).Hours() / 24)
		_, err = tx.Exec(ctx, `UPDATE applications SET citizen_replied_at = $3,
			due_on = CASE WHEN due_on IS NULL THEN NULL ELSE due_on + $2::int END WHERE id = $1`, c.ID, max(waited, 0), now)
		return err
	}
}

// ErrEmptyAnswer: a request for information only was answered with nothing.
var ErrEmptyAnswer = errors.New("storage: empty answer")

// Decide is the workflow step in review → admitted or not admitted, at now, with the reason and, when admitted,
// the amount (none when not admitted).
func Decide(reason string, amount *Amount, now time.Time) func(ctx context.Context, tx pgx.Tx, c *Case) error {
	return func(ctx context.Context, tx pgx.Tx, c *Case) error {
		var cents *int64
		var period *string
		var months *int
		if amount != nil {
			cents, period, months = &amount.Cents, &amount.Period, &amount.Months
			// an approved graduatoria is closed: admitting now would leave the application unranked for good
			var frozen bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM rankings WHERE call_id = $1 AND category = $2
				AND approved_at IS NOT NULL)`, c.CallID, c.Category).Scan(&frozen); err != nil {
				return err
			}
			if frozen {
				return &IllegalTransitionError{From: c.Status, To: StatusAdmitted, Frozen: true}
			}
		}
		_, err := tx.Exec(ctx, `UPDATE applications SET decided_at = $6, decision_reason = $2, amount_cents = $3,
			amount_period = $4, amount_months = $5 WHERE id = $1`, c.ID, reason, cents, period, months, now)
		return err
	}
}

// Message is one message about an application: from the office (StaffID) or from the resident (PersonID);
// Internal ones are the office's notes, never shown to the resident.
type Message struct {
	ID            int64     `db:"id"`
	ApplicationID int64     `db:"application_id"`
	StaffID       *int64    `db:"staff_id"`
	StaffName     string    `db:"staff_name"`
	PersonID      *int64    `db:"person_id"`
	PersonName    string    `db:"person_name"`
	Internal      bool      `db:"internal"`
	Body          string    `db:"body"`
	CreatedAt     time.Time `db:"created_at"`
}

// Messages lists an application's messages, oldest first; internal notes only when withNotes (staff).
func (db *DB) Messages(ctx context.Context, applicationID int64, withNotes bool) ([]Message, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT m.id, m.application_id, m.staff_id, coalesce(u.full_name, '') AS staff_name,
			m.person_id, coalesce(trim(p.given_name || ' ' || p.family_name), '') AS person_name, m.internal, m.body, m.created_at
		FROM application_messages m LEFT JOIN staff_users u ON u.id = m.staff_id LEFT JOIN people p ON p.id = m.person_id
		WHERE m.application_id = $1 AND (NOT m.internal OR $2) ORDER BY m.created_at, m.id`, applicationID, withNotes)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Message])
	if err != nil {
		return nil, fmt.Errorf("storage: messages of %d: %w", applicationID, err)
	}
	return out, nil
}

// StaffMessage writes a message to the resident (or an internal note) on an application within scope, audited;
// then writes the resident's notification in the same transaction (not for notes).
func (db *DB) StaffMessage(ctx context.Context, scope Scope, who Actor, id int64, body string, internal bool,
	then func(ctx context.Context, tx pgx.Tx, c Case) error) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		c, err := caseByID(ctx, tx, id, scope, "")
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO application_messages (application_id, staff_id, internal, body)
			VALUES ($1, $2, $3, $4)`, id, who.StaffID, internal, body); err != nil {
			return err
		}
		action := "application.message"
		if internal {
			action = "application.note"
		}
		if err := Audit(ctx, tx, who, AuditEntry{Action: action, ApplicationID: id}); err != nil {
			return err
		}
		if internal || then == nil {
			return nil
		}
		return then(ctx, tx, c)
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("storage: staff message: %w", err)
	}
	return err
}

// CitizenMessage writes the applicant's message on their submitted application and flags it for its worker.
func (db *DB) CitizenMessage(ctx context.Context, applicantID, id int64, body string) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE applications SET citizen_replied_at = now()
			WHERE id = $1 AND applicant_id = $2 AND status <> 'draft'`, id, applicantID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		_, err = tx.Exec(ctx, `INSERT INTO application_messages (application_id, person_id, body) VALUES ($1, $2, $3)`,
			id, applicantID, body)
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("storage: citizen message: %w", err)
	}
	return err
}

// ShareDocument records a file the office shares with the resident (a decision letter), audited, and writes the
// resident's notification in the same transaction.
func (db *DB) ShareDocument(ctx context.Context, scope Scope, who Actor, a Attachment,
	then func(ctx context.Context, tx pgx.Tx, c Case) error) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		c, err := caseByID(ctx, tx, a.ApplicationID, scope, "")
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `
			INSERT INTO attachments (application_id, doc_type, file_name, content_type, size, sha256, storage_key, shared_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			a.ApplicationID, a.DocType, a.FileName, a.ContentType, a.Size, a.SHA256, a.StorageKey, who.StaffID).Scan(&id); err != nil {
			return err
		}
		if err := Audit(ctx, tx, who, AuditEntry{Action: "document.share", ApplicationID: a.ApplicationID, AttachmentID: id}); err != nil {
			return err
		}
		return then(ctx, tx, c)
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, fmt.Errorf("storage: share document: %w", err)
	}
	return id, err
}
