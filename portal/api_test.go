package portal_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// The API tests check every response they receive against the OpenAPI description the portal serves, with
// kin-openapi: the status must be one the operation documents, the headers and the body must match its schema.
// Requests meant to be valid are checked too, so the description and the handlers cannot drift apart.

// apiSpec is the served description, loaded and validated, with a router that finds a request's operation.
type apiSpec struct {
	doc    *openapi3.T
	router routers.Router
}

func (e *env) apiSpec(t *testing.T) *apiSpec {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://127.0.0.1:8080/api/v1/openapi.json", nil)
	resp, err := e.srv.App().Test(req, 30_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	doc, err := openapi3.NewLoader().LoadFromData(body)
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3 description: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &apiSpec{doc: doc, router: router}
}

// apiClient calls the API with a token ("" for none) and validates what it gets.
type apiClient struct {
	t       *testing.T
	e       *env
	spec    *apiSpec
	token   string
	headers map[string]string // sent with every request
}

func (e *env) apiClient(t *testing.T, spec *apiSpec, token string) *apiClient {
	return &apiClient{t: t, e: e, spec: spec, token: token}
}

func (a *apiClient) get(path string) (*http.Response, []byte) {
	a.t.Helper()
	return a.send("GET", path, "", "", true)
}

func (a *apiClient) postJSON(path, body string) (*http.Response, []byte) {
	a.t.Helper()
	return a.send("POST", path, "application/json", body, true)
}

// send makes one request. validRequest says the request itself must follow the description; a request that is
// wrong on purpose (a bad parameter, a missing reason) still gets its response checked.
func (a *apiClient) send(method, path, contentType, body string, validRequest bool) (*http.Response, []byte) {
	a.t.Helper()
	t := a.t
	req, _ := http.NewRequest(method, "http://127.0.0.1:8080"+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	for k, v := range a.headers {
		req.Header.Set(k, v)
	}
	resp, err := a.e.srv.App().Test(req, 30_000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)

	// The description's server is /api/v1, relative: the router matches on the path.
	routed, _ := http.NewRequest(method, path, strings.NewReader(body))
	routed.Header = req.Header.Clone()
	route, params, err := a.spec.router.FindRoute(routed)
	if err != nil {
		t.Fatalf("%s %s is not in the OpenAPI description: %v", method, path, err)
	}
	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{Request: routed, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	if validRequest {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			t.Fatalf("%s %s: the request does not follow the description: %v", method, path, err)
		}
	}
	err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{RequestValidationInput: in,
		Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(got)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}})
	if err != nil {
		t.Fatalf("%s %s: the %d response does not follow the description: %v\n%s", method, path, resp.StatusCode, err, got)
	}
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s %s: error %d as %q, want application/problem+json", method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("%s %s: Cache-Control %q", method, path, cc)
	}
	return resp, got
}

type apiProblem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// wantProblem checks the status and that the problem document says so, and returns its detail.
func wantProblem(t *testing.T, resp *http.Response, body []byte, status int) string {
	t.Helper()
	var p apiProblem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("%s %s: not a problem document: %s", resp.Request.Method, resp.Request.URL.Path, body)
	}
	if resp.StatusCode != status || p.Status != status || p.Title != http.StatusText(status) || p.Detail == "" {
		t.Fatalf("%s %s: %d %+v, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, p, status)
	}
	return p.Detail
}

func decode[T any](t *testing.T, resp *http.Response, body []byte) T {
	t.Helper()
	wantStatus(t, resp, http.StatusOK)
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return v
}

// apiToken makes a token as the back office does (csc_ and 256 random bits, only the SHA-256 stored), for the
// whole district.
func (e *env) apiToken(t *testing.T, name string, scopes ...string) (string, int64) {
	t.Helper()
	return e.apiTokenIn(t, name, nil, scopes...)
}

