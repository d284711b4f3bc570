package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/forms"
)

// Graduatorie: one per call and category. Running one orders the call's admitted applications of the category by
// their ranking key (forms.RankingKey: e.g. ISEE ascending, then time of receipt), walks the category's budget and
// writes each application's position and outcome (admitted_funded or admitted_not_funded) through the workflow
// trigger; approving it (the commission) freezes it.
//
// A ranking's category is the applications' category column: the value of the form's group_by field, or "" for
// a measure without categories, whose budget and amount sit under forms.KeyAll.

// Errors of the graduatoria that the back office explains.
var (
	// ErrRankingApproved: the commission approved the graduatoria; it is frozen, nobody runs or approves it again.
	ErrRankingApproved = errors.New("storage: graduatoria approved")
	// ErrRankingNotRun: there is nothing to approve before a first run.
	ErrRankingNotRun = errors.New("storage: graduatoria never run")
	// ErrRankingStale: decisions, amounts or the budget changed since the last run; run it again before approving.
	ErrRankingStale = errors.New("storage: graduatoria out of date")
)

// RankingNoAmountError: an application has no amount of its own and the call none for its category, so the budget
// cannot be walked.
type RankingNoAmountError struct{ Protocol string }

func (e *RankingNoAmountError) Error() string {
	return "storage: graduatoria: no amount for " + e.Protocol
}

// rankedStatuses are the statuses that take part in a graduatoria: admitted (waiting for it), its two outcomes,
// and paid — money already spent, which stays funded and counts against the budget whatever a re-run says.
var rankedStatuses = []string{StatusAdmitted, StatusAdmittedFunded, StatusAdmittedNotFunded, StatusPaid}

// BudgetKey is the key of a category in a call's budgets and amounts.
func BudgetKey(category string) string {
	if category == "" {
		return forms.KeyAll
	}
	return category
}

// RankingEntry is one application in a graduatoria, in ranking order.
type RankingEntry struct {
	ID            int64         `db:"id"`
	Protocol      string        `db:"protocol"`
	Status        string        `db:"status"`
	Position      *int          `db:"ranking_position"` // as the last run wrote it; nil before a run placed it
	RankingKey    string        `db:"ranking_key"`
	SubmittedAt   time.Time     `db:"submitted_at"`
	DecidedAt     *time.Time    `db:"decided_at"`
	Answers       forms.Answers `db:"answers"`
	BeneficiaryCF string        `db:"beneficiary_cf"`
	ComuneName    string        `db:"comune_name"`
	AmountCents   *int64        `db:"amount_cents"`
	AmountPeriod  *string       `db:"amount_period"`
	AmountMonths  *int          `db:"amount_months"`

	Amount  Amount `db:"-"` // the application's own amount, else the call's for the category
	HasAmt  bool   `db:"-"` // false: neither the application nor the call has one
	Funded  bool   `db:"-"` // as stored: admitted_funded or paid
	Running int64  `db:"-"` // cents of the funded applications up to this one, in ranking order
}

// BeneficiaryName is the beneficiary's name as the form recorded it.
func (e RankingEntry) BeneficiaryName() string {
	first, last := e.Answers.Get("first_name"), e.Answers.Get("last_name")
	if first == "" || last == "" {
		return first + last
	}
	return first + " " + last
}

// ISEE is the ISEE the form recorded, in cents; false when the form has none.
func (e RankingEntry) ISEE() (int64, bool) {
	n, err := strconv.ParseInt(e.Answers.Get("isee"), 10, 64)
	return n, err == nil
}

// Ranking is a graduatoria as the back office shows it: the last run's outcome, and whether a run now would
// change it.
type Ranking struct {
	Call       Call
	Category   string
	Budget     int64 // cents; 0 when the call has no budget for the category
	HasBudget  bool  // false: the call sets no budget for the category, so nobody can be funded
	RunAt      *time.Time
	RunBy      string
	ApprovedAt *time.Time
	ApprovedBy string
	Entries    []RankingEntry
	// Stale: a run now would change a position or an outcome (new decisions, another amount or budget), or an
	// application has no amount at all.
	Stale bool
}

