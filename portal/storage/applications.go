package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
)

// Errors of the application workflow that the resident is told about.
var (
	// ErrCallClosed: the call does not receive applications now (not yet open, or closed while the form was open).
	ErrCallClosed = errors.New("storage: call not open")
	// ErrNotDraft: the application was already submitted; drafts only can change.
	ErrNotDraft = errors.New("storage: application already submitted")
	// ErrDuplicate: the beneficiary already has an application in this call.
	ErrDuplicate = errors.New("storage: beneficiary already has an application in this call")
	// ErrTooLarge: the application's files would exceed the per-application limit.
	ErrTooLarge = errors.New("storage: application files over the limit")
)

// Application is one istanza, a draft or submitted. Answers are the forms engine's (raw and normalized values).
type Application struct {
	ID            int64         `db:"id"`
	CallID        int64         `db:"call_id"`
	ApplicantID   int64         `db:"applicant_id"`
	FormVersion   string        `db:"form_version"`
	Answers       forms.Answers `db:"answers"`
	BeneficiaryCF *string       `db:"beneficiary_cf"`
	OnBehalf      bool          `db:"on_behalf"`
	Relationship  string        `db:"relationship"`
	Status        string        `db:"status"`
	Protocol      *string       `db:"protocol"`
	SubmittedAt   *time.Time    `db:"submitted_at"`
	Category      string        `db:"category"`
	CreatedAt     time.Time     `db:"created_at"`
	UpdatedAt     time.Time     `db:"updated_at"`
	// from the call
	Measure    string           `db:"measure"`
	Year       int              `db:"year"`
	OpensAt    time.Time        `db:"opens_at"`
	ClosesAt   time.Time        `db:"closes_at"`
	Thresholds map[string]int64 `db:"thresholds"` // the call's ISEE thresholds, cents
	// the applicant's name, for the beneficiary's view and the receipt
	ApplicantCF   string `db:"applicant_cf"`
	ApplicantName string `db:"applicant_name"`
}

// Draft reports whether the application can still be changed.
func (a Application) Draft() bool { return a.Status == "draft" }

const applicationColumns = `a.id, a.call_id, a.applicant_id, a.form_version, a.answers, a.beneficiary_cf, a.on_behalf,
	a.relationship, a.status, a.protocol, a.submitted_at, a.category, a.created_at, a.updated_at,
	c.measure, c.year, c.opens_at, c.closes_at, c.thresholds,
	p.fiscal_code AS applicant_cf, trim(p.given_name || ' ' || p.family_name) AS applicant_name`

const applicationFrom = ` FROM applications a JOIN calls c ON c.id = a.call_id JOIN people p ON p.id = a.applicant_id `

