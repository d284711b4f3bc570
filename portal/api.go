package portal

import (
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// The JSON API of the district's other systems (accounting, the social-record platform). Each system has its own
// token, made by an admin on /backoffice/api with the scopes it needs; only the token's SHA-256 is stored, so a
// copy of the database opens nothing. Requests carry no session and no cookie, so there is no cross-site request
// to forge; errors are RFC 9457 problem documents in English, for programs rather than people. A token sees the
// whole district or, if the admin limited it, the applications of some sub-ambiti only: every query takes its
// scope, so an application outside is 404 exactly like one that does not exist. Every read of an application or
// a document and every change is in the audit log, with the token. api/openapi.json describes it all, and the
// tests validate every response against it.

const apiPrefix = "/api/v1"

// openAPIDocument is the API's OpenAPI 3 description, served on /api/v1/openapi.json.
//
//go:embed api/openapi.json
var openAPIDocument []byte

// apiTokenPrefix makes a token recognisable in a configuration file or a secret scanner.
const apiTokenPrefix = "csc_"

// newAPIToken returns a new token (256 random bits, base64url) and the SHA-256 that is stored instead of it.
func newAPIToken() (string, []byte) {
	b := make([]byte, 32)
	rand.Read(b) //nolint:errcheck // never fails on Linux
	token := apiTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashAPIToken(token)
}

func hashAPIToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// wellFormedAPIToken reports whether s has a token's shape, so junk never reaches the database.
func wellFormedAPIToken(s string) bool {
	v, ok := strings.CutPrefix(s, apiTokenPrefix)
	if !ok || len(v) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}

// apiError is an API refusal: an HTTP status and a detail that says what to change, in English.
type apiError struct {
	Status int
	Detail string
	Cause  error // for the log only
}

func (e *apiError) Error() string { return strconv.Itoa(e.Status) + " " + e.Detail }
func (e *apiError) Unwrap() error { return e.Cause }

func apiErr(status int, detail string) error { return &apiError{Status: status, Detail: detail} }

// apiProblem is an RFC 9457 problem document.
type apiProblem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// apiProblems turns every error of an API route into a problem document (the portal's error pages are HTML for
// people), and keeps every API response out of caches: they carry personal data.
func (s *Server) apiProblems(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	err := c.Next()
	if err == nil {
		return nil
	}
	var ae *apiError
	if !errors.As(err, &ae) {
		e := classify(err)
		ae = &apiError{Status: e.Status, Detail: strings.ToLower(http.StatusText(e.Status)), Cause: err}
		switch e.Status {
		case fiber.StatusNotFound:
			ae.Detail = "no such resource"
		case fiber.StatusForbidden:
			ae.Detail = "cross-site requests from browsers are refused"
		case fiber.StatusRequestEntityTooLarge:
			ae.Detail = "the request body is too large"
		case fiber.StatusServiceUnavailable:
			ae.Detail = "the service is temporarily unavailable: retry later"
			c.Set(fiber.HeaderRetryAfter, "30")
		case fiber.StatusInternalServerError:
			ae.Detail = "internal error; quote the X-Request-ID header when reporting it"
		}
	}
	rid := c.GetRespHeader("X-Request-ID")
	switch {
	case ae.Status >= 500:
		s.Log.Error("api request failed", "status", ae.Status, "route", c.Route().Path, "request_id", rid, "err", err)
	case ae.Cause != nil && ae.Status != fiber.StatusNotFound:
		s.Log.Warn("api request refused", "status", ae.Status, "route", c.Route().Path, "request_id", rid, "err", err)
	}
	c.Response().ResetBody()
	c.Status(ae.Status)
	body, jerr := c.App().Config().JSONEncoder(apiProblem{Type: "about:blank", Title: http.StatusText(ae.Status),
		Status: ae.Status, Detail: ae.Detail})
	if jerr != nil {
		return jerr
	}
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Send(body)
}

// apiNotFound answers API paths that do not exist, as a problem document rather than the portal's HTML page.
func (s *Server) apiNotFound(c *fiber.Ctx) error {
	return apiErr(fiber.StatusNotFound, "no such endpoint: see "+apiPrefix+"/openapi.json")
}

// localAPIToken is the Locals key of the request's storage.APIToken.
const localAPIToken = "portal.api_token"

// apiAuth lets through a request with an active token (Authorization: Bearer csc_…), noting its use; anything
// else is 401 with the WWW-Authenticate challenge of RFC 6750.
func (s *Server) apiAuth(c *fiber.Ctx) error {
	scheme, token, _ := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	token = strings.TrimSpace(token)
	if token == "" || !strings.EqualFold(scheme, "Bearer") {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="csc-api"`)
		return apiErr(fiber.StatusUnauthorized, "send a token in the Authorization header: Bearer csc_…")
	}
	invalid := func(cause error) error {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="csc-api", error="invalid_token"`)
		return &apiError{Status: fiber.StatusUnauthorized, Detail: "the token is unknown or revoked", Cause: cause}
	}
	if !wellFormedAPIToken(token) {
		return invalid(nil)
	}
	tok, err := s.DB.UseAPIToken(c.UserContext(), hashAPIToken(token), s.now())
	if errors.Is(err, storage.ErrNotFound) {
		return invalid(nil)
	}
	if err != nil {
		return err
	}
	c.Locals(localAPIToken, &tok)
	return c.Next()
}

