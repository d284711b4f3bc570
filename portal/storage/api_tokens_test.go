package storage_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// A token is found by its hash while active, its use is recorded at most once a minute, a revoked token is found
// no more, and creating and revoking are in the audit log. The database refuses a token without a scope, an
// unknown scope and a second token with the same name.
func TestAPITokens(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	var admin int64
	if err := db.Pool.QueryRow(ctx, `SELECT min(id) FROM staff_users WHERE role = 'admin'`).Scan(&admin); err != nil {
		t.Fatal(err)
	}
	who := storage.Actor{StaffID: admin, IP: "192.0.2.7"}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	hash := sha256.Sum256([]byte("csc_accounting"))
	id, err := db.CreateAPIToken(ctx, who, storage.NewAPIToken{Name: "Contabilità", Scopes: []string{storage.APIScopeApplicationsRead,
		storage.APIScopeStatusWrite}, Hash: hash[:]}, now)
	if err != nil {
		t.Fatal(err)
	}

	other := sha256.Sum256([]byte("csc_other"))
	if _, err := db.CreateAPIToken(ctx, who, storage.NewAPIToken{Name: "Contabilità", Scopes: []string{storage.APIScopeDocumentsRead},
		Hash: other[:]}, now); !errors.Is(err, storage.ErrAPITokenNameTaken) {
		t.Errorf("same name: %v", err)
	}
	for _, scopes := range [][]string{{}, {"applications:write"}} {
		if _, err := db.CreateAPIToken(ctx, who, storage.NewAPIToken{Name: "Cartella sociale", Scopes: scopes, Hash: other[:]}, now); err == nil {
			t.Errorf("scopes %v accepted", scopes)
		}
	}

	tok, err := db.UseAPIToken(ctx, hash[:], now)
	if err != nil || tok.ID != id || tok.Name != "Contabilità" || !slices.Equal(tok.Scopes, []string{"applications:read", "status:write"}) {
		t.Fatalf("use: %+v %v", tok, err)
	}
	lastUsed := func() time.Time {
		t.Helper()
		var at *time.Time
		if err := db.Pool.QueryRow(ctx, `SELECT last_used_at FROM api_tokens WHERE id = $1`, id).Scan(&at); err != nil || at == nil {
			t.Fatalf("last_used_at %v (%v)", at, err)
		}
		return *at
	}
	if got := lastUsed(); !got.Equal(now) {
		t.Errorf("last used %v, want %v", got, now)
	}
	if _, err := db.UseAPIToken(ctx, hash[:], now.Add(59*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(now) {
		t.Errorf("last used rewritten within the minute: %v", got)
	}
	if _, err := db.UseAPIToken(ctx, hash[:], now.Add(61*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(now.Add(61 * time.Second)) {
		t.Errorf("last used not recorded after a minute: %v", got)
	}
	if _, err := db.UseAPIToken(ctx, other[:], now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown hash: %v", err)
	}

	revoked, err := db.RevokeAPIToken(ctx, who, id, now.Add(time.Hour))
	if err != nil || revoked.RevokedAt == nil || !revoked.RevokedAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("revoke: %+v %v", revoked, err)
	}
	if _, err := db.UseAPIToken(ctx, hash[:], now.Add(2*time.Hour)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("revoked token still used: %v", err)
	}
	again, err := db.RevokeAPIToken(ctx, who, id, now.Add(2*time.Hour))
	if err != nil || !again.RevokedAt.Equal(now.Add(time.Hour)) {
		t.Errorf("second revoke changed the date: %+v %v", again, err)
	}
	if _, err := db.RevokeAPIToken(ctx, who, id+1000, now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("revoking an unknown token: %v", err)
	}

	list, err := db.APITokens(ctx)
	if err != nil || len(list) != 1 || list[0].RevokedAt == nil || list[0].CreatedBy != admin || list[0].CreatedByName == "" {
		t.Fatalf("list %+v %v", list, err)
	}
	var creates, revokes int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE action = 'api_token.create'),
		count(*) FILTER (WHERE action = 'api_token.revoke') FROM audit_log
		WHERE staff_id = $1 AND ip = '192.0.2.7' AND detail->>'token_id' = $2`, admin, strconv.FormatInt(id, 10)).Scan(&creates, &revokes); err != nil {
		t.Fatal(err)
	}
	if creates != 1 || revokes != 1 {
		t.Errorf("audit: %d creations, %d revocations", creates, revokes)
	}
}

// A token limited to some sub-ambiti reads back with them and scopes queries to them; one without is the whole
// district. The database refuses an unknown sub-ambito and an empty list (which would see nothing).
func TestAPITokenSubAmbiti(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	var admin int64
	if err := db.Pool.QueryRow(ctx, `SELECT min(id) FROM staff_users WHERE role = 'admin'`).Scan(&admin); err != nil {
		t.Fatal(err)
	}
	who := storage.Actor{StaffID: admin}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	create := func(name string, subAmbiti []string) ([]byte, error) {
		h := sha256.Sum256([]byte("csc_" + name))
		_, err := db.CreateAPIToken(ctx, who, storage.NewAPIToken{Name: name, Scopes: []string{storage.APIScopeApplicationsRead},
			SubAmbiti: subAmbiti, Hash: h[:]}, now)
		return h[:], err
	}
	limited, err := create("Cartella Crema", []string{"crema", "pandino"})
	if err != nil {
		t.Fatal(err)
	}
	district, err := create("Contabilità", nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := db.UseAPIToken(ctx, limited, now)
	if err != nil || !slices.Equal(tok.SubAmbiti, []string{"crema", "pandino"}) {
		t.Fatalf("limited token: %+v %v", tok, err)
	}
	if sc := tok.Scope(); sc.All || !slices.Equal(sc.Arg(), []string{"crema", "pandino"}) {
		t.Errorf("limited token's scope %+v", sc)
	}
	tok, err = db.UseAPIToken(ctx, district, now)
	if err != nil || tok.SubAmbiti != nil || !tok.Scope().All || tok.Scope().Arg() != nil {
		t.Fatalf("district token: %+v %v", tok, err)
	}
	var detail map[string]string
	if err := db.Pool.QueryRow(ctx, `SELECT detail FROM audit_log WHERE action = 'api_token.create' AND detail->>'name' = 'Cartella Crema'`).Scan(&detail); err != nil ||
		detail["sub_ambiti"] != "crema pandino" {
		t.Errorf("audit detail %v (%v)", detail, err)
	}

	if _, err := create("Refuso", []string{"crema", "cremona"}); !errors.Is(err, storage.ErrUnknownSubAmbito) {
		t.Errorf("unknown sub-ambito: %v", err)
	}
	for name, sql := range map[string]string{
		"empty list":   `UPDATE api_tokens SET sub_ambiti = '{}' WHERE name = 'Contabilità'`,
		"unknown code": `UPDATE api_tokens SET sub_ambiti = '{milano}' WHERE name = 'Contabilità'`,
		"null code":    `UPDATE api_tokens SET sub_ambiti = ARRAY[NULL]::text[] WHERE name = 'Contabilità'`,
	} {
		if _, err := db.Pool.Exec(ctx, sql); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The API's list holds submitted applications only, filtered, a page at a time by ascending ID.
func TestAPICaseSummaries(t *testing.T) {
	db := testenv.Shared(t).DB(t)
	ctx := context.Background()
	a := insertCase(t, db, "submitted", "RSSMRA80A01H501U")
	b := insertCase(t, db, "paid", "VRDLGU70A01H501R")
	c := insertCase(t, db, "in_review", "BNCLRA80A41D142V")
	var draft int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO applications (call_id, applicant_id, create_key, form_version)
		SELECT call_id, applicant_id, 'DRAFTKEYAAAAAAAAAAAAAAAAAA', form_version FROM applications WHERE id = $1 RETURNING id`, a).Scan(&draft); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE applications SET updated_at = now() - interval '1 year' WHERE id = $1`, a); err != nil {
		t.Fatal(err)
	}
	ids := func(f storage.CaseFilter) []int64 {
		t.Helper()
		if f.Limit == 0 {
			f.Limit = 50
		}
		list, err := db.CaseSummaries(ctx, storage.Scope{All: true}, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, s := range list {
			if s.Protocol == "" || s.Measure != "fna-b2" || s.SubmittedAt.IsZero() {
				t.Errorf("summary %+v", s)
			}
			out = append(out, s.ID)
		}
		return out
	}
	since := time.Now().Add(-24 * time.Hour)
	var call int64
	if err := db.Pool.QueryRow(ctx, `SELECT call_id FROM applications WHERE id = $1`, a).Scan(&call); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		f    storage.CaseFilter
		want []int64
	}{
		"all, never the draft": {storage.CaseFilter{}, []int64{a, b, c}},
		"first page":           {storage.CaseFilter{Limit: 2}, []int64{a, b}},
		"after a cursor":       {storage.CaseFilter{After: b}, []int64{c}},
		"by status":            {storage.CaseFilter{Status: "paid"}, []int64{b}},
		"by measure":           {storage.CaseFilter{Measure: "misura-unica"}, nil},
		"by call":              {storage.CaseFilter{CallID: call}, []int64{a, b, c}},
		"by another call":      {storage.CaseFilter{CallID: call + 1000}, nil},
		"updated since":        {storage.CaseFilter{UpdatedSince: &since}, []int64{b, c}},
		"a draft's status":     {storage.CaseFilter{Status: "draft"}, nil},
	} {
		if got := ids(tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
	list, err := db.CaseSummaries(ctx, storage.Scope{SubAmbiti: []string{"soncino"}}, storage.CaseFilter{Limit: 50})
	if err != nil || len(list) != 0 {
		t.Errorf("out of scope: %v %v", list, err)
	}
}