// apiTokenIn makes a token limited to some sub-ambiti (nil: the whole district).
func (e *env) apiTokenIn(t *testing.T, name string, subAmbiti []string, scopes ...string) (string, int64) {
	t.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	token := "csc_" + base64.RawURLEncoding.EncodeToString(b)
	hash := sha256.Sum256([]byte(token))
	id, err := e.db.CreateAPIToken(context.Background(), e.seededAdmin(t), storage.NewAPIToken{Name: name, Scopes: scopes,
		SubAmbiti: subAmbiti, Hash: hash[:]}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return token, id
}

// seededAdmin is the demo admin account, as the actor of token changes the test makes behind the pages' back.
func (e *env) seededAdmin(t *testing.T) storage.Actor {
	t.Helper()
	var admin int64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT min(id) FROM staff_users WHERE role = 'admin'`).Scan(&admin); err != nil {
		t.Fatal(err)
	}
	return storage.Actor{StaffID: admin}
}

var allScopes = []string{"applications:read", "documents:read", "status:write"}

// apiCase writes a submitted application of the FNA B2 call straight into the test's database, in status, for an
// applicant of Crema who reads their messages in lang; it returns the application's and the applicant's IDs.
func (e *env) apiCase(t *testing.T, n int, status, lang string) (int64, int64) {
	t.Helper()
	return e.apiCaseIn(t, n, status, lang, "crema")
}

// apiCaseIn is apiCase for an applicant of another comune (its code), in that comune's sub-ambito.
func (e *env) apiCaseIn(t *testing.T, n int, status, lang, comune string) (int64, int64) {
	t.Helper()
	cf := "APICSE" + strconv.Itoa(10+n) + "A01H501U"
	var id, person int64
	err := e.db.Pool.QueryRow(context.Background(), `
		WITH p AS (INSERT INTO people (fiscal_code, given_name, family_name, email, lang)
			VALUES ($1, 'Ana', 'Popescu', lower($1) || '@example.it', $3) RETURNING id)
		INSERT INTO applications (call_id, applicant_id, create_key, form_version, answers, status, protocol,
			submitted_at, beneficiary_cf, comune, sub_ambito, category, taken_at, due_on)
		SELECT (SELECT id FROM calls WHERE measure = 'fna-b2'), p.id, $4, 'fna-b2/2026-v1',
			'{"definition": "fna-b2/2026-v1", "raw": {"iban": ["IT60 X054 2811 1010 0000 0123 456"]},
			  "value": {"iban": ["IT60X0542811101000000123456"], "isee": ["1234567"], "category": ["anziani"]}}',
			$2, next_protocol(2026), now(), $1, c.code, c.sub_ambito, 'anziani',
			CASE WHEN $2 <> 'submitted' THEN now() END, CASE WHEN $2 <> 'submitted' THEN current_date + 30 END
		FROM p, comuni c WHERE c.code = $5 RETURNING id, applicant_id`, cf, status, lang, rand.Text(), comune).Scan(&id, &person)
	if err != nil {
		t.Fatal(err)
	}
	return id, person
}

// apiDraft writes a draft (never listed, never readable through the API).
func (e *env) apiDraft(t *testing.T, applicant int64) int64 {
	t.Helper()
	var id int64
	if err := e.db.Pool.QueryRow(context.Background(), `INSERT INTO applications (call_id, applicant_id, create_key, form_version)
		VALUES ((SELECT id FROM calls WHERE measure = 'misura-unica'), $1, $2, 'misura-unica/2026-v1') RETURNING id`,
		applicant, rand.Text()).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// apiAttachment stores a file in the document store (encrypted, as uploads are) and attaches it.
func (e *env) apiAttachment(t *testing.T, app, applicant int64, name string, content []byte) int64 {
	t.Helper()
	ctx := context.Background()
	key := "f-" + strings.ToLower(rand.Text())
	if err := e.srv.Documents.Put(ctx, key, bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	var id int64
	if err := e.db.Pool.QueryRow(ctx, `INSERT INTO attachments (application_id, doc_type, file_name, content_type, size,
		sha256, storage_key, uploaded_by) VALUES ($1, 'isee_attestation', $2, 'application/pdf', $3, $4, $5, $6) RETURNING id`,
		app, name, len(content), hex.EncodeToString(sum[:]), key, applicant).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// regexpToken finds the token the token page shows once.
var regexpToken = regexp.MustCompile(`<code class="fs-5" id="new-token" dir="ltr">(csc_[A-Za-z0-9_-]{43})</code>`)

func appPath(id int64) string { return "/api/v1/applications/" + strconv.FormatInt(id, 10) }

// auditCount counts the audit lines of an action on an application by a token.
func (e *env) auditCount(t *testing.T, action string, app, token int64) int {
	t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = $1
		AND application_id = $2 AND token_id = $3 AND staff_id IS NULL AND ip IS NOT NULL`, action, app, token).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The description is served, valid OpenAPI 3, and names exactly the API's routes, with the bearer scheme.
func TestAPIDescriptionCoversEveryRoute(t *testing.T) {
	e, _ := newStaffEnv(t)
	spec := e.apiSpec(t)
	if spec.doc.Components.SecuritySchemes["bearerAuth"] == nil || spec.doc.Components.SecuritySchemes["bearerAuth"].Value.Scheme != "bearer" {
		t.Error("no bearer security scheme")
	}
	var inApp []string
	for _, r := range e.srv.App().GetRoutes(true) {
		if strings.HasPrefix(r.Path, "/api/v1/") && r.Method != "HEAD" && !strings.Contains(r.Path, "*") {
			p := strings.TrimPrefix(r.Path, "/api/v1")
			p = strings.NewReplacer(":id", "{id}", ":doc", "{doc}").Replace(p)
			inApp = append(inApp, r.Method+" "+p)
		}
	}
	var inDoc []string
	for path, item := range spec.doc.Paths.Map() {
		for method, op := range item.Operations() {
			inDoc = append(inDoc, method+" "+path)
			if op.Responses.Status(200) == nil {
				t.Errorf("%s %s documents no 200 response", method, path)
			}
			if path != "/openapi.json" && (op.Responses.Status(401) == nil || op.Responses.Status(403) == nil) {
				t.Errorf("%s %s documents no 401 or 403", method, path)
			}
		}
	}
	slices.Sort(inApp)
	slices.Sort(inDoc)
	if !slices.Equal(inApp, inDoc) {
		t.Errorf("routes %v, described %v", inApp, inDoc)
	}
	// an unknown API path is a problem document too, not the portal's HTML page
	req, _ := http.NewRequest("GET", "http://127.0.0.1:8080/api/v1/nothing", nil)
	resp, err := e.srv.App().Test(req, 30_000)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	var p map[string]any
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(body, &p) != nil {
		t.Fatalf("unknown path: %d %s", resp.StatusCode, body)
	}
	if err := spec.doc.Components.Schemas["Problem"].Value.VisitJSON(p); err != nil {
		t.Errorf("unknown path: %v", err)
	}
}

