package storage

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/i18n"
)

// QueueFilter selects and orders the back office's queue. Zero values mean "any".
type QueueFilter struct {
	CallID    int64
	Measure   string
	Category  string
	Status    string
	Comune    string
	SubAmbito string
	Assignee  int64 // an account; with Unassigned false
	// Unassigned: nobody has it yet
	Unassigned bool
	From, To   time.Time // submitted on or after From, before To
	Overdue    bool      // past its deadline without a decision
	Replied    bool      // the resident answered or wrote since the worker last opened it
	Sort       string    // "oldest" (default), "newest", "due"
	After      string    // cursor of the last row of the previous page
	Limit      int
}

// QueueRow is one application in the queue.
type QueueRow struct {
	ID               int64      `db:"id"`
	Protocol         string     `db:"protocol"`
	Status           string     `db:"status"`
	Measure          string     `db:"measure"`
	Year             int        `db:"year"`
	Category         string     `db:"category"`
	ComuneName       string     `db:"comune_name"`
	SubAmbitoName    string     `db:"sub_ambito_name"`
	ApplicantName    string     `db:"applicant_name"`
	SubmittedAt      time.Time  `db:"submitted_at"`
	AssigneeID       *int64     `db:"assignee_id"`
	AssigneeName     string     `db:"assignee_name"`
	DueOn            *time.Time `db:"due_on"`
	CitizenRepliedAt *time.Time `db:"citizen_replied_at"`
	Overdue          bool       `db:"overdue"`
}

// QueuePage is one page of the queue, with the counts per status of everything the filter selects, status aside.
type QueuePage struct {
	Rows   []QueueRow
	Next   string // cursor of the next page, "" on the last
	Counts map[string]int
	Total  int
}

// ErrBadCursor: the pagination cursor was not one the portal made.
var ErrBadCursor = errors.New("storage: bad cursor")

// open statuses: the legal deadline runs (waiting_citizen suspends it, see AnswerRequest)
const overdueSQL = `(a.due_on IS NOT NULL AND a.due_on < $1::date AND a.status IN ('in_review', 'waiting_citizen'))`