// Approved reports whether the commission approved (froze) the graduatoria.
func (r Ranking) Approved() bool { return r.ApprovedAt != nil }

// FundedTotal is the cents the funded applications take.
func (r Ranking) FundedTotal() int64 {
	if n := len(r.Entries); n > 0 {
		return r.Entries[n-1].Running
	}
	return 0
}

// rankingLock serialises the runs and approvals of one graduatoria: two coordinators pressing "Ricalcola" at once,
// or one approving while another runs, take turns. An advisory lock rather than the rankings row, which does not
// exist before the first run.
func rankingLock(ctx context.Context, tx pgx.Tx, callID int64, category string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('rankings'), hashtext($1::bigint::text || '/' || $2))`,
		callID, category)
	return err
}

const rankingEntryColumns = `a.id, a.protocol, a.status, a.ranking_position, a.ranking_key, a.submitted_at, a.decided_at,
	a.answers, a.beneficiary_cf, coalesce(co.name, '') AS comune_name, a.amount_cents, a.amount_period, a.amount_months`

// rankingEntries reads the applications of a graduatoria in ranking order: the ranking key (which sorts as bytes,
// see forms.RankingKey), then the time of receipt and the ID, so ties are impossible. lock is "" or a locking clause.
func rankingEntries(ctx context.Context, q querier, callID int64, category, lock string) ([]RankingEntry, error) {
	rows, _ := q.Query(ctx, `SELECT `+rankingEntryColumns+` FROM applications a LEFT JOIN comuni co ON co.code = a.comune
		WHERE a.call_id = $1 AND a.category = $2 AND a.status = ANY($3)
		ORDER BY a.ranking_key COLLATE "C", a.submitted_at, a.id`+lock, callID, category, rankedStatuses)
	entries, err := pgx.CollectRows(rows, pgx.RowToStructByName[RankingEntry])
	if err != nil {
		return nil, fmt.Errorf("storage: graduatoria %d/%s: %w", callID, category, err)
	}
	return entries, nil
}

// rankingCall reads what a graduatoria needs of its call: the call, its budget for the category, its amounts.
func rankingCall(ctx context.Context, q querier, callID int64) (Call, Amounts, error) {
	rows, _ := q.Query(ctx, `SELECT `+callColumns+` FROM calls WHERE id = $1`, callID)
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Call])
	if errors.Is(err, pgx.ErrNoRows) {
		return Call{}, nil, ErrNotFound
	}
	if err != nil {
		return Call{}, nil, fmt.Errorf("storage: call %d: %w", callID, err)
	}
	return c, c.Amounts, nil
}

// setAmounts gives each entry its amount: the one the decision granted, else the call's for the category.
func setAmounts(entries []RankingEntry, category string, call Amounts) {
	def, hasDef := call.For(BudgetKey(category))
	for i := range entries {
		e := &entries[i]
		switch {
		case e.AmountCents != nil:
			e.Amount, e.HasAmt = Amount{Cents: *e.AmountCents, Period: *e.AmountPeriod, Months: *e.AmountMonths}, true
		default:
			e.Amount, e.HasAmt = def, hasDef
		}
	}
}

// outcome is what a run decides for one entry.
type outcome struct {
	position int
	status   string
}

// walk decides who the budget funds. It follows the usual rule of graduatorie: applications are funded in ranking
// order while the running total of the funded amounts fits the budget; the first one that does not fit ends the
// funding, and every application after it is not funded — even a smaller one that would still fit, since funding
// it would put it before better-placed applicants (the remainder waits for more money, when the next ones in order
// are funded by a re-run). Paid applications have had their money: they stay paid and their amounts count.
func walk(entries []RankingEntry, budget int64) ([]outcome, error) {
	out := make([]outcome, len(entries))
	var running int64
	cut := false
	for i, e := range entries {
		if !e.HasAmt {
			return nil, &RankingNoAmountError{Protocol: e.Protocol}
		}
		total := e.Amount.Total()
		out[i].position = i + 1
		switch {
		case e.Status == StatusPaid:
			out[i].status = StatusPaid
			running += total
		case !cut && running+total <= budget:
			out[i].status = StatusAdmittedFunded
			running += total
		default:
			cut = true
			out[i].status = StatusAdmittedNotFunded
		}
	}
	return out, nil
}

// changed reports whether the outcome differs from what is stored for e.
func (o outcome) changed(e RankingEntry) bool {
	return e.Position == nil || *e.Position != o.position || e.Status != o.status
}

// budgetOf is the call's budget for a category; a category without one has 0: nobody is funded until staff set it
// (treating it as unlimited would fund everyone of a budgeted measure).
func budgetOf(c Call, category string) (int64, bool) {
	b, ok := c.Budgets[BudgetKey(category)]
	return b, ok
}

// Ranking returns a graduatoria as stored, with the running totals of what the last run funded and whether a run
// now would change it.
func (db *DB) Ranking(ctx context.Context, callID int64, category string) (Ranking, error) {
	call, amounts, err := rankingCall(ctx, db.Pool, callID)
	if err != nil {
		return Ranking{}, err
	}
	r := Ranking{Call: call, Category: category}
	r.Budget, r.HasBudget = budgetOf(call, category)
	err = db.Pool.QueryRow(ctx, `SELECT r.run_at, ru.full_name, r.approved_at, coalesce(ap.full_name, '')
		FROM rankings r JOIN staff_users ru ON ru.id = r.run_by LEFT JOIN staff_users ap ON ap.id = r.approved_by
		WHERE r.call_id = $1 AND r.category = $2`, callID, category).Scan(&r.RunAt, &r.RunBy, &r.ApprovedAt, &r.ApprovedBy)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Ranking{}, fmt.Errorf("storage: graduatoria %d/%s: %w", callID, category, err)
	}
	if r.Entries, err = rankingEntries(ctx, db.Pool, callID, category, ""); err != nil {
		return Ranking{}, err
	}
	setAmounts(r.Entries, category, amounts)
	var running int64
	for i := range r.Entries {
		e := &r.Entries[i]
		e.Funded = e.Status == StatusAdmittedFunded || e.Status == StatusPaid
		if e.Funded {
			running += e.Amount.Total()
		}
		e.Running = running
	}
	r.Stale = stale(r.Entries, r.Budget)
	return r, nil
}

// ApprovedRankings returns when each approved graduatoria of a call was approved, keyed by category: the ones
// the public may read.
func (db *DB) ApprovedRankings(ctx context.Context, callID int64) (map[string]time.Time, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT category, approved_at FROM rankings
		WHERE call_id = $1 AND approved_at IS NOT NULL`, callID)
	out := map[string]time.Time{}
	var category string
	var at time.Time
	_, err := pgx.ForEachRow(rows, []any{&category, &at}, func() error {
		out[category] = at
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: approved graduatorie of call %d: %w", callID, err)
	}
	return out, nil
}

