package portal_test

import (
	"net/http"
	"strings"
	"testing"
)

// Every state-changing route of the site, whatever it does, refuses a cross-site request before doing anything.
func TestEveryStateChangingRouteRefusesCrossSite(t *testing.T) {
	e := newEnv(t)
	n := 0
	for _, r := range e.srv.App().GetRoutes(true) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch && r.Method != http.MethodDelete {
			continue
		}
		n++
		path := strings.NewReplacer(":code", "sportello-crema", ":id<int>", "1", ":id", "1", ":slug", "x", ":call<int>", "1", ":category", "anziani").Replace(r.Path)
		for _, h := range []map[string]string{{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}} {
			c := e.client(t)
			for k, v := range h {
				c.headers[k] = v
			}
			resp, _ := c.do(r.Method, path, nil)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s with %v: status %d, want 403", r.Method, path, h, resp.StatusCode)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d state-changing routes found", n)
	}
}