// Queue returns a page of submitted applications within scope, with keyset pagination: the cursor holds the
// sort key and ID of the last row, so pages stay right while applications arrive.
func (db *DB) Queue(ctx context.Context, scope Scope, f QueueFilter, today time.Time) (QueuePage, error) {
	args := []any{today.In(i18n.Rome).Format(time.DateOnly), scope.Arg()}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"a.status <> 'draft'", ScopeSQL(2), "$1::date IS NOT NULL"} // $1 typed in every query
	if f.CallID != 0 {
		where = append(where, "a.call_id = "+arg(f.CallID))
	}
	if f.Measure != "" {
		where = append(where, "c.measure = "+arg(f.Measure))
	}
	if f.Category != "" {
		where = append(where, "a.category = "+arg(f.Category))
	}
	if f.Comune != "" {
		where = append(where, "a.comune = "+arg(f.Comune))
	}
	if f.SubAmbito != "" {
		where = append(where, "a.sub_ambito = "+arg(f.SubAmbito))
	}
	if f.Unassigned {
		where = append(where, "a.assignee_id IS NULL")
	} else if f.Assignee != 0 {
		where = append(where, "a.assignee_id = "+arg(f.Assignee))
	}
	if !f.From.IsZero() {
		where = append(where, "a.submitted_at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "a.submitted_at < "+arg(f.To))
	}
	if f.Overdue {
		where = append(where, overdueSQL)
	}
	if f.Replied {
		where = append(where, "a.citizen_replied_at IS NOT NULL")
	}
	counted := strings.Join(where, " AND ")
	countArgs := append([]any{}, args...)
	if f.Status != "" {
		where = append(where, "a.status = "+arg(f.Status))
	}
	// the sort key as text that orders like the key: timestamps as microseconds, dates as days (no deadline last)
	var key, dir string
	switch f.Sort {
	case "newest":
		key, dir = "(extract(epoch FROM a.submitted_at) * 1000000)::bigint", "DESC"
	case "due":
		key, dir = "coalesce(a.due_on - DATE '2000-01-01', 2147483647)::bigint", "ASC"
	default:
		key, dir = "(extract(epoch FROM a.submitted_at) * 1000000)::bigint", "ASC"
	}
	if f.After != "" {
		k, id, err := decodeCursor(f.After)
		if err != nil {
			return QueuePage{}, err
		}
		op := ">"
		if dir == "DESC" {
			op = "<"
		}
		where = append(where, fmt.Sprintf("(%s, a.id) %s (%s, %s)", key, op, arg(k), arg(id)))
	}
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	b := &pgx.Batch{}
	var page QueuePage
	var keys []int64
	b.Queue(`SELECT a.id, a.protocol, a.status, c.measure, c.year, a.category, coalesce(co.name, '') AS comune_name,
			coalesce(sa.name, '') AS sub_ambito_name, trim(p.given_name || ' ' || p.family_name) AS applicant_name,
			a.submitted_at, a.assignee_id, coalesce(su.full_name, '') AS assignee_name, a.due_on, a.citizen_replied_at,
			`+overdueSQL+` AS overdue, `+key+` AS sort_key`+caseFrom+`WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+key+` `+dir+`, a.id `+dir+` LIMIT `+strconv.Itoa(limit+1), args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var r QueueRow
			var k int64
			if err := rows.Scan(&r.ID, &r.Protocol, &r.Status, &r.Measure, &r.Year, &r.Category, &r.ComuneName,
				&r.SubAmbitoName, &r.ApplicantName, &r.SubmittedAt, &r.AssigneeID, &r.AssigneeName, &r.DueOn,
				&r.CitizenRepliedAt, &r.Overdue, &k); err != nil {
				return err
			}
			page.Rows, keys = append(page.Rows, r), append(keys, k)
		}
		return rows.Err()
	})
	page.Counts = map[string]int{}
	b.Queue(`SELECT a.status, count(*)`+caseFrom+`WHERE `+counted+` GROUP BY a.status`, countArgs...).Query(func(rows pgx.Rows) error {
		var st string
		var n int
		_, err := pgx.ForEachRow(rows, []any{&st, &n}, func() error {
			page.Counts[st] = n
			if f.Status == "" || f.Status == st {
				page.Total += n
			}
			return nil
		})
		return err
	})
	if err := db.Pool.SendBatch(ctx, b).Close(); err != nil {
		return QueuePage{}, fmt.Errorf("storage: queue: %w", err)
	}
	if len(page.Rows) > limit {
		page.Rows, keys = page.Rows[:limit], keys[:limit]
		page.Next = encodeCursor(keys[limit-1], page.Rows[limit-1].ID)
	}
	return page, nil
}

func encodeCursor(key, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(key, 10) + "." + strconv.FormatInt(id, 10)))
}

func decodeCursor(s string) (int64, int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, 0, ErrBadCursor
	}
	k, i, ok := strings.Cut(string(raw), ".")
	key, err1 := strconv.ParseInt(k, 10, 64)
	id, err2 := strconv.ParseInt(i, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, ErrBadCursor
	}
	return key, id, nil
}

// TakeInCharge is the workflow step submitted → in review for the account staffID: it becomes the assignee, and
// the legal deadline starts from today (Europe/Rome) for the call's number of days.
func TakeInCharge(staffID int64, today time.Time) func(ctx context.Context, tx pgx.Tx, c *Case) error {
	return func(ctx context.Context, tx pgx.Tx, c *Case) error {
		if c.AssigneeID != nil && *c.AssigneeID != staffID {
			return ErrAssignedToOther
		}
		day := today.In(i18n.Rome)
		due := time.Date(day.Year(), day.Month(), day.Day()+c.DeadlineDays, 0, 0, 0, 0, time.UTC)
		_, err := tx.Exec(ctx, `UPDATE applications SET assignee_id = $2, taken_at = now(), due_on = $3 WHERE id = $1`,
			c.ID, staffID, due)
		c.DueOn = &due
		return err
	}
}

// ErrAssignedToOther: the application was assigned to someone else meanwhile.
var ErrAssignedToOther = errors.New("storage: application assigned to someone else")

// TakeNext claims the oldest unassigned application in scope for staffID and takes it in charge (t describes the
// step; its ApplicationID is filled in). Concurrent claimers never get the same one: the head of the queue is
// read with FOR UPDATE SKIP LOCKED, so each skips what another is claiming. ErrNotFound when nothing is waiting.
func (db *DB) TakeNext(ctx context.Context, scope Scope, t Transition) (Case, error) {
	var out Case
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT a.id FROM applications a
			WHERE a.status = 'submitted' AND a.assignee_id IS NULL AND `+ScopeSQL(1)+`
			ORDER BY a.submitted_at, a.id LIMIT 1 FOR UPDATE SKIP LOCKED`, scope.Arg()).Scan(&t.ApplicationID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		t.Scope = scope
		out, err = move(ctx, tx, t)
		return err
	})
	if err != nil {
		return Case{}, transitionError(err)
	}
	return out, nil
}

