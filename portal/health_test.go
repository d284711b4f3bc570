package portal_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/comunitasocialecremasca/smartservices/assets"
)

func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	resp, body := c.get("/healthz")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "ok")
	resp, body = c.get("/readyz")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `"ready":true`)
	c.get("/sedi")
	// app.Test connects from 0.0.0.0, outside the default loopback allow list.
	resp, _ = c.get("/metrics")
	wantStatus(t, resp, http.StatusNotFound)

	open := newEnv(t, withVar("METRICS_ALLOW", "0.0.0.0/32"))
	oc := open.client(t)
	oc.get("/sedi")
	resp, body = oc.get("/metrics")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `portal_http_requests_total{method="GET",route="/sedi",status="200"} 1`,
		"portal_http_request_duration_seconds_bucket", "go_goroutines")
}

func TestAssetsAreCachedByChecksum(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	_, page := c.get("/")
	css := assets.URL("css/portal.css")
	if !strings.Contains(page, css) {
		t.Fatalf("home does not link %s", css)
	}
	c.headers["Accept-Encoding"] = "gzip"
	resp, body := c.get(css)
	wantStatus(t, resp, http.StatusOK)
	if resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("cache-control %q", resp.Header.Get("Cache-Control"))
	}
	if resp.Header.Get("Content-Encoding") != "gzip" || len(body) == 0 {
		t.Errorf("css not served gzipped")
	}
	c.headers["If-None-Match"] = resp.Header.Get("ETag")
	resp, _ = c.get(css)
	wantStatus(t, resp, http.StatusNotModified)
	delete(c.headers, "If-None-Match")
	resp, _ = c.get("/favicon.ico")
	wantStatus(t, resp, http.StatusMovedPermanently)
	if resp.Header.Get("Location") != assets.URL("favicon.svg") {
		t.Errorf("favicon redirect to %q", resp.Header.Get("Location"))
	}
	for _, f := range assets.Files() {
		resp, _ := c.get(f.URL)
		wantStatus(t, resp, http.StatusOK)
	}
}
