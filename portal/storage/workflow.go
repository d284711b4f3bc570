package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Application statuses after submission.
const (
	StatusSubmitted         = "submitted"
	StatusInReview          = "in_review"
	StatusWaitingCitizen    = "waiting_citizen"
	StatusAdmitted          = "admitted"
	StatusAdmittedFunded    = "admitted_funded"
	StatusAdmittedNotFunded = "admitted_not_funded"
	StatusNotAdmitted       = "not_admitted"
	StatusPaid              = "paid"
	StatusWithdrawn         = "withdrawn"
)

// Statuses lists the statuses an application has once submitted, in workflow order.
var Statuses = []string{StatusSubmitted, StatusInReview, StatusWaitingCitizen, StatusAdmitted, StatusAdmittedFunded,
	StatusAdmittedNotFunded, StatusNotAdmitted, StatusPaid, StatusWithdrawn}

// Transitions is the workflow: the statuses each status may move to. The database holds the same pairs
// (application_transitions, checked by a trigger on every status change; a test keeps the two equal), so a
// change that skips this code is refused too.
var Transitions = map[string][]string{
	"draft":                 {StatusSubmitted},
	StatusSubmitted:         {StatusInReview, StatusWithdrawn},
	StatusInReview:          {StatusWaitingCitizen, StatusAdmitted, StatusNotAdmitted, StatusWithdrawn},
	StatusWaitingCitizen:    {StatusInReview, StatusWithdrawn},
	StatusAdmitted:          {StatusAdmittedFunded, StatusAdmittedNotFunded, StatusInReview},
	StatusAdmittedFunded:    {StatusAdmittedNotFunded, StatusPaid},
	StatusAdmittedNotFunded: {StatusAdmittedFunded},
}

// CanMove reports whether the workflow allows from → to.
func CanMove(from, to string) bool { return slices.Contains(Transitions[from], to) }

// Decided reports whether a status is a decision (the resident can no longer withdraw).
func Decided(status string) bool {
	switch status {
	case StatusAdmitted, StatusAdmittedFunded, StatusAdmittedNotFunded, StatusNotAdmitted, StatusPaid:
		return true
	}
	return false
}

// IllegalTransitionError is a status change the workflow does not allow (or a frozen graduatoria forbids).
type IllegalTransitionError struct {
	From, To string
	Frozen   bool
}

func (e *IllegalTransitionError) Error() string {
	if e.Frozen {
		return fmt.Sprintf("storage: graduatoria approved: %s → %s refused", e.From, e.To)
	}
	return fmt.Sprintf("storage: illegal transition %s → %s", e.From, e.To)
}

// Scope is what a staff member (or an API token) may see: every application, or those of some sub-ambiti.
// Queries take it as one argument, nil for all: `($n::text[] IS NULL OR a.sub_ambito = ANY($n))`.
type Scope struct {
	All       bool
	SubAmbiti []string
}

// ScopeOf is an account's scope: an operatore works in their sub-ambiti, coordinators and admins everywhere.
func ScopeOf(u StaffUser) Scope {
	if u.Role != RoleOperatore {
		return Scope{All: true}
	}
	return Scope{SubAmbiti: append([]string{}, u.Scopes...)}
}

// Arg is the scope as a query argument: nil (SQL NULL) for all, else the sub-ambiti (possibly none).
func (s Scope) Arg() []string {
	if s.All {
		return nil
	}
	if s.SubAmbiti == nil {
		return []string{}
	}
	return s.SubAmbiti
}

// ScopeSQL is the scope condition on applications aliased a, for the scope passed as argument n.
func ScopeSQL(n int) string {
	return fmt.Sprintf("($%d::text[] IS NULL OR a.sub_ambito = ANY($%d::text[]))", n, n)
}

// Actor is who does something in the back office: a staff account or an API token, and from where.
type Actor struct {
	StaffID int64
	TokenID int64
	IP      string
}

// AuditEntry is one line of the audit log: an action on an application or one of its documents.
type AuditEntry struct {
	Action        string // e.g. application.read, document.read, application.take
	ApplicationID int64
	AttachmentID  int64
	Detail        map[string]string
}