// No token, a malformed one, an unknown one and a revoked one are all 401 with the RFC 6750 challenge; a valid
// token is let in and its use recorded.
func TestAPIAuthentication(t *testing.T) {
	e, _ := newStaffEnv(t)
	spec := e.apiSpec(t)
	token, tokenID := e.apiToken(t, "Contabilità", allScopes...)
	revoked, revokedID := e.apiToken(t, "Vecchio sistema", allScopes...)
	if _, err := e.db.RevokeAPIToken(context.Background(), e.seededAdmin(t), revokedID, time.Now()); err != nil {
		t.Fatal(err)
	}
	unknown := "csc_" + base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	for name, tc := range map[string]struct{ token, challenge string }{
		"no token":      {"", `Bearer realm="csc-api"`},
		"malformed":     {"csc_short", `Bearer realm="csc-api", error="invalid_token"`},
		"other prefix":  {"xyz_" + strings.TrimPrefix(token, "csc_"), `Bearer realm="csc-api", error="invalid_token"`},
		"unknown token": {unknown, `Bearer realm="csc-api", error="invalid_token"`},
		"revoked token": {revoked, `Bearer realm="csc-api", error="invalid_token"`},
	} {
		for _, path := range []string{"/api/v1/applications", appPath(1), appPath(1) + "/documents/1"} {
			resp, body := e.apiClient(t, spec, tc.token).get(path)
			wantProblem(t, resp, body, http.StatusUnauthorized)
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("%s on %s: WWW-Authenticate %q", name, path, got)
			}
		}
		resp, body := e.apiClient(t, spec, tc.token).postJSON(appPath(1)+"/status", `{"status": "paid"}`)
		wantProblem(t, resp, body, http.StatusUnauthorized)
	}
	// Basic is not a scheme the API takes, whatever follows it
	req, _ := http.NewRequest("GET", "http://127.0.0.1:8080/api/v1/applications", nil)
	req.Header.Set("Authorization", "Basic "+token)
	if resp, err := e.srv.App().Test(req, 30_000); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("Basic scheme: %v %v", resp.StatusCode, err)
	}

	resp, body := e.apiClient(t, spec, token).get("/api/v1/applications")
	if list := decode[struct{ Items []any }](t, resp, body); len(list.Items) != 0 {
		t.Errorf("empty district lists %v", list.Items)
	}
	var used *time.Time
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT last_used_at FROM api_tokens WHERE id = $1`, tokenID).Scan(&used); err != nil || used == nil {
		t.Errorf("last use not recorded: %v %v", used, err)
	}
}

// Each operation needs its scope: a token without it is 403, whatever else it may do.
func TestAPIScopesAreEnforced(t *testing.T) {
	e, _ := newStaffEnv(t)
	spec := e.apiSpec(t)
	app, person := e.apiCase(t, 1, "in_review", "it")
	doc := e.apiAttachment(t, app, person, "isee.pdf", pdf("isee"))
	docPath := appPath(app) + "/documents/" + strconv.FormatInt(doc, 10)
	tokens := map[string]string{}
	for _, sc := range allScopes {
		tokens[sc], _ = e.apiToken(t, "solo "+sc, sc)
	}
	calls := []struct {
		scope string
		call  func(c *apiClient) (*http.Response, []byte)
	}{
		{"applications:read", func(c *apiClient) (*http.Response, []byte) { return c.get("/api/v1/applications") }},
		{"applications:read", func(c *apiClient) (*http.Response, []byte) { return c.get(appPath(app)) }},
		{"documents:read", func(c *apiClient) (*http.Response, []byte) { return c.get(docPath) }},
		{"status:write", func(c *apiClient) (*http.Response, []byte) {
			return c.postJSON(appPath(app)+"/status", `{"status": "not_admitted", "reason": "ISEE oltre la soglia"}`)
		}},
	}
	for _, call := range calls {
		for scope, token := range tokens {
			if scope == call.scope {
				continue
			}
			resp, body := call.call(e.apiClient(t, spec, token))
			detail := wantProblem(t, resp, body, http.StatusForbidden)
			if !strings.Contains(detail, call.scope) || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope", scope="`+call.scope+`"`) {
				t.Errorf("%s with %s: %q, %q", resp.Request.URL.Path, scope, detail, resp.Header.Get("WWW-Authenticate"))
			}
		}
	}
	var status string
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT status FROM applications WHERE id = $1`, app).Scan(&status); err != nil || status != "in_review" {
		t.Errorf("a refused request changed the status to %s (%v)", status, err)
	}
	var audited int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE application_id = $1`, app).Scan(&audited); err != nil || audited != 0 {
		t.Errorf("refused requests audited: %d (%v)", audited, err)
	}
	// a browser's cross-site write is refused before anything, token or not, as everywhere on the site
	crossSite := e.apiClient(t, spec, tokens["status:write"])
	crossSite.headers = map[string]string{"Sec-Fetch-Site": "cross-site"}
	resp, body := crossSite.postJSON(appPath(app)+"/status", `{"status": "not_admitted", "reason": "ISEE oltre la soglia"}`)
	wantProblem(t, resp, body, http.StatusForbidden)
	// with the scope, each call goes through
	for _, call := range calls {
		resp, _ := call.call(e.apiClient(t, spec, tokens[call.scope]))
		wantStatus(t, resp, http.StatusOK)
	}
}