// stale reports whether a run now would change anything stored.
func stale(entries []RankingEntry, budget int64) bool {
	outs, err := walk(entries, budget)
	if err != nil {
		return true
	}
	for i, o := range outs {
		if o.changed(entries[i]) {
			return true
		}
	}
	return false
}

// RankingRun asks for a run of one graduatoria.
type RankingRun struct {
	CallID   int64
	Category string
	Actor    Actor
	Now      time.Time
	// Notify writes the messages for the applications whose status the run changed (after the change), in the
	// run's transaction; key is the run's own, for the messages' unique keys.
	Notify func(ctx context.Context, tx pgx.Tx, changed []Case, key string) error
}

// RankingResult counts what a run decided.
type RankingResult struct {
	Funded, NotFunded, Changed int
}

// RunRanking runs a graduatoria in one transaction: it orders the applications, walks the budget, writes every
// position and outcome that differs from the stored one (each status change through the workflow trigger, with a
// "decision" event on the timeline), records the run in the audit log and in rankings, and writes the messages for the applications whose status changed. An approved
// graduatoria is ErrRankingApproved; a call that does not exist ErrNotFound.
func (db *DB) RunRanking(ctx context.Context, run RankingRun) (RankingResult, error) {
	var res RankingResult
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := rankingLock(ctx, tx, run.CallID, run.Category); err != nil {
			return err
		}
		call, amounts, err := rankingCall(ctx, tx, run.CallID)
		if err != nil {
			return err
		}
		var approved *time.Time
		err = tx.QueryRow(ctx, `SELECT approved_at FROM rankings WHERE call_id = $1 AND category = $2 FOR UPDATE`,
			run.CallID, run.Category).Scan(&approved)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if approved != nil {
			return ErrRankingApproved
		}
		// Locking the applications keeps a decision taken meanwhile (storage.Move locks them too) out of this run
		// or wholly in it.
		entries, err := rankingEntries(ctx, tx, run.CallID, run.Category, " FOR UPDATE OF a")
		if err != nil {
			return err
		}
		setAmounts(entries, run.Category, amounts)
		budget, _ := budgetOf(call, run.Category)
		outs, err := walk(entries, budget)
		if err != nil {
			return err
		}
		var ids, statusIDs []int64
		var positions []int32
		var statuses []string
		for i, o := range outs {
			switch o.status {
			case StatusAdmittedFunded, StatusPaid:
				res.Funded++
			default:
				res.NotFunded++
			}
			if !o.changed(entries[i]) {
				continue
			}
			ids, positions, statuses = append(ids, entries[i].ID), append(positions, int32(o.position)), append(statuses, o.status)
			if o.status != entries[i].Status {
				statusIDs = append(statusIDs, entries[i].ID)
			}
		}
		res.Changed = len(statusIDs)
		if len(ids) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE applications a SET ranking_position = v.position, status = v.status,
					updated_at = CASE WHEN a.status <> v.status THEN $4 ELSE a.updated_at END
				FROM unnest($1::bigint[], $2::int[], $3::text[]) AS v (id, position, status) WHERE a.id = v.id`,
				ids, positions, statuses, run.Now); err != nil {
				return err
			}
		}
		if len(statusIDs) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO application_events (application_id, kind, data)
				SELECT id, 'decision', jsonb_build_object('outcome', status) FROM applications WHERE id = ANY($1) ORDER BY id`,
				statusIDs); err != nil {
				return err
			}
		}
		if err := Audit(ctx, tx, run.Actor, AuditEntry{Action: "ranking.run", Detail: map[string]string{
			"call": strconv.FormatInt(run.CallID, 10), "category": BudgetKey(run.Category),
			"funded": strconv.Itoa(res.Funded), "not_funded": strconv.Itoa(res.NotFunded), "changed": strconv.Itoa(res.Changed),
		}}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO rankings (call_id, category, run_at, run_by) VALUES ($1, $2, $3, $4)
			ON CONFLICT (call_id, category) DO UPDATE SET run_at = excluded.run_at, run_by = excluded.run_by`,
			run.CallID, run.Category, run.Now, run.Actor.StaffID); err != nil {
			return err
		}
		if len(statusIDs) == 0 || run.Notify == nil {
			return nil
		}
		rows, _ := tx.Query(ctx, `SELECT `+caseColumns+caseFrom+`WHERE a.id = ANY($1) ORDER BY a.id`, statusIDs)
		changed, err := pgx.CollectRows(rows, pgx.RowToStructByName[Case])
		if err != nil {
			return err
		}
		return run.Notify(ctx, tx, changed, "ranking:"+strconv.FormatInt(run.Now.UnixNano(), 10))
	})
	if err != nil {
		var noAmount *RankingNoAmountError
		if errors.Is(err, ErrRankingApproved) || errors.Is(err, ErrNotFound) || errors.As(err, &noAmount) {
			return RankingResult{}, err
		}
		return RankingResult{}, fmt.Errorf("storage: run graduatoria %d/%s: %w", run.CallID, run.Category, transitionError(err))
	}
	return res, nil
}

// ApproveRanking records the commission's approval: the graduatoria is frozen from now on (runs are refused here,
// moves between funded and not funded by the workflow trigger). It must have been run, not approved already, and
// still be what a run would give now (ErrRankingNotRun, ErrRankingApproved, ErrRankingStale).
func (db *DB) ApproveRanking(ctx context.Context, callID int64, category string, who Actor, now time.Time) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := rankingLock(ctx, tx, callID, category); err != nil {
			return err
		}
		call, amounts, err := rankingCall(ctx, tx, callID)
		if err != nil {
			return err
		}
		var approved *time.Time
		err = tx.QueryRow(ctx, `SELECT approved_at FROM rankings WHERE call_id = $1 AND category = $2 FOR UPDATE`,
			callID, category).Scan(&approved)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return ErrRankingNotRun
		case err != nil:
			return err
		case approved != nil:
			return ErrRankingApproved
		}
		entries, err := rankingEntries(ctx, tx, callID, category, " FOR SHARE OF a")
		if err != nil {
			return err
		}
		setAmounts(entries, category, amounts)
		budget, _ := budgetOf(call, category)
		if stale(entries, budget) {
			return ErrRankingStale
		}
		if _, err := tx.Exec(ctx, `UPDATE rankings SET approved_at = $3, approved_by = $4 WHERE call_id = $1 AND category = $2`,
			callID, category, now, who.StaffID); err != nil {
			return err
		}
		return Audit(ctx, tx, who, AuditEntry{Action: "ranking.approve", Detail: map[string]string{
			"call": strconv.FormatInt(callID, 10), "category": BudgetKey(category), "entries": strconv.Itoa(len(entries))}})
	})
	if err != nil && !errors.Is(err, ErrRankingApproved) && !errors.Is(err, ErrRankingNotRun) &&
		!errors.Is(err, ErrRankingStale) && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("storage: approve graduatoria %d/%s: %w", callID, category, err)
	}
	return err
}

// RankingSummary is one graduatoria in the back office's list.
type RankingSummary struct {
	CallID     int64      `db:"call_id"`
	Category   string     `db:"category"`
	Count      int        `db:"count"`    // applications in it
	Unranked   int        `db:"unranked"` // admitted, not yet placed by a run
	RunAt      *time.Time `db:"run_at"`
	ApprovedAt *time.Time `db:"approved_at"`
}

// RankingSummaries returns, for every call and category with applications in a graduatoria or a run, the counts
// and the state, keyed by call ID and then category.
func (db *DB) RankingSummaries(ctx context.Context) (map[int64]map[string]RankingSummary, error) {
	rows, _ := db.Pool.Query(ctx, `
		SELECT coalesce(a.call_id, r.call_id) AS call_id, coalesce(a.category, r.category) AS category,
			coalesce(a.count, 0)::int AS count, coalesce(a.unranked, 0)::int AS unranked, r.run_at, r.approved_at
		FROM (SELECT call_id, category, count(*) AS count, count(*) FILTER (WHERE status = 'admitted') AS unranked
			FROM applications WHERE status = ANY($1) GROUP BY call_id, category) a
		FULL JOIN rankings r ON r.call_id = a.call_id AND r.category = a.category`, rankedStatuses)
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[RankingSummary])
	if err != nil {
		return nil, fmt.Errorf("storage: graduatorie: %w", err)
	}
	out := map[int64]map[string]RankingSummary{}
	for _, s := range list {
		if out[s.CallID] == nil {
			out[s.CallID] = map[string]RankingSummary{}
		}
		out[s.CallID][s.Category] = s
	}
	return out, nil
}