// CreateDraft starts an application for a call, or returns the one already started with the same key (a double
// click or a retry of the "start" form). A key used by someone else is ErrNotFound.
func (db *DB) CreateDraft(ctx context.Context, callID, applicantID int64, key, formVersion string) (int64, error) {
	var id, owner int64
	err := db.Pool.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO applications (call_id, applicant_id, create_key, form_version, answers)
			VALUES ($1, $2, $3, $4, jsonb_build_object('definition', $4::text, 'raw', '{}'::jsonb, 'value', '{}'::jsonb))
			ON CONFLICT (create_key) DO NOTHING
			RETURNING id, applicant_id)
		SELECT id, applicant_id FROM ins
		UNION ALL SELECT id, applicant_id FROM applications WHERE create_key = $3
		LIMIT 1`, callID, applicantID, key, formVersion).Scan(&id, &owner)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, ErrNotFound
		}
		return 0, fmt.Errorf("storage: create draft: %w", err)
	}
	if owner != applicantID {
		return 0, ErrNotFound
	}
	return id, nil
}

// ApplicationWithPerson returns an application the signed-in person may see — as its applicant (drafts included),
// or as its beneficiary once submitted; anyone else gets ErrNotFound, as if it did not exist — with that person's
// own row, both read in one round trip (a pipelined batch): every page of an application needs both.
func (db *DB) ApplicationWithPerson(ctx context.Context, id, personID int64) (Application, Person, error) {
	b := &pgx.Batch{}
	var p Person
	var a Application
	b.Queue(`SELECT `+personColumns+` FROM people WHERE id = $1`, personID).Query(func(rows pgx.Rows) error {
		var err error
		p, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Person])
		return err
	})
	b.Queue(`SELECT `+applicationColumns+applicationFrom+`
		WHERE a.id = $1 AND (a.applicant_id = $2 OR (a.status <> 'draft' AND
			a.beneficiary_cf = (SELECT fiscal_code FROM people WHERE id = $2)))`, id, personID).Query(func(rows pgx.Rows) error {
		var err error
		a, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Application])
		return err
	})
	err := db.Pool.SendBatch(ctx, b).Close()
	if errors.Is(err, pgx.ErrNoRows) {
		return Application{}, Person{}, ErrNotFound
	}
	if err != nil {
		return Application{}, Person{}, fmt.Errorf("storage: application %d: %w", id, err)
	}
	return a, p, nil
}

// ApplicationsFor lists the person's applications, as applicant (drafts included) or as beneficiary, newest first.
func (db *DB) ApplicationsFor(ctx context.Context, personID int64, fiscalCode string) ([]Application, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+applicationColumns+applicationFrom+`
		WHERE a.applicant_id = $1 OR (a.beneficiary_cf = $2 AND a.status <> 'draft')
		ORDER BY a.updated_at DESC, a.id DESC LIMIT 200`, personID, fiscalCode)
	apps, err := pgx.CollectRows(rows, pgx.RowToStructByName[Application])
	if err != nil {
		return nil, fmt.Errorf("storage: applications of person %d: %w", personID, err)
	}
	return apps, nil
}

// DraftUpdate is what saving one step of a draft changes.
type DraftUpdate struct {
	Answers       forms.Answers
	BeneficiaryCF string // "" when not (validly) answered yet
	OnBehalf      bool
	Relationship  string
	// Comune is the code of the comune of residence, "" when not (validly) answered yet. Kept on the draft, with its
	// sub-ambito, when the step is saved: the submission then leaves both as they are, and the foreign-key checks
	// (a share lock on the comune's row, the same row for every resident of Crema) happen here, not all at once at
	// a click day's opening.
	Comune string
}

// SaveDraft stores the answers of a draft of the applicant's. A submitted application is ErrNotDraft.
func (db *DB) SaveDraft(ctx context.Context, id, applicantID int64, u DraftUpdate) error {
	answers, err := json.Marshal(u.Answers)
	if err != nil {
		return fmt.Errorf("storage: save draft: %w", err)
	}
	relationship := u.Relationship
	if !u.OnBehalf {
		relationship = ""
	}
	tag, err := db.Pool.Exec(ctx, `
		UPDATE applications SET answers = $3, beneficiary_cf = NULLIF($4, ''), on_behalf = $5, relationship = $6,
			comune = (SELECT code FROM comuni WHERE code = $7), sub_ambito = (SELECT sub_ambito FROM comuni WHERE code = $7),
			updated_at = now()
		WHERE id = $1 AND applicant_id = $2 AND status = 'draft'`, id, applicantID, answers, u.BeneficiaryCF, u.OnBehalf, relationship,
		u.Comune)
	if err != nil {
		return fmt.Errorf("storage: save draft %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return db.whyNotDraft(ctx, id, applicantID)
	}
	return nil
}

// whyNotDraft tells a missing application from a submitted one.
func (db *DB) whyNotDraft(ctx context.Context, id, applicantID int64) error {
	var status string
	err := db.Pool.QueryRow(ctx, `SELECT status FROM applications WHERE id = $1 AND applicant_id = $2`, id, applicantID).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("storage: application %d: %w", id, err)
	}
	return ErrNotDraft
}

// DeleteDraft deletes a draft of the applicant's with its files' rows; it returns the storage keys of the files,
// for the caller to delete from the document store.
func (db *DB) DeleteDraft(ctx context.Context, id, applicantID int64) ([]string, error) {
	var keys []string
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT storage_key FROM attachments WHERE application_id = $1`, id)
		var err error
		if keys, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM applications WHERE id = $1 AND applicant_id = $2 AND status = 'draft'`, id, applicantID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return db.whyNotDraft(ctx, id, applicantID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: delete draft %d: %w", id, err)
	}
	return keys, nil
}

// Submission is a validated draft ready to be received.
type Submission struct {
	ID            int64
	ApplicantID   int64
	Answers       forms.Answers
	BeneficiaryCF string
	OnBehalf      bool
	Relationship  string
	Comune        string // code in the comuni table
	Category      string
	RankingKey    func(receivedAt time.Time) string
	RequiredDocs  []string // document types that must be attached
}

// Received is the outcome of a submission.
type Received struct {
	Protocol   string
	ReceivedAt time.Time
	Already    bool // the application had been submitted before (double click, retry, second tab)
}

// Submit receives a draft: while its call is open, with every required document attached, it gets the next
// protocol number of the year and the time of receipt, a "submitted" event, and the messages then writes (the
// outbox) in the same transaction. Submitting an application already submitted returns its protocol with
// Already set and changes nothing, so a double click, a retried request or a second tab yield one application.
// MissingDocs lists required types with no file (ErrMissingDocuments).
//
// msg, when given, is the confirmation (of a swept kind; its Protocol is set by the statement, which merges the
// number it assigns into the message's data): the usual submission is then
// one statement — one round trip, one commit — that checks, numbers, receives, adds the event and writes the
// message with its number, and does nothing when any check fails; only then does the transaction below run, to
// say why (or to find the application already submitted), with then writing the messages.
func (db *DB) Submit(ctx context.Context, s Submission, now time.Time, msg *InlineMessage,
	then func(tx pgx.Tx, r Received) error) (Received, error) {
	var r Received
	answers, err := json.Marshal(s.Answers)
	if err != nil {
		return r, fmt.Errorf("storage: submit: %w", err)
	}
	if msg != nil {
		r, err = db.submitAtOnce(ctx, s, now, answers, *msg)
		if err == nil && r.Protocol != "" {
			return r, nil
		}
		if err != nil {
			return r, err
		}
	}
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		// one round trip: lock the application, read its call's window, which required documents lack a file, and
		// whether the beneficiary has an application in this call already
		var status string
		var protocol *string
		var submittedAt *time.Time
		var opens, closes time.Time
		var missing []string
		var duplicate bool
		err := tx.QueryRow(ctx, `
			SELECT a.status, a.protocol, a.submitted_at, c.opens_at, c.closes_at,
				coalesce((SELECT array_agg(t ORDER BY t) FROM unnest($3::text[]) t
					WHERE NOT EXISTS (SELECT 1 FROM attachments WHERE application_id = a.id AND doc_type = t)), '{}'),
				EXISTS (SELECT 1 FROM applications o WHERE o.call_id = a.call_id AND o.beneficiary_cf = $4
					AND o.id <> a.id AND o.status NOT IN ('draft', 'withdrawn'))
			FROM applications a JOIN calls c ON c.id = a.call_id
			WHERE a.id = $1 AND a.applicant_id = $2 FOR UPDATE OF a`, s.ID, s.ApplicantID, s.RequiredDocs, s.BeneficiaryCF).
			Scan(&status, &protocol, &submittedAt, &opens, &closes, &missing, &duplicate)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if status != "draft" {
			r = Received{Protocol: *protocol, ReceivedAt: *submittedAt, Already: true}
			return nil
		}
		if now.Before(opens) || !now.Before(closes) {
			return ErrCallClosed
		}
		if len(missing) > 0 {
			return &MissingDocumentsError{Types: missing}
		}
		if duplicate {
			return ErrDuplicate // the unique index stands behind this check, for two submissions at the same instant
		}
		r.ReceivedAt = now
		year := now.In(i18n.Rome).Year()
		// One statement receives the application — answers as validated, the columns the back office sorts and
		// scopes by, the timeline's first event — and numbers it (next_protocol: one sequence per year), after
		// every check that can refuse it; then the messages, with the number, in the same transaction.
		err = tx.QueryRow(ctx, `
			WITH p AS (SELECT next_protocol($1) AS protocol),
			e AS (INSERT INTO application_events (application_id, kind, at) VALUES ($2, 'submitted', $3))
			UPDATE applications a SET status = 'submitted', protocol = p.protocol, submitted_at = $3, updated_at = $3,
				answers = $4, beneficiary_cf = $5, on_behalf = $6, relationship = $7, comune = $8,
				sub_ambito = (SELECT sub_ambito FROM comuni WHERE code = $8), category = $9, ranking_key = $10
			FROM p WHERE a.id = $2 RETURNING a.protocol`, year, s.ID, now,
			answers, s.BeneficiaryCF, s.OnBehalf, s.Relationship, s.Comune, s.Category, s.RankingKey(now)).Scan(&r.Protocol)
		if err != nil {
			return err
		}
		return then(tx, r)
	})
	var pgErr *pgconn.PgError
	if errors.Is(err, ErrDuplicate) || errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "applications_one_per_beneficiary" {
		return r, ErrDuplicate
	}
	if err != nil {
		return r, fmt.Errorf("storage: submit application %d: %w", s.ID, err)
	}
	return r, nil
}

// InlineMessage is a message a statement inserts itself, with values the statement assigns: SQL builds the INSERT
// reading Args from $first on, merging extra (a jsonb expression over the relations from adds) into its data
// (notifications.InsertSQL and Prepared.Args).
type InlineMessage struct {
	SQL  func(first int, extra, from string) string
	Args []any
}

// submitAtOnce is Submit's one statement: the same checks as the transaction's (the row lock taken by the first
// CTE, so a concurrent submit of the same draft waits and then finds it submitted), then the numbering, the
// receipt, the event and the confirmation's rows. No row back: a check failed, nothing changed.
//
// The documents are counted, not unnested: PostgreSQL guesses ten elements for an array parameter, which made
// the generic plan look three times dearer than a custom one, so every call was planned afresh — about a quarter
// of PostgreSQL's processor time per submission. Counted, the generic plan costs what a custom one does and is kept.
func (db *DB) submitAtOnce(ctx context.Context, s Submission, now time.Time, answers []byte, msg InlineMessage) (Received, error) {
	args := []any{s.ID, s.ApplicantID, now, s.RequiredDocs, s.BeneficiaryCF, now.In(i18n.Rome).Year(), answers,
		s.OnBehalf, s.Relationship, s.Comune, s.Category, s.RankingKey(now)}
	args = append(args, msg.Args...)
	var r Received
	err := db.Pool.QueryRow(ctx, `
		WITH ok AS (
			SELECT a.id FROM applications a JOIN calls c ON c.id = a.call_id
			WHERE a.id = $1 AND a.applicant_id = $2 AND a.status = 'draft' AND c.opens_at <= $3 AND $3 < c.closes_at
				AND (SELECT count(DISTINCT doc_type) FROM attachments WHERE application_id = a.id AND doc_type = ANY ($4::text[]))
					= cardinality($4::text[])
				AND NOT EXISTS (SELECT 1 FROM applications o WHERE o.call_id = a.call_id AND o.beneficiary_cf = $5
					AND o.id <> a.id AND o.status NOT IN ('draft', 'withdrawn'))
			FOR UPDATE OF a),
		p AS (SELECT next_protocol($6) AS protocol FROM ok),
		got AS (UPDATE applications a SET status = 'submitted', protocol = p.protocol, submitted_at = $3, updated_at = $3,
				answers = $7, beneficiary_cf = $5, on_behalf = $8, relationship = $9, comune = $10,
				sub_ambito = (SELECT sub_ambito FROM comuni WHERE code = $10), category = $11, ranking_key = $12
			FROM p WHERE a.id = $1 RETURNING a.id, a.protocol),
		e AS (INSERT INTO application_events (application_id, kind, at) SELECT id, 'submitted', $3 FROM got),
		n AS (`+msg.SQL(13, "jsonb_build_object('Protocol', got.protocol)", ", got")+`)
		SELECT protocol FROM got`, args...).Scan(&r.Protocol)
	if errors.Is(err, pgx.ErrNoRows) {
		return Received{}, nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "applications_one_per_beneficiary" {
		return Received{}, ErrDuplicate
	}
	if err != nil {
		return Received{}, fmt.Errorf("storage: submit application %d: %w", s.ID, err)
	}
	r.ReceivedAt = now
	return r, nil
}

// MissingDocumentsError lists the required document types with no file attached.
type MissingDocumentsError struct{ Types []string }

func (e *MissingDocumentsError) Error() string { return fmt.Sprintf("missing documents %v", e.Types) }

// Event is one entry of an application's timeline.
type Event struct {
	Kind string            `db:"kind"`
	At   time.Time         `db:"at"`
	Data map[string]string `db:"data"`
}

// Events returns an application's timeline, oldest first. The caller has checked who may see the application.
func (db *DB) Events(ctx context.Context, applicationID int64) ([]Event, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT kind, at, data FROM application_events WHERE application_id = $1 ORDER BY at, id`, applicationID)
	evs, err := pgx.CollectRows(rows, pgx.RowToStructByName[Event])
	if err != nil {
		return nil, fmt.Errorf("storage: events of application %d: %w", applicationID, err)
	}
	return evs, nil
}

