// Package storage is the portal's PostgreSQL layer: the connection pool, numbered migrations, demo data and the
// hand-written queries, grouped by feature in files next to each other.
package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// DB is the portal's database handle, opened once per process.
type DB struct {
	Pool *pgxpool.Pool
}

// Open creates the pool. It does not wait for the server: the portal starts (and reports not ready) while
// PostgreSQL is down, and connects as soon as it comes back.
func Open(ctx context.Context, url string, maxConns int32) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("storage: parse DATABASE_URL: %w", err)
	}
	cfg.MaxConns = maxConns
	cfg.ConnConfig.RuntimeParams["application_name"] = "csc-portal"
	cfg.ConnConfig.RuntimeParams["timezone"] = "Europe/Rome"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("storage: open pool: %w", err)
	}
	return &DB{Pool: pool}, nil
}

// Close closes the pool.
func (db *DB) Close() { db.Pool.Close() }

// Ping checks that PostgreSQL answers.
func (db *DB) Ping(ctx context.Context) error { return db.Pool.Ping(ctx) }
