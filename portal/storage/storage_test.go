package storage_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/auth"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// Migrating and seeding again changes nothing: make run is idempotent and staff edits survive.
func TestMigrateAndSeedAreIdempotent(t *testing.T) {
	db := testenv.Shared(t).DB(t) // already migrated and seeded
	ctx := context.Background()
	n, err := db.Migrate(ctx)
	if err != nil || n != 0 {
		t.Fatalf("second migrate applied %d (%v)", n, err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE offices SET phone = '0373 123456' WHERE code = 'sportello-crema'`); err != nil {
		t.Fatal(err)
	}
	creds, err := db.Seed(ctx, time.Now(), auth.HashPassword)
	if err != nil || len(creds) != 0 {
		t.Fatalf("second seed created %d accounts (%v)", len(creds), err)
	}
	var comuni, subAmbiti, staff, calls int
	var phone string
	err = db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM comuni), (SELECT count(*) FROM sub_ambiti),
		(SELECT count(*) FROM staff_users), (SELECT count(*) FROM calls),
		(SELECT phone FROM offices WHERE code = 'sportello-crema')`).Scan(&comuni, &subAmbiti, &staff, &calls, &phone)
	if err != nil {
		t.Fatal(err)
	}
	if comuni != 48 || subAmbiti != 6 || staff != 3 || calls != 3 || phone != "0373 123456" {
		t.Errorf("after re-seed: %d comuni, %d sub-ambiti, %d staff, %d calls, phone %q", comuni, subAmbiti, staff, calls, phone)
	}
}

func TestSeedCreatesStaffWithWorkingPasswords(t *testing.T) {
	s := testenv.Shared(t)
	db := s.DB(t)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `DELETE FROM staff_users`); err != nil {
		t.Fatal(err)
	}
	creds, err := db.Seed(ctx, time.Now(), auth.HashPassword)
	if err != nil || len(creds) != 3 {
		t.Fatalf("seed created %d accounts (%v)", len(creds), err)
	}
	for _, c := range creds {
		var hash string
		if err := db.Pool.QueryRow(ctx, `SELECT password_hash FROM staff_users WHERE username = $1`, c.Username).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if ok, err := auth.CheckPassword(hash, c.Password); !ok || err != nil {
			t.Errorf("%s: printed password does not match the stored hash", c.Username)
		}
	}
	var scope string
	if err := db.Pool.QueryRow(ctx, `SELECT sub_ambito FROM staff_scopes JOIN staff_users ON id = staff_id WHERE username = 'operatore.crema'`).Scan(&scope); err != nil || scope != "crema" {
		t.Errorf("operatore scope %q (%v)", scope, err)
	}
}

// The database refuses what the application must never write.
func TestConstraints(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	for name, sql := range map[string]string{
		"call closing before opening": `INSERT INTO calls (measure, year, opens_at, closes_at) VALUES ('fna-b2', 2030, now(), now() - interval '1 day')`,
		"unknown measure":             `INSERT INTO measures (code) VALUES ('bonus-x')`,
		"unknown role":                `INSERT INTO staff_users (username, full_name, role, password_hash) VALUES ('x.y', 'X', 'root', '$argon2id$x')`,
		"plain-text password":         `INSERT INTO staff_users (username, full_name, role, password_hash) VALUES ('x.z', 'X', 'admin', 'secret')`,
		"comune without sub-ambito":   `INSERT INTO comuni (code, name, sub_ambito) VALUES ('milano', 'Milano', 'milano')`,
	} {
		if _, err := db.Pool.Exec(ctx, sql); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"Rivolta d'Adda": "rivolta-d-adda", "Casale Cremasco-Vidolasco": "casale-cremasco-vidolasco",
		"Crema": "crema", "  Spino d'Adda  ": "spino-d-adda"} {
		if got := storage.Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCallState(t *testing.T) {
	opens := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	c := storage.Call{OpensAt: opens, ClosesAt: opens.Add(48 * time.Hour)}
	for at, want := range map[time.Time]string{opens.Add(-time.Second): "upcoming", opens: "open",
		opens.Add(47 * time.Hour): "open", opens.Add(48 * time.Hour): "closed"} {
		if got := c.State(at); got != want {
			t.Errorf("State(%v) = %s, want %s", at, got, want)
		}
	}
}

// Calls carry their thresholds and form version as data; the seed fills the demo values.
func TestCallsCarryTheirRules(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	calls, err := db.LatestCalls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fna := calls["fna-b2"]
	if fna.FormVersion != "fna-b2/2026-v1" || fna.Thresholds["anziani"] != 25_000_00 || fna.Thresholds["caregiver_minori"] != 40_000_00 {
		t.Errorf("FNA call: %+v", fna)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE calls SET thresholds = '[1]' WHERE measure = 'fna-b2'`); err == nil {
		t.Error("thresholds that are not an object accepted")
	}
}

func TestCurrentCallsPreferTheOpenOne(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := t.Context()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	// next year's FNA B2 call prepared while this year's is open
	if _, err := db.Pool.Exec(ctx, `UPDATE calls SET opens_at = $1, closes_at = $2 WHERE measure = 'fna-b2'`,
		now.AddDate(0, -1, 0), now.AddDate(0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO calls (measure, year, opens_at, closes_at) VALUES ('fna-b2', 2027, $1, $2)`,
		now.AddDate(1, 0, 0), now.AddDate(1, 2, 0)); err != nil {
		t.Fatal(err)
	}
	calls, err := db.CurrentCalls(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if c := calls["fna-b2"]; c.Year != now.Year() || c.State(now) != "open" {
		t.Errorf("FNA B2: call of %d (%s), want this year's open call", c.Year, c.State(now))
	}
	// once it has closed, the upcoming one is shown
	later := now.AddDate(0, 2, 0)
	calls, _ = db.CurrentCalls(ctx, later)
	if c := calls["fna-b2"]; c.Year != 2027 || c.State(later) != "upcoming" {
		t.Errorf("after closing: call of %d (%s), want next year's upcoming call", c.Year, c.State(later))
	}
}