// Rating is a person's satisfaction with the service of one application.
type Rating struct {
	Score   int       `db:"score"`
	Comment string    `db:"comment"`
	At      time.Time `db:"at"`
}

// SetRating records (or replaces) the person's rating of an application they can see.
func (db *DB) SetRating(ctx context.Context, applicationID, personID int64, score int, comment string) error {
	_, err := db.Pool.Exec(ctx, `
		INSERT INTO ratings (application_id, person_id, score, comment) VALUES ($1, $2, $3, $4)
		ON CONFLICT (application_id, person_id) DO UPDATE SET score = EXCLUDED.score, comment = EXCLUDED.comment, at = now()`,
		applicationID, personID, score, comment)
	if err != nil {
		return fmt.Errorf("storage: rating of application %d: %w", applicationID, err)
	}
	return nil
}

// RatingOf returns the person's rating of an application, ErrNotFound when there is none.
func (db *DB) RatingOf(ctx context.Context, applicationID, personID int64) (Rating, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT score, comment, at FROM ratings WHERE application_id = $1 AND person_id = $2`,
		applicationID, personID)
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Rating])
	if errors.Is(err, pgx.ErrNoRows) {
		return Rating{}, ErrNotFound
	}
	if err != nil {
		return Rating{}, fmt.Errorf("storage: rating of application %d: %w", applicationID, err)
	}
	return r, nil
}

// B2Periods returns the periods in which the beneficiary received FNA Misura B2 according to the portal's own
// records: decisions "admitted and funded" carry the period paid (data from/to, dates). The caregiver bonus needs
// three months of them in the year.
func (db *DB) B2Periods(ctx context.Context, fiscalCode string) ([]forms.Period, error) {
	rows, _ := db.Pool.Query(ctx, `
		SELECT (e.data->>'from')::date, (e.data->>'to')::date -- no end: still running
		FROM application_events e JOIN applications a ON a.id = e.application_id JOIN calls c ON c.id = a.call_id
		WHERE a.beneficiary_cf = $1 AND c.measure = 'fna-b2' AND a.status IN ('admitted_funded', 'paid')
			AND e.kind = 'decision' AND e.data->>'outcome' = 'admitted_funded'
			AND e.data ? 'from'`, fiscalCode)
	periods, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (forms.Period, error) {
		var p forms.Period
		var to *time.Time
		err := row.Scan(&p.From, &to)
		if to != nil {
			p.To = *to
		}
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: B2 periods: %w", err)
	}
	return periods, nil
}
