package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// The conditions of call changes live in the SQL, so two staff members (or a page left open) cannot get past them:
// one call per measure and year, a form version fixed once the call has opened, "open now" and "close now" only
// from the state they belong to, never an empty window.
func TestCallChangesAreConditional(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	now := time.Date(2030, 5, 1, 10, 0, 0, 0, time.UTC)
	c := storage.Call{Measure: "fna-b2", Year: 2030, OpensAt: now.Add(time.Hour), ClosesAt: now.Add(48 * time.Hour),
		FormVersion: "fna-b2/2026-v1"}
	id, err := db.CreateCall(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateCall(ctx, c); !errors.Is(err, storage.ErrCallExists) {
		t.Errorf("second call of the year: %v", err)
	}
	got, err := db.CallByID(ctx, id)
	if err != nil || got.Thresholds == nil || got.Budgets == nil || len(got.Thresholds) != 0 {
		t.Errorf("nil amounts stored as {}: %+v (%v)", got, err)
	}

	c.ID, c.FormVersion = id, "fna-b2/2030-v1"
	if err := db.UpdateCall(ctx, c, now); err != nil {
		t.Errorf("version of an upcoming call: %v", err)
	}
	if err := db.CloseCallNow(ctx, id, now); !errors.Is(err, storage.ErrCallState) {
		t.Errorf("close an upcoming call: %v", err)
	}
	if err := db.OpenCallNow(ctx, id, now); err != nil {
		t.Fatal(err)
	}
	if err := db.OpenCallNow(ctx, id, now.Add(time.Minute)); !errors.Is(err, storage.ErrCallState) {
		t.Errorf("open an open call: %v", err)
	}
	if err := db.CloseCallNow(ctx, id, now); !errors.Is(err, storage.ErrCallState) {
		t.Errorf("close at the instant it opened (empty window): %v", err)
	}
	c.OpensAt, c.FormVersion = now, "fna-b2/2026-v1"
	if err := db.UpdateCall(ctx, c, now.Add(time.Minute)); !errors.Is(err, storage.ErrCallFormLocked) {
		t.Errorf("version of an open call: %v", err)
	}
	c.FormVersion = "fna-b2/2030-v1"
	if err := db.UpdateCall(ctx, c, now.Add(time.Minute)); err != nil {
		t.Errorf("window of an open call, same version: %v", err)
	}
	if err := db.CloseCallNow(ctx, id, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.CallByID(ctx, id); !got.OpensAt.Equal(now) || !got.ClosesAt.Equal(now.Add(time.Hour)) {
		t.Errorf("window %v–%v", got.OpensAt, got.ClosesAt)
	}
	if err := db.OpenCallNow(ctx, id, now.Add(2*time.Hour)); !errors.Is(err, storage.ErrCallState) {
		t.Errorf("open a closed call: %v", err)
	}
	for _, err := range []error{db.UpdateCall(ctx, storage.Call{ID: 999999, OpensAt: now, ClosesAt: now.Add(time.Hour)}, now),
		db.OpenCallNow(ctx, 999999, now), db.CloseCallNow(ctx, 999999, now)} {
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("missing call: %v", err)
		}
	}
	if _, err := db.CallByID(ctx, 999999); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing call: %v", err)
	}
}