// Execer runs a statement: the pool or a transaction.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Audit appends a line to the audit log, in q (the transaction of the change it records, or the pool for reads).
func Audit(ctx context.Context, q Execer, who Actor, e AuditEntry) error {
	detail := e.Detail
	if detail == nil {
		detail = map[string]string{}
	}
	d, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	var ip *string
	if net.ParseIP(who.IP) != nil {
		ip = &who.IP
	}
	_, err = q.Exec(ctx, `INSERT INTO audit_log (staff_id, token_id, action, application_id, attachment_id, detail, ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, nullID(who.StaffID), nullID(who.TokenID), e.Action,
		nullID(e.ApplicationID), nullID(e.AttachmentID), d, ip)
	if err != nil {
		return fmt.Errorf("storage: audit %s: %w", e.Action, err)
	}
	return nil
}

// Audit records a read (or any action outside a transaction) in the audit log.
func (db *DB) Audit(ctx context.Context, who Actor, e AuditEntry) error {
	return Audit(ctx, db.Pool, who, e)
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// Case is a submitted application as the back office works it.
type Case struct {
	Application
	Comune           *string    `db:"comune"`
	ComuneName       string     `db:"comune_name"`
	SubAmbito        *string    `db:"sub_ambito"`
	SubAmbitoName    string     `db:"sub_ambito_name"`
	RankingKey       string     `db:"ranking_key"`
	AssigneeID       *int64     `db:"assignee_id"`
	AssigneeName     string     `db:"assignee_name"`
	TakenAt          *time.Time `db:"taken_at"`
	DueOn            *time.Time `db:"due_on"`
	DecidedAt        *time.Time `db:"decided_at"`
	DecisionReason   string     `db:"decision_reason"`
	AmountCents      *int64     `db:"amount_cents"`
	AmountPeriod     *string    `db:"amount_period"`
	AmountMonths     *int       `db:"amount_months"`
	RankingPosition  *int       `db:"ranking_position"`
	CitizenRepliedAt *time.Time `db:"citizen_replied_at"`
	DeadlineDays     int        `db:"deadline_days"`
	CallAmounts      Amounts    `db:"call_amounts"`
	ApplicantEmail   *string    `db:"applicant_email"`
	ApplicantPhone   string     `db:"applicant_phone"`
	ApplicantLang    string     `db:"applicant_lang"`
	ApplicantByEmail bool       `db:"applicant_notify_email"`
	ApplicantBySMS   bool       `db:"applicant_notify_sms"`
}

// Overdue reports whether the legal deadline has passed without a decision.
func (c Case) Overdue(today time.Time) bool {
	return c.DueOn != nil && c.DecidedAt == nil && !Decided(c.Status) && c.Status != StatusWithdrawn &&
		today.After(*c.DueOn)
}

// Granted is the amount the decision grants, nil before a decision that grants one.
func (c Case) Granted() *Amount {
	if c.AmountCents == nil || c.AmountPeriod == nil || c.AmountMonths == nil {
		return nil
	}
	return &Amount{Cents: *c.AmountCents, Period: *c.AmountPeriod, Months: *c.AmountMonths}
}

// Amount is what a call grants per category: cents per period ("month" or "once") for a number of months.
type Amount struct {
	Cents  int64  `json:"cents"`
	Period string `json:"period"`
	Months int    `json:"months"`
}

// Total is the whole amount granted.
func (a Amount) Total() int64 {
	if a.Period == "once" || a.Months < 1 {
		return a.Cents
	}
	return a.Cents * int64(a.Months)
}

// Amounts maps a category (or "all") to its amount.
type Amounts map[string]Amount

// For is the amount of a category, else of "all".
func (m Amounts) For(category string) (Amount, bool) {
	if a, ok := m[category]; ok {
		return a, true
	}
	a, ok := m["all"]
	return a, ok
}

const caseColumns = applicationColumns + `, a.comune, coalesce(co.name, '') AS comune_name, a.sub_ambito,
	coalesce(sa.name, '') AS sub_ambito_name, a.ranking_key, a.assignee_id, coalesce(su.full_name, '') AS assignee_name,
	a.taken_at, a.due_on, a.decided_at, a.decision_reason, a.amount_cents, a.amount_period, a.amount_months,
	a.ranking_position, a.citizen_replied_at, c.deadline_days, c.amounts AS call_amounts,
	p.email AS applicant_email, p.phone AS applicant_phone, p.lang AS applicant_lang,
	p.notify_email AS applicant_notify_email, p.notify_sms AS applicant_notify_sms`

const caseFrom = applicationFrom + ` LEFT JOIN comuni co ON co.code = a.comune
	LEFT JOIN sub_ambiti sa ON sa.code = a.sub_ambito LEFT JOIN staff_users su ON su.id = a.assignee_id `

// CaseByID returns a submitted application within scope; a draft or one outside scope is ErrNotFound.
func (db *DB) CaseByID(ctx context.Context, id int64, scope Scope) (Case, error) {
	return caseByID(ctx, db.Pool, id, scope, "")
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func caseByID(ctx context.Context, q querier, id int64, scope Scope, lock string) (Case, error) {
	rows, _ := q.Query(ctx, `SELECT `+caseColumns+caseFrom+`WHERE a.id = $1 AND a.status <> 'draft' AND `+ScopeSQL(2)+lock,
		id, scope.Arg())
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Case])
	if errors.Is(err, pgx.ErrNoRows) {
		return Case{}, ErrNotFound
	}
	if err != nil {
		return Case{}, fmt.Errorf("storage: case %d: %w", id, err)
	}
	return c, nil
}

// Transition is one step of the workflow on one application.
type Transition struct {
	ApplicationID int64
	// who may: staff within Scope, or the resident who applied (ApplicantID, for withdrawing and answering)
	Scope       Scope
	ApplicantID int64
	Actor       Actor // staff or token (audited); zero for the resident
	To          string
	Event       string            // the timeline's event kind
	EventData   map[string]string // shown on the timeline (no free text: a deadline, an outcome)
	// Apply writes what the step changes besides the status (assignee, deadline, decision, a request row), after
	// the application is locked and the step checked; c is the application before the step.
	Apply func(ctx context.Context, tx pgx.Tx, c *Case) error
	// Then writes the messages of the step (the outbox), with the application after it.
	Then func(ctx context.Context, tx pgx.Tx, c Case) error
}

// Move makes one workflow step in one transaction: it locks the application (in scope, or the resident's own),
// checks the step against the workflow, applies it, changes the status, adds the timeline event and the audit
// line, and writes the messages. A step the workflow forbids is an *IllegalTransitionError, whoever asks.
func (db *DB) Move(ctx context.Context, t Transition) (Case, error) {
	var out Case
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var err error
		out, err = move(ctx, tx, t)
		return err
	})
	if err != nil {
		return Case{}, transitionError(err)
	}
	return out, nil
}

func move(ctx context.Context, tx pgx.Tx, t Transition) (Case, error) {
	c, err := caseByID(ctx, tx, t.ApplicationID, t.Scope, " FOR UPDATE OF a")
	if err != nil {
		return Case{}, err
	}
	if t.ApplicantID != 0 && c.ApplicantID != t.ApplicantID {
		return Case{}, ErrNotFound
	}
	if !CanMove(c.Status, t.To) {
		return Case{}, &IllegalTransitionError{From: c.Status, To: t.To}
	}
	if t.Apply != nil {
		if err := t.Apply(ctx, tx, &c); err != nil {
			return Case{}, err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE applications SET status = $2, updated_at = now() WHERE id = $1`, c.ID, t.To); err != nil {
		return Case{}, err
	}
	data := map[string]string{}
	for k, v := range t.EventData {
		data[k] = v
	}
	if t.Event != "" {
		d, _ := json.Marshal(data)
		if _, err := tx.Exec(ctx, `INSERT INTO application_events (application_id, kind, data) VALUES ($1, $2, $3)`,
			c.ID, t.Event, d); err != nil {
			return Case{}, err
		}
	}
	if t.Actor.StaffID != 0 || t.Actor.TokenID != 0 {
		data["from"], data["to"] = c.Status, t.To
		if err := Audit(ctx, tx, t.Actor, AuditEntry{Action: "application.status", ApplicationID: c.ID, Detail: data}); err != nil {
			return Case{}, err
		}
	}
	out, err := caseByID(ctx, tx, c.ID, Scope{All: true}, "")
	if err != nil {
		return Case{}, err
	}
	if t.Then != nil {
		if err := t.Then(ctx, tx, out); err != nil {
			return Case{}, err
		}
	}
	return out, nil
}

// transitionError turns the workflow trigger's refusals into *IllegalTransitionError.
func transitionError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "CS001" || pgErr.Code == "CS002") {
		return &IllegalTransitionError{Frozen: pgErr.Code == "CS002"}
	}
	var ite *IllegalTransitionError
	if errors.Is(err, ErrNotFound) || errors.As(err, &ite) {
		return err
	}
	return fmt.Errorf("storage: workflow: %w", err)
}