// Assign gives an application not yet decided to an account whose scope covers it (a coordinator's manual
// assignment), audited. ErrNotFound when the application is out of the coordinator's scope; ErrBadAssignee when
// the account cannot work it.
func (db *DB) Assign(ctx context.Context, scope Scope, who Actor, id, staffID int64) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		c, err := caseByID(ctx, tx, id, scope, " FOR UPDATE OF a")
		if err != nil {
			return err
		}
		if Decided(c.Status) || c.Status == StatusWithdrawn {
			return &IllegalTransitionError{From: c.Status, To: c.Status}
		}
		tag, err := tx.Exec(ctx, `UPDATE applications a SET assignee_id = u.id, updated_at = now()
			FROM staff_users u WHERE a.id = $1 AND u.id = $2 AND u.disabled_at IS NULL
			AND (u.role <> 'operatore' OR EXISTS (SELECT 1 FROM staff_scopes x WHERE x.staff_id = u.id AND x.sub_ambito = a.sub_ambito))`,
			id, staffID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrBadAssignee
		}
		return Audit(ctx, tx, who, AuditEntry{Action: "application.assign", ApplicationID: id,
			Detail: map[string]string{"assignee": strconv.FormatInt(staffID, 10)}})
	})
}

// ErrBadAssignee: the account chosen cannot work the application (disabled, or outside its sub-ambiti).
var ErrBadAssignee = errors.New("storage: account cannot work this application")

// Assignable lists the enabled accounts that may work applications of a sub-ambito, by name.
func (db *DB) Assignable(ctx context.Context, subAmbito string) ([]StaffUser, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+staffColumns+` FROM staff_users u WHERE u.disabled_at IS NULL
		AND (u.role <> 'operatore' OR EXISTS (SELECT 1 FROM staff_scopes x WHERE x.staff_id = u.id AND x.sub_ambito = $1))
		ORDER BY u.full_name, u.id`, subAmbito)
	users, err := pgx.CollectRows(rows, pgx.RowToStructByName[StaffUser])
	if err != nil {
		return nil, fmt.Errorf("storage: assignable staff: %w", err)
	}
	return users, nil
}

// CaseSeen clears the "the resident answered" flag once the assignee has opened the application.
func (db *DB) CaseSeen(ctx context.Context, id, staffID int64) error {
	_, err := db.Pool.Exec(ctx, `UPDATE applications SET citizen_replied_at = NULL
		WHERE id = $1 AND assignee_id = $2 AND citizen_replied_at IS NOT NULL`, id, staffID)
	if err != nil {
		return fmt.Errorf("storage: case seen: %w", err)
	}
	return nil
}

// RepliesWaiting counts the applications assigned to staffID whose resident answered since they last looked.
func (db *DB) RepliesWaiting(ctx context.Context, staffID int64) (int, error) {
	var n int
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM applications WHERE assignee_id = $1 AND citizen_replied_at IS NOT NULL`,
		staffID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("storage: replies waiting: %w", err)
	}
	return n, nil
}
