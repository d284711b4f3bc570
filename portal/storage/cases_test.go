package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// insertCases writes n submitted applications in the Crema sub-ambito, a second apart, oldest first.
func insertCases(t *testing.T, db *storage.DB, n int) {
	t.Helper()
	_, err := db.Pool.Exec(context.Background(), `
		WITH p AS (INSERT INTO people (fiscal_code) SELECT 'TSTCAS' || lpad(i::text, 10, '0') FROM generate_series(1, $1) i RETURNING id, fiscal_code)
		INSERT INTO applications (call_id, applicant_id, create_key, form_version, status, protocol, submitted_at,
			beneficiary_cf, comune, sub_ambito, category)
		SELECT (SELECT id FROM calls WHERE measure = 'fna-b2'), p.id, substr(translate(upper(md5(p.fiscal_code)), '0189', 'QRST'), 1, 26),
			'fna-b2/2026-v1', 'submitted', 'CSC-2026-' || lpad(right(p.fiscal_code, 6), 6, '0'),
			timestamptz '2026-11-20 09:00:00+01' + (right(p.fiscal_code, 6)::int * interval '1 second'), p.fiscal_code, 'crema', 'crema', 'anziani'
		FROM p`, n)
	if err != nil {
		t.Fatal(err)
	}
}

// 20 staff members press "take next" at once until the queue is empty: each of 200 applications is claimed
// exactly once, each by whoever claimed it, in review, with its deadline.
func TestTakeNextNeverGivesOneApplicationTwice(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	insertCases(t, db, 200)
	var staff []int64
	for i := range 20 {
		var id int64
		if err := db.Pool.QueryRow(ctx, `INSERT INTO staff_users (username, full_name, role, password_hash)
			VALUES ($1, 'Operatore', 'operatore', '$argon2id$x') RETURNING id`, fmt.Sprintf("claimer%02d", i)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Pool.Exec(ctx, `INSERT INTO staff_scopes VALUES ($1, 'crema')`, id); err != nil {
			t.Fatal(err)
		}
		staff = append(staff, id)
	}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	claimed := make([]map[int64]bool, len(staff))
	var wg sync.WaitGroup
	errs := make(chan error, len(staff))
	for i, id := range staff {
		claimed[i] = map[int64]bool{}
		wg.Go(func() {
			scope := storage.Scope{SubAmbiti: []string{"crema"}}
			for {
				c, err := db.TakeNext(ctx, scope, storage.Transition{Scope: scope, Actor: storage.Actor{StaffID: id},
					To: storage.StatusInReview, Event: "taken_in_charge", Apply: storage.TakeInCharge(id, now)})
				if errors.Is(err, storage.ErrNotFound) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				claimed[i][c.ID] = true
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int64]int{}
	for _, m := range claimed {
		for id := range m {
			seen[id]++
		}
	}
	if len(seen) != 200 {
		t.Fatalf("%d applications claimed, want 200", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("application %d claimed %d times", id, n)
		}
	}
	var wrong int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM applications a WHERE status <> 'in_review' OR due_on <> DATE '2026-12-23'
		OR (SELECT count(*) FROM application_events e WHERE e.application_id = a.id AND e.kind = 'taken_in_charge') <> 1`).Scan(&wrong); err != nil || wrong != 0 {
		t.Fatalf("%d applications not in review with one event and their deadline (%v)", wrong, err)
	}
	for i, id := range staff {
		var n int
		db.Pool.QueryRow(ctx, `SELECT count(*) FROM applications WHERE assignee_id = $1`, id).Scan(&n) //nolint:errcheck
		if n != len(claimed[i]) {
			t.Errorf("staff %d: %d assigned in the database, %d claimed", id, n, len(claimed[i]))
		}
	}
}

// The queue's pages, walked with their cursors in every order, list each application once; the counts per
// status follow the filter; another sub-ambito sees none of them.
func TestQueuePagesAreKeyset(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	insertCases(t, db, 60)
	if _, err := db.Pool.Exec(ctx, `UPDATE applications SET status = 'in_review', taken_at = now(),
		due_on = DATE '2026-11-01' + (id % 7)::int WHERE id % 3 = 0`); err != nil {
		t.Fatal(err)
	}
	today := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
	for _, sort := range []string{"oldest", "newest", "due"} {
		seen := map[int64]bool{}
		f := storage.QueueFilter{Sort: sort, Limit: 25}
		var prev *storage.QueueRow
		for pages := 0; ; pages++ {
			p, err := db.Queue(ctx, storage.Scope{SubAmbiti: []string{"crema"}}, f, today)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != 60 || p.Counts["submitted"] != 40 || p.Counts["in_review"] != 20 {
				t.Fatalf("%s: total %d counts %v", sort, p.Total, p.Counts)
			}
			for _, r := range p.Rows {
				if seen[r.ID] {
					t.Fatalf("%s: application %d on two pages", sort, r.ID)
				}
				seen[r.ID] = true
				if prev != nil && sort == "oldest" && r.SubmittedAt.Before(prev.SubmittedAt) {
					t.Fatalf("oldest: out of order")
				}
				if prev != nil && sort == "newest" && r.SubmittedAt.After(prev.SubmittedAt) {
					t.Fatalf("newest: out of order")
				}
				row := r
				prev = &row
			}
			if p.Next == "" {
				break
			}
			f.After = p.Next
		}
		if len(seen) != 60 {
			t.Errorf("%s: %d applications over the pages, want 60", sort, len(seen))
		}
	}
	over, err := db.Queue(ctx, storage.Scope{All: true}, storage.QueueFilter{Overdue: true, Limit: 100}, today)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range over.Rows {
		if !r.Overdue || r.DueOn == nil || !r.DueOn.Before(time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("overdue filter listed %d due %v", r.ID, r.DueOn)
		}
	}
	if len(over.Rows) == 0 {
		t.Error("no overdue applications found")
	}
	none, err := db.Queue(ctx, storage.Scope{SubAmbiti: []string{"soncino"}}, storage.QueueFilter{}, today)
	if err != nil || len(none.Rows) != 0 || none.Total != 0 {
		t.Fatalf("another sub-ambito sees %d (%v)", len(none.Rows), err)
	}
	if _, err := db.Queue(ctx, storage.Scope{All: true}, storage.QueueFilter{After: "bogus!"}, today); !errors.Is(err, storage.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}
