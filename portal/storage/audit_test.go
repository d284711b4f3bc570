package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// The audit search filters by account, application (ID or protocol number), action and time, newest first, and
// pages by keyset: walking the pages returns every line once, in order, ties in time included.
func TestAuditSearchFiltersAndPages(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	var alice, bob int64
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT id FROM staff_users ORDER BY id LIMIT 1), (SELECT id FROM staff_users ORDER BY id DESC LIMIT 1)`).Scan(&alice, &bob); err != nil {
		t.Fatal(err)
	}
	app, protocol := testenv.InsertDecided(t, db, testenv.Decided{Category: "anziani", ISEE: 1_00})
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	// 25 lines: alice reads the application every hour; bob runs a graduatoria at the same instant as three of them
	for i := range 25 {
		at := base.Add(time.Duration(i) * time.Hour)
		if _, err := db.Pool.Exec(ctx, `INSERT INTO audit_log (at, staff_id, action, application_id, ip) VALUES ($1, $2, 'application.read', $3, '10.0.0.1')`,
			at, alice, app); err != nil {
			t.Fatal(err)
		}
		if i%8 == 0 {
			if _, err := db.Pool.Exec(ctx, `INSERT INTO audit_log (at, staff_id, action, detail) VALUES ($1, $2, 'ranking.run', '{"category": "anziani"}')`,
				at, bob); err != nil {
				t.Fatal(err)
			}
		}
	}

	all, more, err := db.SearchAudit(ctx, storage.AuditFilter{Limit: 100})
	if err != nil || more || len(all) != 29 {
		t.Fatalf("all: %d lines, more %v (%v)", len(all), more, err)
	}
	// pages of 7, following the cursor, give the same lines in the same order
	var paged []storage.AuditLine
	f := storage.AuditFilter{Limit: 7}
	for {
		page, more, err := db.SearchAudit(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page...)
		if !more {
			break
		}
		c := page[len(page)-1].Cursor()
		f.After = &c
	}
	if len(paged) != len(all) {
		t.Fatalf("paged %d lines, want %d", len(paged), len(all))
	}
	for i := range all {
		if paged[i].ID != all[i].ID {
			t.Fatalf("line %d: %d, want %d", i, paged[i].ID, all[i].ID)
		}
		if i > 0 && (all[i].At.After(all[i-1].At) || all[i].At.Equal(all[i-1].At) && all[i].ID > all[i-1].ID) {
			t.Fatalf("line %d out of order", i)
		}
	}
	if l := all[0]; l.StaffUsername == "" || l.StaffName == "" || l.IP != nil && *l.IP != "10.0.0.1" {
		t.Errorf("newest line %+v", l)
	}

	for name, c := range map[string]struct {
		f    storage.AuditFilter
		want int
	}{
		"by account":       {storage.AuditFilter{StaffID: bob}, 4},
		"by action":        {storage.AuditFilter{Action: "ranking.run"}, 4},
		"by application":   {storage.AuditFilter{ApplicationID: app}, 25},
		"by protocol":      {storage.AuditFilter{Protocol: protocol}, 25},
		"unknown protocol": {storage.AuditFilter{Protocol: "CSC-2026-999999"}, 0},
		"from, inclusive":  {storage.AuditFilter{From: base.Add(24 * time.Hour)}, 2},
		"to, exclusive":    {storage.AuditFilter{To: base.Add(time.Hour)}, 2},
		"a day":            {storage.AuditFilter{From: base.Add(2 * time.Hour), To: base.Add(10 * time.Hour), StaffID: alice}, 8},
		"nothing":          {storage.AuditFilter{Action: "document.read"}, 0},
	} {
		c.f.Limit = 100
		got, _, err := db.SearchAudit(ctx, c.f)
		if err != nil || len(got) != c.want {
			t.Errorf("%s: %d lines, want %d (%v)", name, len(got), c.want, err)
		}
	}
	got, _, _ := db.SearchAudit(ctx, storage.AuditFilter{Action: "application.read", Limit: 1})
	if len(got) != 1 || got[0].Protocol == nil || *got[0].Protocol != protocol || got[0].ApplicationID == nil || *got[0].ApplicationID != app {
		t.Errorf("line with its application: %+v", got)
	}
	got, _, _ = db.SearchAudit(ctx, storage.AuditFilter{Action: "ranking.run", Limit: 1})
	if len(got) != 1 || got[0].Detail["category"] != "anziani" {
		t.Errorf("detail: %+v", got)
	}
}
