package portal_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// When PostgreSQL or Redis goes away, visitors get a localized 503 page and /readyz says so; when they come back
// the portal recovers by itself.
func TestOutagesAndRecovery(t *testing.T) {
	servers := testenv.Own(t)
	e := newEnvOn(t, servers)
	c := e.client(t)
	c.headers["Accept-Language"] = "es"
	ctx := context.Background()

	readiness := func(want int) func() error {
		return func() error {
			resp, body := c.get("/readyz")
			if resp.StatusCode != want {
				return fmt.Errorf("readyz %d %s", resp.StatusCode, body)
			}
			return nil
		}
	}
	resp, _ := c.get("/sedi")
	wantStatus(t, resp, http.StatusOK)
	testenv.WaitFor(t, 5*time.Second, "ready", readiness(http.StatusOK))

	t.Run("postgresql down", func(t *testing.T) {
		if err := servers.PG.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		// /misure was never rendered, so it needs the database (pages rendered before stay served a few seconds).
		resp, body := c.get("/misure")
		wantStatus(t, resp, http.StatusServiceUnavailable)
		wantContains(t, body, `lang="es"`, "Servicio no disponible por el momento")
		if resp.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After on 503")
		}
		resp, body = c.get("/readyz")
		wantStatus(t, resp, http.StatusServiceUnavailable)
		wantContains(t, body, "postgresql")
		// Pages that need no database still work.
		resp, _ = c.get("/privacy")
		wantStatus(t, resp, http.StatusOK)
		if err := servers.PG.Start(ctx); err != nil {
			t.Fatal(err)
		}
		testenv.WaitFor(t, 20*time.Second, "recovery after PostgreSQL restart", func() error {
			if resp, _ := c.get("/misure"); resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		})
		testenv.WaitFor(t, 5*time.Second, "ready again", readiness(http.StatusOK))
	})

	t.Run("redis down", func(t *testing.T) {
		if err := servers.Redis.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		// Public pages need no session: they keep working.
		resp, _ := c.get("/")
		wantStatus(t, resp, http.StatusOK)
		resp, body := c.get("/lingua")
		wantStatus(t, resp, http.StatusServiceUnavailable)
		wantContains(t, body, `lang="es"`, "Servicio no disponible por el momento")
		resp, body = c.get("/readyz")
		wantStatus(t, resp, http.StatusServiceUnavailable)
		wantContains(t, body, "redis")
		resp, _ = c.get("/healthz")
		wantStatus(t, resp, http.StatusOK)
		if err := servers.Redis.Start(ctx); err != nil {
			t.Fatal(err)
		}
		testenv.WaitFor(t, 20*time.Second, "recovery after Redis restart", func() error {
			if resp, _ := c.get("/lingua"); resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		})
		testenv.WaitFor(t, 5*time.Second, "ready again", readiness(http.StatusOK))
	})
}
