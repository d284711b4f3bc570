package storage_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// The workflow the portal offers and the one the database enforces are the same pairs.
func TestWorkflowMatchesTheDatabase(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	rows, _ := db.Pool.Query(ctx, `SELECT from_status, to_status FROM application_transitions`)
	pairs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ From, To string }])
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, to := range storage.Transitions {
		n += len(to)
	}
	if len(pairs) != n {
		t.Errorf("database has %d transitions, storage.Transitions %d", len(pairs), n)
	}
	for _, p := range pairs {
		if !storage.CanMove(p.From, p.To) {
			t.Errorf("database allows %s → %s, the portal does not", p.From, p.To)
		}
	}
}

// A status change outside the workflow is refused by the database, whoever sends it; Move reports it as an
// IllegalTransitionError, and a frozen graduatoria keeps funded and not funded where they are.
func TestIllegalTransitionsAreRefused(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	id := insertCase(t, db, "submitted", "RSSMRA80A01H501U")
	if _, err := db.Pool.Exec(ctx, `UPDATE applications SET status = 'paid' WHERE id = $1`, id); err == nil {
		t.Fatal("database let submitted → paid through")
	}
	_, err := db.Move(ctx, storage.Transition{ApplicationID: id, Scope: storage.Scope{All: true}, To: storage.StatusPaid})
	var ite *storage.IllegalTransitionError
	if !errors.As(err, &ite) || ite.From != "submitted" || ite.To != "paid" {
		t.Fatalf("Move submitted → paid: %v", err)
	}
	// out of scope: not found, not refused
	_, err = db.Move(ctx, storage.Transition{ApplicationID: id, Scope: storage.Scope{SubAmbiti: []string{"soncino"}}, To: storage.StatusInReview})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Move out of scope: %v", err)
	}
	c, err := db.Move(ctx, storage.Transition{ApplicationID: id, Scope: storage.Scope{SubAmbiti: []string{"crema"}}, To: storage.StatusInReview,
		Event: "taken_in_charge"})
	if err != nil || c.Status != storage.StatusInReview {
		t.Fatalf("Move in scope: %v %v", c.Status, err)
	}

	funded := insertCase(t, db, "admitted_funded", "VRDLGU70A01H501R")
	if _, err := db.Pool.Exec(ctx, `INSERT INTO rankings (call_id, category, run_at, run_by, approved_at, approved_by)
		SELECT call_id, category, now(), (SELECT min(id) FROM staff_users), now(), (SELECT min(id) FROM staff_users)
		FROM applications WHERE id = $1`, funded); err != nil {
		t.Fatal(err)
	}
	_, err = db.Move(ctx, storage.Transition{ApplicationID: funded, Scope: storage.Scope{All: true}, To: storage.StatusAdmittedNotFunded})
	if !errors.As(err, &ite) || !ite.Frozen {
		t.Fatalf("Move under a frozen graduatoria: %v", err)
	}
	if _, err := db.Move(ctx, storage.Transition{ApplicationID: funded, Scope: storage.Scope{All: true}, To: storage.StatusPaid}); err != nil {
		t.Fatalf("paying a funded application: %v", err)
	}
}

// Nobody edits or deletes the audit log, not even with SQL.
func TestAuditLogIsAppendOnly(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	var staff int64
	if err := db.Pool.QueryRow(ctx, `SELECT min(id) FROM staff_users`).Scan(&staff); err != nil {
		t.Fatal(err)
	}
	if err := db.Audit(ctx, storage.Actor{StaffID: staff, IP: "127.0.0.1"}, storage.AuditEntry{Action: "application.read", ApplicationID: 1}); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{`UPDATE audit_log SET action = 'x.y'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		if _, err := db.Pool.Exec(ctx, sql); err == nil {
			t.Errorf("%s went through", sql)
		}
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'application.read' AND ip = '127.0.0.1'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("audit rows %d (%v)", n, err)
	}
}

func TestScopeArgument(t *testing.T) {
	if storage.ScopeOf(storage.StaffUser{Role: storage.RoleCoordinatore}).Arg() != nil {
		t.Error("a coordinator's scope is not all")
	}
	if a := storage.ScopeOf(storage.StaffUser{Role: storage.RoleOperatore}).Arg(); a == nil || len(a) != 0 {
		t.Errorf("an operatore without sub-ambiti sees %v", a)
	}
	if a := storage.ScopeOf(storage.StaffUser{Role: storage.RoleOperatore, Scopes: []string{"crema"}}).Arg(); !slices.Equal(a, []string{"crema"}) {
		t.Errorf("operatore scope %v", a)
	}
}

// insertCase writes a submitted application in the Crema sub-ambito straight into the database.
func insertCase(t *testing.T, db *storage.DB, status, cf string) int64 {
	t.Helper()
	var id int64
	err := db.Pool.QueryRow(context.Background(), `
		WITH p AS (INSERT INTO people (fiscal_code) VALUES ($2) RETURNING id)
		INSERT INTO applications (call_id, applicant_id, create_key, form_version, status, protocol, submitted_at,
			beneficiary_cf, comune, sub_ambito, category)
		SELECT (SELECT id FROM calls WHERE measure = 'fna-b2'), p.id, substr(translate(upper(md5($2)), '0189', 'QRST'), 1, 26), 'fna-b2/2026-v1', $1,
			'CSC-2026-' || lpad((floor(random() * 999999))::text, 6, '0'), now(), $2, 'crema', 'crema', 'anziani'
		FROM p RETURNING id`, status, cf).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Once the commission approved a graduatoria, an application of its call and category can no longer be admitted:
// it would stay outside the approved ranking for good.
func TestNoAdmissionUnderAnApprovedGraduatoria(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	id := insertCase(t, db, "in_review", "BNCGNN70A01H501X")
	if _, err := db.Pool.Exec(ctx, `INSERT INTO rankings (call_id, category, run_at, run_by, approved_at, approved_by)
		SELECT call_id, category, now(), (SELECT min(id) FROM staff_users), now(), (SELECT min(id) FROM staff_users)
		FROM applications WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	_, err := db.Move(ctx, storage.Transition{ApplicationID: id, Scope: storage.Scope{All: true}, To: storage.StatusAdmitted,
		Apply: storage.Decide("", &storage.Amount{Cents: 100, Period: "once", Months: 1}, now)})
	var ite *storage.IllegalTransitionError
	if !errors.As(err, &ite) || !ite.Frozen {
		t.Fatalf("admitting under an approved graduatoria: %v", err)
	}
	if _, err := db.Move(ctx, storage.Transition{ApplicationID: id, Scope: storage.Scope{All: true}, To: storage.StatusNotAdmitted,
		Apply: storage.Decide("fuori termine", nil, now)}); err != nil {
		t.Fatalf("refusing is still possible: %v", err)
	}
}