// requireAPIScope lets through a token that has scope; another is 403.
func requireAPIScope(scope string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !slices.Contains(currentAPIToken(c).Scopes, scope) {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="csc-api", error="insufficient_scope", scope="`+scope+`"`)
			return apiErr(fiber.StatusForbidden, "this token lacks the scope "+scope+": ask an administrator for a token that has it")
		}
		return c.Next()
	}
}

// currentAPIToken is the request's token, on routes behind apiAuth.
func currentAPIToken(c *fiber.Ctx) *storage.APIToken {
	t, _ := c.Locals(localAPIToken).(*storage.APIToken)
	return t
}

// apiActor is the token, for the audit log, with the address the request came from.
func apiActor(c *fiber.Ctx) storage.Actor {
	return storage.Actor{TokenID: currentAPIToken(c).ID, IP: clientAddr(c)}
}

// apiScope is what the request's token sees: the whole district or its sub-ambiti.
func apiScope(c *fiber.Ctx) storage.Scope {
	return currentAPIToken(c).Scope()
}

// apiRoute puts the API's middleware, and the scope the route needs, before a handler. A token is never sent by a
// browser on its own, so there is nothing to forge; the site-wide refusal of cross-site writes (which programs
// never trigger: they send no Sec-Fetch-Site) stays anyway, so that rule has no exception to remember.
func (s *Server) apiRoute(scope string, h fiber.Handler) []fiber.Handler {
	return []fiber.Handler{s.apiProblems, s.limitBody, s.timeout, s.crossOriginMiddleware, s.apiAuth,
		requireAPIScope(scope), h}
}

// showOpenAPI serves the API's description; it is public, like the API's existence.
func (s *Server) showOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(openAPIDocument)
}

// apiID reads a numeric path parameter; anything else is a 404, as for an ID that does not exist.
func apiID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apiErr(fiber.StatusNotFound, "no such "+name)
	}
	return id, nil
}

// The API's representations. Field names are snake_case, times RFC 3339, dates YYYY-MM-DD, money in cents.

type apiApplicationSummary struct {
	ID          int64      `json:"id"`
	Protocol    string     `json:"protocol"`
	Status      string     `json:"status"`
	CallID      int64      `json:"call_id"`
	Measure     string     `json:"measure"`
	Year        int        `json:"year"`
	Category    string     `json:"category"`
	Comune      *string    `json:"comune"`
	SubAmbito   *string    `json:"sub_ambito"`
	SubmittedAt time.Time  `json:"submitted_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	TakenAt     *time.Time `json:"taken_at"`
	DueOn       *string    `json:"due_on"`
	DecidedAt   *time.Time `json:"decided_at"`
}

type apiApplicationList struct {
	Items []apiApplicationSummary `json:"items"`
	Next  *string                 `json:"next"`
}

type apiAmount struct {
	Cents      int64  `json:"cents"`
	Period     string `json:"period"`
	Months     int    `json:"months"`
	TotalCents int64  `json:"total_cents"`
}

type apiEvent struct {
	Kind string            `json:"kind"`
	At   time.Time         `json:"at"`
	Data map[string]string `json:"data"`
}

type apiAttachment struct {
	ID          int64     `json:"id"`
	DocType     string    `json:"doc_type"`
	FileName    string    `json:"file_name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	CreatedAt   time.Time `json:"created_at"`
	URL         string    `json:"url"`
}

type apiApplication struct {
	apiApplicationSummary
	FormVersion    string              `json:"form_version"`
	ComuneName     string              `json:"comune_name"`
	SubAmbitoName  string              `json:"sub_ambito_name"`
	DecisionReason string              `json:"decision_reason"`
	Amount         *apiAmount          `json:"amount"`
	Answers        map[string][]string `json:"answers"`
	Timeline       []apiEvent          `json:"timeline"`
	Attachments    []apiAttachment     `json:"attachments"`
}

func apiDate(t *time.Time) *string {
	if t == nil {
		return nil
	}
	d := t.Format(time.DateOnly)
	return &d
}

func apiSummaryOf(a storage.CaseSummary) apiApplicationSummary {
	return apiApplicationSummary{ID: a.ID, Protocol: a.Protocol, Status: a.Status, CallID: a.CallID, Measure: a.Measure,
		Year: a.Year, Category: a.Category, Comune: a.Comune, SubAmbito: a.SubAmbito, SubmittedAt: a.SubmittedAt,
		UpdatedAt: a.UpdatedAt, TakenAt: a.TakenAt, DueOn: apiDate(a.DueOn), DecidedAt: a.DecidedAt}
}

func apiApplicationPath(id int64) string {
	return apiPrefix + "/applications/" + strconv.FormatInt(id, 10)
}

// apiApplicationOf is the whole application: the case, its timeline and its files' metadata.
func apiApplicationOf(c storage.Case, events []storage.Event, atts []storage.Attachment) apiApplication {
	a := apiApplication{
		apiApplicationSummary: apiSummaryOf(storage.CaseSummary{ID: c.ID, Status: c.Status, CallID: c.CallID,
			Measure: c.Measure, Year: c.Year, Category: c.Category, Comune: c.Comune, SubAmbito: c.SubAmbito,
			UpdatedAt: c.UpdatedAt, TakenAt: c.TakenAt, DueOn: c.DueOn, DecidedAt: c.DecidedAt}),
		FormVersion: c.FormVersion, ComuneName: c.ComuneName, SubAmbitoName: c.SubAmbitoName,
		DecisionReason: c.DecisionReason, Answers: map[string][]string{}, Timeline: []apiEvent{},
		Attachments: []apiAttachment{},
	}
	if c.Protocol != nil {
		a.Protocol = *c.Protocol
	}
	if c.SubmittedAt != nil {
		a.SubmittedAt = *c.SubmittedAt
	}
	if c.AmountCents != nil && c.AmountPeriod != nil && c.AmountMonths != nil {
		amount := storage.Amount{Cents: *c.AmountCents, Period: *c.AmountPeriod, Months: *c.AmountMonths}
		a.Amount = &apiAmount{Cents: amount.Cents, Period: amount.Period, Months: amount.Months, TotalCents: amount.Total()}
	}
	for k, v := range c.Answers.Value {
		if v == nil {
			v = []string{}
		}
		a.Answers[k] = v
	}
	for _, e := range events {
		data := e.Data
		if data == nil {
			data = map[string]string{}
		}
		a.Timeline = append(a.Timeline, apiEvent{Kind: e.Kind, At: e.At, Data: data})
	}
	for _, f := range atts {
		a.Attachments = append(a.Attachments, apiAttachment{ID: f.ID, DocType: f.DocType, FileName: f.FileName,
			ContentType: f.ContentType, Size: f.Size, SHA256: f.SHA256, CreatedAt: f.CreatedAt,
			URL: apiApplicationPath(c.ID) + "/documents/" + strconv.FormatInt(f.ID, 10)})
	}
	return a
}
