package storage

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/forms"
)

// Slug turns a comune's name into its code: "Rivolta d'Adda" → "rivolta-d-adda".
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// StaffCredential is a demo staff account created by Seed, with its one-time printed password.
type StaffCredential struct {
	Username, Role, Password string
}

// Seed loads the demo data. It is idempotent: rows that exist are left alone, so staff edits survive a re-run.
// It returns the credentials of the staff accounts it created now (none on a re-run).
func (db *DB) Seed(ctx context.Context, now time.Time, hash func(string) (string, error)) ([]StaffCredential, error) {
	var created []StaffCredential
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		for i, s := range forms.District {
			if _, err := tx.Exec(ctx, `INSERT INTO sub_ambiti (code, name, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
				s.Code, s.Name, i+1); err != nil {
				return err
			}
			for _, c := range s.Comuni {
				if _, err := tx.Exec(ctx, `INSERT INTO comuni (code, name, sub_ambito) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
					Slug(c), c, s.Code); err != nil {
					return err
				}
			}
		}
		// One sportello per sub-ambito, in the main comune's town hall; contact details are set by staff.
		weekdaysMorning, _ := json.Marshal([]OpeningHours{{Days: []int{1, 2, 3, 4, 5}, From: "09:00", To: "12:30"}, {Days: []int{3}, From: "14:00", To: "17:00"}})
		twoMornings, _ := json.Marshal([]OpeningHours{{Days: []int{2, 4}, From: "09:00", To: "12:00"}})
		for _, s := range forms.District {
			hours := twoMornings
			if s.Code == "crema" {
				hours = weekdaysMorning
			}
			if _, err := tx.Exec(ctx, `INSERT INTO offices (code, name, comune, address, hours) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
				"sportello-"+s.Code, "Sportello sociale di "+s.Name, Slug(s.Name), "Municipio di "+s.Name, hours); err != nil {
				return err
			}
		}
		if err := seedAppointments(ctx, tx, now); err != nil {
			return err
		}
		// Calls relative to the day of the first seed, so a fresh demo always shows one open, one upcoming, one closed.
		year := now.Year()
		day := time.Date(now.Year(), now.Month(), now.Day(), 9, 0, 0, 0, now.Location())
		// Demo thresholds (PRODUCT.md): ISEE socio-sanitario up to €25,000 for adults, ordinario up to €40,000 for
		// minors (FNA B2); up to €26,000 for rent support.
		fnaThresholds := map[string]int64{"anziani": 25_000_00, "disabili_adulti": 25_000_00, "voucher": 25_000_00, "caregiver_minori": 40_000_00}
		// Demo budgets per category and amounts granted (PRODUCT.md: Misura Unica up to €1,500; the B2 buono monthly).
		fnaBudgets := map[string]int64{"anziani": 150_000_00, "disabili_adulti": 120_000_00, "caregiver_minori": 80_000_00, "voucher": 30_000_00}
		calls := []struct {
			measure       string
			opens, closes time.Time
			form          string
			thresholds    map[string]int64
			budgets       map[string]int64
			amounts       Amounts
			deadlineDays  int
		}{
			{"fna-b2", day.AddDate(0, 0, -14), day.AddDate(0, 2, 0).Add(3 * time.Hour), "fna-b2/2026-v1", fnaThresholds, fnaBudgets,
				Amounts{"all": {Cents: 400_00, Period: "month", Months: 12}}, 30},
			{"misura-unica", day.AddDate(0, 0, 30), day.AddDate(0, 3, 0).Add(3 * time.Hour), "misura-unica/2026-v1", map[string]int64{"all": 26_000_00},
				map[string]int64{"all": 200_000_00}, Amounts{"all": {Cents: 1_500_00, Period: "once", Months: 1}}, 60},
			{"caregiver", day.AddDate(0, -4, 0), day.AddDate(0, -2, 0).Add(3 * time.Hour), "caregiver/2026-v1", map[string]int64{},
				map[string]int64{"all": 50_000_00}, Amounts{"all": {Cents: 500_00, Period: "once", Months: 1}}, 30},
		}
		for _, c := range calls {
			if _, err := tx.Exec(ctx, `INSERT INTO measures (code) VALUES ($1) ON CONFLICT DO NOTHING`, c.measure); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO calls (measure, year, opens_at, closes_at, form_version, thresholds, budgets, amounts, deadline_days)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`, c.measure, year, c.opens, c.closes, c.form, c.thresholds,
				c.budgets, c.amounts, c.deadlineDays); err != nil {
				return err
			}
		}
		staff := []struct{ username, name, role, scope string }{
			{"admin", "Amministratore demo", "admin", ""},
			{"coordinatore", "Coordinatrice demo", "coordinatore", ""},
			{"operatore.crema", "Operatore demo (Crema)", "operatore", "crema"},
		}
		for _, s := range staff {
			password := rand.Text() // 26 base32 characters, 130 bits
			h, err := hash(password)
			if err != nil {
				return err
			}
			var id int64
			err = tx.QueryRow(ctx, `INSERT INTO staff_users (username, full_name, role, password_hash) VALUES ($1, $2, $3, $4)
				ON CONFLICT (username) DO NOTHING RETURNING id`, s.username, s.name, s.role, h).Scan(&id)
			if err == pgx.ErrNoRows {
				continue
			} else if err != nil {
				return err
			}
			if s.scope != "" {
				if _, err := tx.Exec(ctx, `INSERT INTO staff_scopes (staff_id, sub_ambito) VALUES ($1, $2)`, id, s.scope); err != nil {
					return err
				}
			}
			created = append(created, StaffCredential{Username: s.username, Role: s.role, Password: password})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: seed: %w", err)
	}
	return created, nil
}
