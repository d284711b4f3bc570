package portal

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// The tokens of the district's other systems (the JSON API, api.go) are made and revoked here, by admins only. A
// new token is shown once, on the page after its creation; only its SHA-256 is kept.

const staffAPIPath = "/backoffice/api"

// keyStaffNewToken is the staff session key of a token just made: "<id>\n<token>", shown once and then removed.
const keyStaffNewToken = "staff_new_token"

// apiTokenForm is what the new-token form posts.
type apiTokenForm struct {
	Name      string
	Scopes    []string
	SubAmbiti []string // none: the whole district
	Errors    map[string]string
}

// HasScope is for the checkboxes.
func (f *apiTokenForm) HasScope(code string) bool { return slices.Contains(f.Scopes, code) }

// HasSubAmbito is for the checkboxes.
func (f *apiTokenForm) HasSubAmbito(code string) bool { return slices.Contains(f.SubAmbiti, code) }

// apiScopeChoice is a scope with the message IDs of its label and explanation.
type apiScopeChoice struct{ Code, Label, Hint string }

func apiScopeMsg(code string) string { return "staff.api.scope." + strings.ReplaceAll(code, ":", "_") }

func apiScopeChoices() []apiScopeChoice {
	out := make([]apiScopeChoice, len(storage.APIScopes))
	for i, code := range storage.APIScopes {
		out[i] = apiScopeChoice{Code: code, Label: apiScopeMsg(code), Hint: apiScopeMsg(code) + "_hint"}
	}
	return out
}

// apiTokenRow is a token as the list shows it.
type apiTokenRow struct {
	storage.APIToken
	ScopeLabels    []string // message IDs
	SubAmbitoNames []string // none: the whole district
}

// showStaffAPITokensPage lists the tokens with the form for a new one.
func (s *Server) showStaffAPITokensPage(c *fiber.Ctx) error {
	return s.renderStaffAPITokens(c, fiber.StatusOK, &apiTokenForm{Errors: map[string]string{}}, "")
}

func (s *Server) renderStaffAPITokens(c *fiber.Ctx, status int, f *apiTokenForm, alert string) error {
	ctx := c.UserContext()
	tokens, err := s.DB.APITokens(ctx)
	if err != nil {
		return err
	}
	subAmbiti, err := s.DB.SubAmbiti(ctx)
	if err != nil {
		return err
	}
	rows := make([]apiTokenRow, len(tokens))
	for i, t := range tokens {
		rows[i] = apiTokenRow{APIToken: t}
		for _, sc := range t.Scopes {
			rows[i].ScopeLabels = append(rows[i].ScopeLabels, apiScopeMsg(sc))
		}
		for _, code := range t.SubAmbiti {
			name := code // one removed from the table since still shows what the token holds
			if j := slices.IndexFunc(subAmbiti, func(a storage.SubAmbito) bool { return a.Code == code }); j >= 0 {
				name = subAmbiti[j].Name
			}
			rows[i].SubAmbitoNames = append(rows[i].SubAmbitoNames, name)
		}
	}
	data := map[string]any{"Tokens": rows, "Form": f, "Errors": f.Errors, "Alert": alert, "Scopes": apiScopeChoices(),
		"SubAmbiti": subAmbiti, "OpenAPI": apiPrefix + "/openapi.json"}
	// A token just made is shown once.
	sess := s.staffSessions.of(c)
	if v, _ := sess.Get(keyStaffNewToken).(string); v != "" {
		sess.Set(keyStaffNewToken, "")
		id, token, _ := strings.Cut(v, "\n")
		for _, t := range tokens {
			if strconv.FormatInt(t.ID, 10) == id {
				data["NewToken"], data["NewTokenName"] = token, t.Name
			}
		}
	}
	return s.renderStaff(c, status, "staff_api_tokens", s.localizer(c).T("staff.api.title"),
		[]views.Crumb{s.staffCrumb(c)}, data)
}