// The list walks every submitted application exactly once, page by page, and never a draft; filters narrow it;
// malformed parameters are 400.
func TestAPIListPagination(t *testing.T) {
	e, _ := newStaffEnv(t)
	spec := e.apiSpec(t)
	token, _ := e.apiToken(t, "Cartella sociale", "applications:read")
	c := e.apiClient(t, spec, token)
	var submitted []int64
	statuses := []string{"submitted", "in_review", "paid", "submitted", "not_admitted", "admitted_funded", "submitted"}
	for i, st := range statuses {
		id, person := e.apiCase(t, i, st, "it")
		submitted = append(submitted, id)
		if i%3 == 0 {
			e.apiDraft(t, person)
		}
	}
	slices.Sort(submitted)

	type page struct {
		Items []struct {
			ID       int64  `json:"id"`
			Status   string `json:"status"`
			Protocol string `json:"protocol"`
		} `json:"items"`
		Next *string `json:"next"`
	}
	var seen []int64
	path := "/api/v1/applications?limit=3"
	pages := 0
	for {
		resp, body := c.get(path)
		p := decode[page](t, resp, body)
		pages++
		for _, it := range p.Items {
			seen = append(seen, it.ID)
			if it.Status == "draft" || it.Protocol == "" {
				t.Errorf("listed %+v", it)
			}
		}
		if p.Next == nil {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		path = "/api/v1/applications?limit=3&after=" + url.QueryEscape(*p.Next)
	}
	if pages != 3 || !slices.Equal(seen, submitted) {
		t.Errorf("%d pages with %v, want 3 pages with %v", pages, seen, submitted)
	}

	ids := func(query string) []int64 {
		t.Helper()
		resp, body := c.get("/api/v1/applications?" + query)
		var out []int64
		for _, it := range decode[page](t, resp, body).Items {
			out = append(out, it.ID)
		}
		return out
	}
	var call int64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT id FROM calls WHERE measure = 'fna-b2'`).Scan(&call); err != nil {
		t.Fatal(err)
	}
	if got := ids("status=submitted"); !slices.Equal(got, []int64{submitted[0], submitted[3], submitted[6]}) {
		t.Errorf("status=submitted: %v", got)
	}
	if got := ids("measure=misura-unica"); len(got) != 0 {
		t.Errorf("measure=misura-unica lists drafts or others: %v", got)
	}
	if got := ids("call_id=" + strconv.FormatInt(call, 10) + "&measure=fna-b2"); !slices.Equal(got, submitted) {
		t.Errorf("call_id: %v", got)
	}
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE applications SET updated_at = now() - interval '10 days'
		WHERE id <> $1`, submitted[2]); err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-24 * time.Hour).Format(time.RFC3339)
	if got := ids("updated_since=" + url.QueryEscape(since)); !slices.Equal(got, []int64{submitted[2]}) {
		t.Errorf("updated_since: %v", got)
	}

	for _, query := range []string{"limit=0", "limit=201", "limit=tre", "status=draft", "measure=pensione", "call_id=x",
		"updated_since=ieri", "after=%21%21", "after=" + base64.RawURLEncoding.EncodeToString([]byte("id:1"))} {
		resp, body := c.send("GET", "/api/v1/applications?"+query, "", "", false)
		wantProblem(t, resp, body, http.StatusBadRequest)
	}
}

// apiApplication is what the tests read of an application.
type apiApplication struct {
	ID          int64               `json:"id"`
	Protocol    string              `json:"protocol"`
	Status      string              `json:"status"`
	Measure     string              `json:"measure"`
	Category    string              `json:"category"`
	SubAmbito   string              `json:"sub_ambito"`
	ComuneName  string              `json:"comune_name"`
	Answers     map[string][]string `json:"answers"`
	Amount      *json.RawMessage    `json:"amount"`
	Timeline    []struct{ Kind string }
	Attachments []struct {
		ID       int64  `json:"id"`
		FileName string `json:"file_name"`
		Size     int    `json:"size"`
		SHA256   string `json:"sha256"`
		URL      string `json:"url"`
	}
}

