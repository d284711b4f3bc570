package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Attachment is a file attached to an application; its bytes are in the document store under StorageKey.
type Attachment struct {
	ID            int64     `db:"id"`
	ApplicationID int64     `db:"application_id"`
	DocType       string    `db:"doc_type"`
	FileName      string    `db:"file_name"`
	ContentType   string    `db:"content_type"`
	Size          int64     `db:"size"`
	SHA256        string    `db:"sha256"`
	StorageKey    string    `db:"storage_key"`
	CreatedAt     time.Time `db:"created_at"`
	RequestID     *int64    `db:"request_id"` // sent in answer to the office's request
	SharedBy      *int64    `db:"shared_by"`  // shared by the office (a decision letter): the staff account
}

const attachmentColumns = `id, application_id, doc_type, file_name, content_type, size, sha256, storage_key, created_at,
	request_id, shared_by`

// AddAttachment records a stored file on a draft of the applicant's — or, with RequestID set, on an application
// waiting for the documents that open request of the office asked for — if the application's files stay within
// maxTotal bytes. The application row is locked meanwhile, so two uploads at once cannot both pass the limit.
func (db *DB) AddAttachment(ctx context.Context, applicantID int64, a Attachment, maxTotal int64) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM applications WHERE id = $1 AND applicant_id = $2 FOR UPDATE`,
			a.ApplicationID, applicantID).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if a.RequestID == nil && status != "draft" {
			return ErrNotDraft
		}
		if a.RequestID != nil {
			var open bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM application_requests
				WHERE id = $1 AND application_id = $2 AND answered_at IS NULL)`, *a.RequestID, a.ApplicationID).Scan(&open); err != nil {
				return err
			}
			if !open || status != StatusWaitingCitizen {
				return ErrNoOpenRequest
			}
		}
		var total int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(sum(size), 0) FROM attachments WHERE application_id = $1`,
			a.ApplicationID).Scan(&total); err != nil {
			return err
		}
		if total+a.Size > maxTotal {
			return ErrTooLarge
		}
		if err := tx.QueryRow(ctx, `
			INSERT INTO attachments (application_id, doc_type, file_name, content_type, size, sha256, storage_key, uploaded_by, request_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			a.ApplicationID, a.DocType, a.FileName, a.ContentType, a.Size, a.SHA256, a.StorageKey, applicantID, a.RequestID).Scan(&id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE applications SET updated_at = now() WHERE id = $1`, a.ApplicationID)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrNotDraft) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrNoOpenRequest) {
			return 0, err
		}
		return 0, fmt.Errorf("storage: add attachment: %w", err)
	}
	return id, nil
}

// Attachments lists an application's files in upload order. The caller has checked who may see the application.
func (db *DB) Attachments(ctx context.Context, applicationID int64) ([]Attachment, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+attachmentColumns+` FROM attachments WHERE application_id = $1 ORDER BY id`, applicationID)
	atts, err := pgx.CollectRows(rows, pgx.RowToStructByName[Attachment])
	if err != nil {
		return nil, fmt.Errorf("storage: attachments of application %d: %w", applicationID, err)
	}
	return atts, nil
}

// AttachmentOf returns one file of an application. The caller has checked who may see the application; the
// application ID in the query keeps a file of another application out of reach.
func (db *DB) AttachmentOf(ctx context.Context, applicationID, id int64) (Attachment, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+attachmentColumns+` FROM attachments WHERE application_id = $1 AND id = $2`, applicationID, id)
	a, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Attachment])
	if errors.Is(err, pgx.ErrNoRows) {
		return Attachment{}, ErrNotFound
	}
	if err != nil {
		return Attachment{}, fmt.Errorf("storage: attachment %d: %w", id, err)
	}
	return a, nil
}

// DeleteAttachment removes a file from a draft of the applicant's, or one sent for a request not yet answered,
// and returns its storage key, for the caller to delete the bytes.
func (db *DB) DeleteAttachment(ctx context.Context, applicantID, applicationID, id int64) (string, error) {
	var key string
	err := db.Pool.QueryRow(ctx, `
		DELETE FROM attachments t USING applications a
		WHERE t.id = $3 AND t.application_id = $2 AND a.id = t.application_id AND a.applicant_id = $1
			AND (a.status = 'draft' OR t.request_id IN (SELECT r.id FROM application_requests r
				WHERE r.application_id = a.id AND r.answered_at IS NULL))
		RETURNING t.storage_key`, applicantID, applicationID, id).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("storage: delete attachment %d: %w", id, err)
	}
	return key, nil
}
