package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// The database refuses staff and office data the application must never write.
func TestStaffConstraints(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	for name, sql := range map[string]string{
		"confirmed TOTP without a secret": `UPDATE staff_users SET totp_confirmed_at = now() WHERE username = 'admin'`,
		"malformed TOTP secret":           `UPDATE staff_users SET totp_secret = 'abc' WHERE username = 'admin'`,
		"failures without a window":       `UPDATE staff_users SET failed_count = 3 WHERE username = 'admin'`,
		"more than 100 failures":          `UPDATE staff_users SET failed_count = 101, failed_window_start = now(), failed_last_at = now() WHERE username = 'admin'`,
		"recovery code hash not SHA-256":  `INSERT INTO staff_recovery_codes (staff_id, code_hash) SELECT id, '\x01'::bytea FROM staff_users WHERE username = 'admin'`,
		"recovery code of nobody":         `INSERT INTO staff_recovery_codes (staff_id, code_hash) VALUES (999999, sha256('x'))`,
		"office phone with letters":       `UPDATE offices SET phone = 'chiamaci' WHERE code = 'sportello-crema'`,
		"office e-mail without domain":    `UPDATE offices SET email = 'sportello@' WHERE code = 'sportello-crema'`,
	} {
		if _, err := db.Pool.Exec(ctx, sql); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCreateStaffErrors(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	n := storage.NewStaff{Username: "admin", FullName: "X", Role: storage.RoleAdmin, PasswordHash: "$argon2id$x"}
	if _, err := db.CreateStaff(ctx, n); !errors.Is(err, storage.ErrUsernameTaken) {
		t.Errorf("taken username: %v", err)
	}
	n.Username, n.Role, n.Scopes = "nuovo", storage.RoleOperatore, []string{"milano"}
	if _, err := db.CreateStaff(ctx, n); !errors.Is(err, storage.ErrUnknownScope) {
		t.Errorf("unknown scope: %v", err)
	}
	// Scopes are kept for an operatore only.
	n.Scopes = []string{"crema", "soncino"}
	id, err := db.CreateStaff(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateStaffRole(ctx, id, storage.RoleCoordinatore, []string{"crema"}); err != nil {
		t.Fatal(err)
	}
	u, err := db.StaffUserByID(ctx, id)
	if err != nil || u.Role != storage.RoleCoordinatore || len(u.Scopes) != 0 {
		t.Errorf("after promotion: %+v (%v)", u, err)
	}
	if _, err := db.StaffUserByID(ctx, 999999); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing account: %v", err)
	}
}

// The scope condition is in the SQL: an operatore's queries see their sub-ambiti only.
func TestStaffOfficeQueriesAreScoped(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	op, err := db.StaffUserByUsername(ctx, "operatore.crema")
	if err != nil {
		t.Fatal(err)
	}
	offices, err := db.StaffOffices(ctx, op.ID)
	if err != nil || len(offices) != 1 || offices[0].Code != "sportello-crema" {
		t.Fatalf("operatore sees %v (%v)", offices, err)
	}
	if _, err := db.StaffOffice(ctx, op.ID, "sportello-soncino"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("office outside scope: %v", err)
	}
	if err := db.UpdateStaffOffice(ctx, op.ID, "sportello-soncino", "0374 1234567", "", nil); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("update outside scope: %v", err)
	}
	coord, _ := db.StaffUserByUsername(ctx, "coordinatore")
	if all, _ := db.StaffOffices(ctx, coord.ID); len(all) != 6 {
		t.Errorf("coordinatore sees %d offices", len(all))
	}
	now := op.CreatedAt
	if err := db.SetStaffDisabled(ctx, coord.ID, &now); err != nil {
		t.Fatal(err)
	}
	if all, _ := db.StaffOffices(ctx, coord.ID); len(all) != 0 {
		t.Errorf("a disabled account sees %d offices", len(all))
	}
}