// An application reads whole — answers, timeline, files — and a file downloads as the bytes uploaded; both reads
// are audited with the token. A file reached through another application, a draft and an unknown ID are 404.
func TestAPIReadApplicationAndDocument(t *testing.T) {
	e, _ := newStaffEnv(t)
	spec := e.apiSpec(t)
	token, tokenID := e.apiToken(t, "Cartella sociale", "applications:read", "documents:read")
	c := e.apiClient(t, spec, token)
	app, person := e.apiCase(t, 1, "submitted", "ro")
	other, otherPerson := e.apiCase(t, 2, "submitted", "it")
	content := pdf("attestazione ISEE di Ana")
	doc := e.apiAttachment(t, app, person, "ISEE 2026.pdf", content)
	otherDoc := e.apiAttachment(t, other, otherPerson, "altro.pdf", pdf("altro"))
	draft := e.apiDraft(t, person)
	if _, err := e.db.Pool.Exec(context.Background(), `INSERT INTO application_events (application_id, kind) VALUES ($1, 'submitted')`, app); err != nil {
		t.Fatal(err)
	}

	resp, body := c.get(appPath(app))
	a := decode[apiApplication](t, resp, body)
	sum := sha256.Sum256(content)
	if a.ID != app || !strings.HasPrefix(a.Protocol, "CSC-2026-") || a.Status != "submitted" || a.Measure != "fna-b2" ||
		a.Category != "anziani" || a.SubAmbito != "crema" || a.ComuneName != "Crema" || a.Amount != nil {
		t.Errorf("application %+v", a)
	}
	if !slices.Equal(a.Answers["iban"], []string{"IT60X0542811101000000123456"}) || len(a.Timeline) != 1 || a.Timeline[0].Kind != "submitted" {
		t.Errorf("answers %v, timeline %v", a.Answers, a.Timeline)
	}
	if len(a.Attachments) != 1 || a.Attachments[0].ID != doc || a.Attachments[0].FileName != "ISEE 2026.pdf" ||
		a.Attachments[0].Size != len(content) || a.Attachments[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("attachments %+v", a.Attachments)
	}
	if n := e.auditCount(t, "application.read", app, tokenID); n != 1 {
		t.Errorf("%d audit lines for the read", n)
	}

	resp, body = c.get(a.Attachments[0].URL)
	wantStatus(t, resp, http.StatusOK)
	if !bytes.Equal(body, content) || resp.Header.Get("Content-Type") != "application/pdf" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("download: %q %q %q, %d bytes", resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"),
			resp.Header.Get("X-Content-Type-Options"), len(body))
	}
	var audited int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'document.read'
		AND application_id = $1 AND attachment_id = $2 AND token_id = $3`, app, doc, tokenID).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("%d audit lines for the download (%v)", audited, err)
	}

	for _, path := range []string{
		appPath(app) + "/documents/" + strconv.FormatInt(otherDoc, 10), // another application's file
		appPath(other) + "/documents/" + strconv.FormatInt(doc, 10),
		appPath(draft) + "/documents/" + strconv.FormatInt(doc, 10),
		appPath(app+1000) + "/documents/" + strconv.FormatInt(doc, 10),
		appPath(draft), appPath(app + 1000),
	} {
		resp, body := c.get(path)
		wantProblem(t, resp, body, http.StatusNotFound)
	}
	resp, body = c.send("GET", "/api/v1/applications/abc", "", "", false)
	wantProblem(t, resp, body, http.StatusNotFound)
	if n := e.auditCount(t, "document.read", other, tokenID); n != 0 {
		t.Errorf("a refused download was audited")
	}
}

// Status changes follow the workflow: a legal one writes the decision, the timeline event, the audit line with
// the token and the applicant's notification in one go; an illegal one is 409 and changes nothing; a refusal
// without a reason is 422.
func TestAPIStatusChanges(t *testing.T) {
	e, clk := newStaffEnv(t)
	spec := e.apiSpec(t)
	token, tokenID := e.apiToken(t, "Valutazione", "status:write")
	c := e.apiClient(t, spec, token)
	ctx := context.Background()
	submitted, _ := e.apiCase(t, 1, "submitted", "it")
	refused, refusedPerson := e.apiCase(t, 2, "in_review", "ro")
	admitted, _ := e.apiCase(t, 3, "in_review", "ar")
	funded, _ := e.apiCase(t, 4, "admitted_funded", "en")

	type snapshot struct {
		Status        string
		Events, Audit int
		Notifications int
	}
	state := func(id int64) snapshot {
		t.Helper()
		var s snapshot
		if err := e.db.Pool.QueryRow(ctx, `SELECT a.status,
			(SELECT count(*) FROM application_events WHERE application_id = a.id),
			(SELECT count(*) FROM audit_log WHERE application_id = a.id),
			(SELECT count(*) FROM notifications WHERE person_id = a.applicant_id)
			FROM applications a WHERE a.id = $1`, id).Scan(&s.Status, &s.Events, &s.Audit, &s.Notifications); err != nil {
			t.Fatal(err)
		}
		return s
	}

	// refused by the workflow, the body or the content type: nothing changes
	before := state(submitted)
	resp, body := c.postJSON(appPath(submitted)+"/status", `{"status": "paid"}`)
	if detail := wantProblem(t, resp, body, http.StatusConflict); detail != "cannot move from submitted to paid" {
		t.Errorf("detail %q", detail)
	}
	resp, body = c.postJSON(appPath(submitted)+"/status", `{"status": "admitted"}`)
	wantProblem(t, resp, body, http.StatusConflict)
	for _, bad := range []struct {
		contentType, body string
		status            int
	}{
		{"application/json", `{"status": "in_review"}`, http.StatusUnprocessableEntity},
		{"application/json", `{"status": "draft"}`, http.StatusUnprocessableEntity},
		{"application/json", `{"status": "paid", "reason": "bonifico"}`, http.StatusUnprocessableEntity},
		{"application/json", `{"status": "paid", "extra": 1}`, http.StatusBadRequest},
		{"application/json", `{"status": `, http.StatusBadRequest},
		{"application/json", `{"status": "paid"} {}`, http.StatusBadRequest},
		{"text/plain", `{"status": "paid"}`, http.StatusUnsupportedMediaType},
	} {
		resp, body := c.send("POST", appPath(submitted)+"/status", bad.contentType, bad.body, false)
		wantProblem(t, resp, body, bad.status)
	}
	if after := state(submitted); after != before {
		t.Errorf("refused changes changed %+v into %+v", before, after)
	}

	before = state(refused)
	for _, reason := range []string{"", "   "} {
		resp, body = c.send("POST", appPath(refused)+"/status", "application/json",
			`{"status": "not_admitted", "reason": "`+reason+`"}`, reason != "")
		if detail := wantProblem(t, resp, body, http.StatusUnprocessableEntity); !strings.Contains(detail, "reason") {
			t.Errorf("detail %q", detail)
		}
	}
	resp, body = c.send("POST", appPath(refused)+"/status", "application/json",
		`{"status": "not_admitted", "reason": "`+strings.Repeat("x", 2001)+`"}`, false)
	wantProblem(t, resp, body, http.StatusUnprocessableEntity)
	if after := state(refused); after != before {
		t.Errorf("a refusal without reason changed %+v into %+v", before, after)
	}
	resp, body = c.postJSON(appPath(refused+1000)+"/status", `{"status": "paid"}`)
	wantProblem(t, resp, body, http.StatusNotFound)

	type result struct {
		Status         string           `json:"status"`
		DecidedAt      *time.Time       `json:"decided_at"`
		DecisionReason string           `json:"decision_reason"`
		Amount         *json.RawMessage `json:"amount"`
		Timeline       []struct {
			Kind string            `json:"kind"`
			Data map[string]string `json:"data"`
		} `json:"timeline"`
	}
	// not admitted, with the reason
	resp, body = c.postJSON(appPath(refused)+"/status", `{"status": "not_admitted", "reason": "ISEE oltre la soglia"}`)
	r := decode[result](t, resp, body)
	last := r.Timeline[len(r.Timeline)-1]
	if r.Status != "not_admitted" || r.DecidedAt == nil || !r.DecidedAt.Equal(clk.now()) || r.DecisionReason != "ISEE oltre la soglia" ||
		r.Amount != nil || last.Kind != "decision" || last.Data["outcome"] != "not_admitted" {
		t.Errorf("not admitted: %+v", r)
	}
	var audit map[string]string
	if err := e.db.Pool.QueryRow(ctx, `SELECT detail FROM audit_log WHERE action = 'application.status' AND application_id = $1
		AND token_id = $2 AND staff_id IS NULL`, refused, tokenID).Scan(&audit); err != nil {
		t.Fatalf("no audit line with the token: %v", err)
	}
	if audit["from"] != "in_review" || audit["to"] != "not_admitted" {
		t.Errorf("audit detail %v", audit)
	}
	var kinds, langs []string
	if err := e.db.Pool.QueryRow(ctx, `SELECT array_agg(DISTINCT kind), array_agg(DISTINCT lang) FROM notifications
		WHERE person_id = $1`, refusedPerson).Scan(&kinds, &langs); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kinds, []string{"case_news"}) || !slices.Equal(langs, []string{"ro"}) {
		t.Errorf("notifications %v in %v, want case_news in ro", kinds, langs)
	}
	if s := state(refused); s.Notifications != 2 { // in the portal and by e-mail
		t.Errorf("%d notification rows", s.Notifications)
	}
	resp, body = c.postJSON(appPath(refused)+"/status", `{"status": "not_admitted", "reason": "di nuovo"}`)
	if detail := wantProblem(t, resp, body, http.StatusConflict); detail != "cannot move from not_admitted to not_admitted" {
		t.Errorf("detail %q", detail)
	}

	// admitted: the call's amount for the category. A call without one cannot admit; with €400 a month for
	// 12 months (the demo call's):
	if _, err := e.db.Pool.Exec(ctx, `UPDATE calls SET amounts = '{}' WHERE measure = 'fna-b2'`); err != nil {
		t.Fatal(err)
	}
	before = state(admitted)
	resp, body = c.postJSON(appPath(admitted)+"/status", `{"status": "admitted"}`)
	if detail := wantProblem(t, resp, body, http.StatusConflict); !strings.Contains(detail, "amount") {
		t.Errorf("detail %q", detail)
	}
	if after := state(admitted); after != before {
		t.Errorf("admitting without an amount changed %+v into %+v", before, after)
	}
	if _, err := e.db.Pool.Exec(ctx, `UPDATE calls SET amounts = '{"all": {"cents": 40000, "period": "month", "months": 12}}'
		WHERE measure = 'fna-b2'`); err != nil {
		t.Fatal(err)
	}
	resp, body = c.postJSON(appPath(admitted)+"/status", `{"status": "admitted"}`)
	r = decode[result](t, resp, body)
	var raw map[string]any
	if r.Amount == nil || json.Unmarshal(*r.Amount, &raw) != nil {
		t.Fatalf("admitted without an amount: %s", body)
	}
	if r.Status != "admitted" || r.DecidedAt == nil || raw["cents"] != float64(40000) || raw["period"] != "month" ||
		raw["months"] != float64(12) || raw["total_cents"] != float64(480000) || r.Timeline[len(r.Timeline)-1].Data["outcome"] != "admitted" {
		t.Errorf("admitted: %+v %v", r, raw)
	}

	// paid
	resp, body = c.postJSON(appPath(funded)+"/status", `{"status": "paid"}`)
	r = decode[result](t, resp, body)
	if r.Status != "paid" || r.Timeline[len(r.Timeline)-1].Kind != "paid" {
		t.Errorf("paid: %+v", r)
	}
	if e.auditCount(t, "application.status", funded, tokenID) != 1 || e.auditCount(t, "application.status", admitted, tokenID) != 1 {
		t.Error("status changes not audited with the token")
	}
	if state(funded).Notifications != 2 || state(admitted).Notifications != 2 {
		t.Error("applicants not told")
	}
}

// A token limited to the Crema sub-ambito lists, reads, downloads and decides Crema's applications only: a Pandino
// application is 404 on every operation, exactly like one that does not exist, and stays as it was, unread in the
// audit log. A district-wide token still sees both.
func TestAPITokenLimitedToSubAmbiti(t *testing.T) {
	e, _ := newStaffEnv(t)
	spec := e.apiSpec(t)
	ctx := context.Background()
	crema, cremaPerson := e.apiCaseIn(t, 1, "in_review", "it", "crema")
	pandino, pandinoPerson := e.apiCaseIn(t, 2, "in_review", "it", "pandino")
	cremaDoc := e.apiAttachment(t, crema, cremaPerson, "isee.pdf", pdf("isee crema"))
	pandinoDoc := e.apiAttachment(t, pandino, pandinoPerson, "isee.pdf", pdf("isee pandino"))
	limitedToken, limitedID := e.apiTokenIn(t, "Sportello Crema", []string{"crema"}, allScopes...)
	districtToken, _ := e.apiToken(t, "Contabilità", allScopes...)
	limited, district := e.apiClient(t, spec, limitedToken), e.apiClient(t, spec, districtToken)

	listed := func(c *apiClient) []int64 {
		t.Helper()
		resp, body := c.get("/api/v1/applications")
		var out []int64
		for _, it := range decode[struct{ Items []struct{ ID int64 } }](t, resp, body).Items {
			out = append(out, it.ID)
		}
		return out
	}
	if got := listed(limited); !slices.Equal(got, []int64{crema}) {
		t.Errorf("the Crema token lists %v, want only %d", got, crema)
	}
	if got := listed(district); !slices.Equal(got, []int64{crema, pandino}) {
		t.Errorf("the district token lists %v, want %d and %d", got, crema, pandino)
	}

	type snapshot struct {
		Status        string
		Events, Audit int
	}
	state := func(id int64) snapshot {
		t.Helper()
		var s snapshot
		if err := e.db.Pool.QueryRow(ctx, `SELECT a.status,
			(SELECT count(*) FROM application_events WHERE application_id = a.id),
			(SELECT count(*) FROM audit_log WHERE application_id = a.id)
			FROM applications a WHERE a.id = $1`, id).Scan(&s.Status, &s.Events, &s.Audit); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := state(pandino)
	docPath := func(app, doc int64) string { return appPath(app) + "/documents/" + strconv.FormatInt(doc, 10) }
	outside := []func() (*http.Response, []byte){
		func() (*http.Response, []byte) { return limited.get(appPath(pandino)) },
		func() (*http.Response, []byte) { return limited.get(docPath(pandino, pandinoDoc)) },
		func() (*http.Response, []byte) {
			return limited.postJSON(appPath(pandino)+"/status", `{"status": "not_admitted", "reason": "ISEE oltre la soglia"}`)
		},
	}
	// what an application that does not exist gets, word for word
	resp, body := limited.get(appPath(pandino + 1000))
	missing := wantProblem(t, resp, body, http.StatusNotFound)
	for _, call := range outside {
		resp, body := call()
		if detail := wantProblem(t, resp, body, http.StatusNotFound); detail != missing {
			t.Errorf("%s %s: %q, want %q as for a missing application", resp.Request.Method, resp.Request.URL.Path, detail, missing)
		}
	}
	if after := state(pandino); after != before {
		t.Errorf("refused requests changed the Pandino application: %+v into %+v", before, after)
	}
	if n := e.auditCount(t, "application.read", pandino, limitedID) + e.auditCount(t, "document.read", pandino, limitedID); n != 0 {
		t.Errorf("%d audit lines for refused reads", n)
	}

	// inside its sub-ambito, the token works as any other
	resp, body = limited.get(appPath(crema))
	if a := decode[apiApplication](t, resp, body); a.ID != crema || a.SubAmbito != "crema" {
		t.Errorf("read of the Crema application: %+v", a)
	}
	resp, _ = limited.get(docPath(crema, cremaDoc))
	wantStatus(t, resp, http.StatusOK)
	resp, body = limited.postJSON(appPath(crema)+"/status", `{"status": "not_admitted", "reason": "ISEE oltre la soglia"}`)
	if a := decode[apiApplication](t, resp, body); a.Status != "not_admitted" {
		t.Errorf("status of the Crema application: %s", a.Status)
	}
	// and the district-wide token reaches Pandino
	resp, _ = district.get(docPath(pandino, pandinoDoc))
	wantStatus(t, resp, http.StatusOK)
	resp, body = district.postJSON(appPath(pandino)+"/status", `{"status": "not_admitted", "reason": "ISEE oltre la soglia"}`)
	if a := decode[apiApplication](t, resp, body); a.Status != "not_admitted" || a.SubAmbito != "pandino" {
		t.Errorf("the district token on Pandino: %+v", a)
	}
}

// Only admins reach the token page. A new token is shown once and only its SHA-256 is stored; it works on the
// API until revoked. Mistakes are explained in the user's language and keep what was typed.
func TestAPITokenPage(t *testing.T) {
	e, clk := newStaffEnv(t)
	spec := e.apiSpec(t)
	for role, scopes := range map[string][]string{"operatore": {"crema"}, "coordinatore": nil} {
		c := e.signIn(t, clk, e.newStaff(t, "api."+role, role, scopes...))
		for _, req := range []struct{ method, path string }{{"GET", "/backoffice/api"}, {"POST", "/backoffice/api"}, {"POST", "/backoffice/api/1/revoca"}} {
			resp, _ := c.do(req.method, req.path, url.Values{"name": {"x"}, "scope": {"applications:read"}})
			wantStatus(t, resp, http.StatusForbidden)
		}
		if _, body := c.get("/backoffice"); strings.Contains(body, `href="/backoffice/api"`) {
			t.Errorf("%s sees the API link", role)
		}
	}
	var tokens int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM api_tokens`).Scan(&tokens); err != nil || tokens != 0 {
		t.Fatalf("tokens made by non-admins: %d (%v)", tokens, err)
	}

	admin := e.newStaff(t, "api.admin", "admin")
	c := e.signIn(t, clk, admin)
	_, body := c.get("/backoffice")
	wantContains(t, body, `href="/backoffice/api"`)
	resp, body := c.get("/backoffice/api")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "API per i sistemi del Distretto", "Non ci sono ancora chiavi.", `href="/api/v1/openapi.json"`)

	// no scope: 422, the name kept, the message in the user's language
	c.headers["Accept-Language"] = "en"
	resp, body = c.post("/backoffice/api", "name", "  Contabilità   CSC ")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `value="Contabilità CSC"`, "Choose at least one permission.", `aria-describedby="scope-error"`)
	c.headers["Accept-Language"] = "it"
	resp, body = c.post("/backoffice/api", "name", "", "scope", "documents:read")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Scrivi un nome di al massimo 100 caratteri.", `aria-invalid="true"`, `value="documents:read" aria-describedby="scope-documents:read-hint" checked`)
	resp, _ = c.post("/backoffice/api", "name", "x", "scope", "applications:write")
	wantStatus(t, resp, http.StatusBadRequest)
	// a sub-ambito that does not exist: 422, explained, the name and the valid ticks kept
	resp, body = c.post("/backoffice/api", "name", "Sportello Crema", "scope", "applications:read", "sub_ambito", "crema",
		"sub_ambito", "cremona")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, `value="Sportello Crema"`, "Scegli i sub-ambiti dall&#39;elenco.", `id="sub-ambito-error"`,
		`aria-describedby="sub-ambito-hint sub-ambito-error"`, `id="sub-ambito-crema" value="crema" checked`)
	if strings.Contains(body, `id="sub-ambito-pandino" value="pandino" checked`) {
		t.Error("an unticked sub-ambito came back ticked")
	}

	resp, body = c.get("/backoffice/api")
	wantContains(t, body, "Territorio", "Se non ne spunti nessuno, la chiave vale per tutto il Distretto.",
		`<label class="form-check-label" for="sub-ambito-pandino">Pandino</label>`)
	// limited to two sub-ambiti: stored, and the list names them
	resp, _ = c.post("/backoffice/api", "name", "Sportello Crema", "scope", "applications:read", "sub_ambito", "bagnolo-cremasco",
		"sub_ambito", "crema", "sub_ambito", "crema")
	wantRedirect(t, resp, "/backoffice/api")
	var subs []string
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT sub_ambiti FROM api_tokens WHERE name = 'Sportello Crema'`).Scan(&subs); err != nil ||
		!slices.Equal(subs, []string{"crema", "bagnolo-cremasco"}) { // each once, in the district's order
		t.Errorf("stored sub-ambiti %v (%v)", subs, err)
	}
	_, body = c.get("/backoffice/api")
	wantContains(t, body, "<dt>Territorio</dt>\n<dd>Crema, Bagnolo Cremasco</dd>")

	resp, _ = c.post("/backoffice/api", "name", "Contabilità CSC", "scope", "applications:read", "scope", "documents:read")
	wantRedirect(t, resp, "/backoffice/api")
	_, body = c.get("/backoffice/api")
	m := regexpToken.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("token not shown:\n%s", body)
	}
	token := m[1]
	wantContains(t, body, "Chiave creata.", "Contabilità CSC", "Leggere le pratiche", "Mai usata", "<dd>Tutto il Distretto</dd>")
	if _, again := c.get("/backoffice/api"); strings.Contains(again, token) || strings.Contains(again, `id="new-token"`) {
		t.Error("the token is shown a second time")
	}
	var stored []byte
	var id int64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT id, token_hash FROM api_tokens WHERE name = 'Contabilità CSC'`).Scan(&id, &stored); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(token)); !bytes.Equal(stored, sum[:]) {
		t.Error("the stored hash is not the token's SHA-256")
	}
	var leaks int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM api_tokens t WHERE strpos(t::text, $1) > 0`,
		token[4:20]).Scan(&leaks); err != nil || leaks != 0 {
		t.Errorf("the token is stored in clear: %d (%v)", leaks, err)
	}
	api := e.apiClient(t, spec, token)
	resp, _ = api.get("/api/v1/applications")
	wantStatus(t, resp, http.StatusOK)
	resp, body2 := api.postJSON(appPath(1)+"/status", `{"status": "paid"}`)
	wantProblem(t, resp, body2, http.StatusForbidden) // not ticked

	// the same name again: 422, kept
	resp, body = c.post("/backoffice/api", "name", "Contabilità CSC", "scope", "status:write")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Esiste già una chiave con questo nome", `value="Contabilità CSC"`)

	// revoked: the list says so and the API refuses the token at once
	resp, _ = c.post("/backoffice/api/" + strconv.FormatInt(id, 10) + "/revoca")
	wantRedirect(t, resp, "/backoffice/api")
	_, body = c.get("/backoffice/api")
	wantContains(t, body, "Chiave revocata", "Revocata il ")
	if strings.Contains(body, `action="/backoffice/api/`+strconv.FormatInt(id, 10)+`/revoca"`) {
		t.Error("a revoked token still has a revoke button")
	}
	resp, body2 = api.get("/api/v1/applications")
	wantProblem(t, resp, body2, http.StatusUnauthorized)
	resp, _ = c.post("/backoffice/api/999999/revoca")
	wantStatus(t, resp, http.StatusNotFound)
	var audited int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE staff_id = $1
		AND action IN ('api_token.create', 'api_token.revoke')`, admin.id).Scan(&audited); err != nil || audited != 3 {
		t.Errorf("%d audit lines for creating and revoking (%v)", audited, err)
	}
}
