package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Scopes an API token can be given (the api_tokens table checks the same list).
const (
	APIScopeApplicationsRead = "applications:read"
	APIScopeDocumentsRead    = "documents:read"
	APIScopeStatusWrite      = "status:write"
)

// APIScopes lists the scopes in the order the back office shows them.
var APIScopes = []string{APIScopeApplicationsRead, APIScopeDocumentsRead, APIScopeStatusWrite}

// ErrAPITokenNameTaken: another token (revoked ones included) has this name.
var ErrAPITokenNameTaken = errors.New("storage: API token name taken")

// ErrUnknownSubAmbito: a token was to be limited to a sub-ambito that does not exist.
var ErrUnknownSubAmbito = errors.New("storage: unknown sub-ambito")

// APIToken is the token of one of the district's other systems. Only the SHA-256 of its secret is stored.
type APIToken struct {
	ID            int64      `db:"id"`
	Name          string     `db:"name"`
	Scopes        []string   `db:"scopes"`
	SubAmbiti     []string   `db:"sub_ambiti"` // nil: the whole district
	CreatedBy     int64      `db:"created_by"`
	CreatedByName string     `db:"created_by_name"`
	CreatedAt     time.Time  `db:"created_at"`
	RevokedAt     *time.Time `db:"revoked_at"`
	LastUsedAt    *time.Time `db:"last_used_at"`
}

// Scope is what the token sees: the whole district, or the applications of its sub-ambiti.
func (t APIToken) Scope() Scope {
	if t.SubAmbiti == nil {
		return Scope{All: true}
	}
	return Scope{SubAmbiti: append([]string{}, t.SubAmbiti...)}
}

const apiTokenColumns = `t.id, t.name, t.scopes, t.sub_ambiti, t.created_by,
	coalesce(u.full_name, '') AS created_by_name, t.created_at, t.revoked_at, t.last_used_at`

const apiTokenFrom = ` FROM api_tokens t LEFT JOIN staff_users u ON u.id = t.created_by `

// NewAPIToken is a token about to be created: its secret's SHA-256, never the secret.
type NewAPIToken struct {
	Name      string
	Scopes    []string
	SubAmbiti []string // none: the whole district
	Hash      []byte
}

// CreateAPIToken records a new token, created by who (a staff account), with a line in the audit log, and returns
// its ID. A name in use is ErrAPITokenNameTaken; a sub-ambito that does not exist ErrUnknownSubAmbito.
func (db *DB) CreateAPIToken(ctx context.Context, who Actor, n NewAPIToken, now time.Time) (int64, error) {
	var subAmbiti []string // NULL, the whole district, unless some are named
	if len(n.SubAmbiti) > 0 {
		subAmbiti = n.SubAmbiti
	}
	var id int64
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO api_tokens (name, scopes, sub_ambiti, token_hash, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, n.Name, n.Scopes, subAmbiti, n.Hash, who.StaffID, now).Scan(&id); err != nil {
			return err
		}
		detail := map[string]string{"token_id": strconv.FormatInt(id, 10), "name": n.Name, "scopes": strings.Join(n.Scopes, " ")}
		if subAmbiti != nil {
			detail["sub_ambiti"] = strings.Join(subAmbiti, " ")
		}
		return Audit(ctx, tx, who, AuditEntry{Action: "api_token.create", Detail: detail})
	})
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "api_tokens_name_key":
		return 0, ErrAPITokenNameTaken
	case errors.As(err, &pe) && pe.Code == "23503" && pe.ConstraintName == "api_tokens_sub_ambiti_fkey":
		return 0, ErrUnknownSubAmbito
	}
	if err != nil {
		return 0, fmt.Errorf("storage: create API token: %w", err)
	}
	return id, nil
}

// APITokens lists every token, the active ones first, newest first.
func (db *DB) APITokens(ctx context.Context) ([]APIToken, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+apiTokenColumns+apiTokenFrom+`
		ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC, t.id DESC`)
	tokens, err := pgx.CollectRows(rows, pgx.RowToStructByName[APIToken])
	if err != nil {
		return nil, fmt.Errorf("storage: API tokens: %w", err)
	}
	return tokens, nil
}

// UseAPIToken returns the active (not revoked) token with this hash, ErrNotFound if there is none, and records
// that it was used at now. The record is cheap: the row is written at most once a minute per token, in the same
// statement, so a busy system does not turn every read into a write.
func (db *DB) UseAPIToken(ctx context.Context, hash []byte, now time.Time) (APIToken, error) {
	rows, _ := db.Pool.Query(ctx, `
		WITH t AS (SELECT * FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL),
		used AS (UPDATE api_tokens a SET last_used_at = $2::timestamptz FROM t
			WHERE a.id = t.id AND (t.last_used_at IS NULL OR t.last_used_at <= $2::timestamptz - interval '1 minute'
				OR t.last_used_at > $2))
		SELECT `+apiTokenColumns+` FROM t LEFT JOIN staff_users u ON u.id = t.created_by`, hash, now)
	tok, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[APIToken])
	if errors.Is(err, pgx.ErrNoRows) {
		return APIToken{}, ErrNotFound
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("storage: use API token: %w", err)
	}
	return tok, nil
}

// RevokeAPIToken revokes a token at now, by who, with a line in the audit log; revoking a revoked token changes
// nothing. An unknown ID is ErrNotFound.
func (db *DB) RevokeAPIToken(ctx context.Context, who Actor, id int64, now time.Time) (APIToken, error) {
	var tok APIToken
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var revoked *time.Time
		if err := tx.QueryRow(ctx, `SELECT revoked_at FROM api_tokens WHERE id = $1 FOR UPDATE`, id).Scan(&revoked); err != nil {
			return err
		}
		if revoked == nil {
			if _, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE id = $1`, id, now); err != nil {
				return err
			}
		}
		rows, _ := tx.Query(ctx, `SELECT `+apiTokenColumns+apiTokenFrom+`WHERE t.id = $1`, id)
		var err error
		if tok, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[APIToken]); err != nil || revoked != nil {
			return err
		}
		return Audit(ctx, tx, who, AuditEntry{Action: "api_token.revoke",
			Detail: map[string]string{"token_id": strconv.FormatInt(id, 10), "name": tok.Name}})
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return APIToken{}, ErrNotFound
	}
	if err != nil {
		return APIToken{}, fmt.Errorf("storage: revoke API token %d: %w", id, err)
	}
	return tok, nil
}
