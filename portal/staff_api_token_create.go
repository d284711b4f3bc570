package portal

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// submitStaffAPITokenCreate makes a token for one of the district's systems, with the scopes ticked. The token
// goes to the next page through the session, once; the database gets its SHA-256.
func (s *Server) submitStaffAPITokenCreate(c *fiber.Ctx) error {
	f := &apiTokenForm{Errors: map[string]string{}, Name: strings.Join(strings.Fields(c.FormValue("name")), " ")}
	for _, v := range c.Request().PostArgs().PeekMulti("scope") {
		sc := string(v)
		if !slices.Contains(storage.APIScopes, sc) {
			return errBadRequest(fmt.Errorf("api token: unknown scope %q", sc))
		}
		if !slices.Contains(f.Scopes, sc) {
			f.Scopes = append(f.Scopes, sc)
		}
	}
	if f.Name == "" || utf8.RuneCountInString(f.Name) > 100 || strings.IndexFunc(f.Name, unicode.IsControl) >= 0 {
		f.Errors["name"] = "staff.api.error.name"
	}
	if len(f.Scopes) == 0 {
		f.Errors["scope"] = "staff.api.error.scope"
	}
	z := s.localizer(c)
	if len(f.Errors) > 0 {
		return s.renderStaffAPITokens(c, fiber.StatusUnprocessableEntity, f, z.T("staff.error.form"))
	}
	token, hash := newAPIToken()
	id, err := s.DB.CreateAPIToken(c.UserContext(), staffActor(c), storage.NewAPIToken{Name: f.Name, Scopes: f.Scopes, Hash: hash}, s.now())
	if errors.Is(err, storage.ErrAPITokenNameTaken) {
		f.Errors["name"] = "staff.api.error.name_taken"
		return s.renderStaffAPITokens(c, fiber.StatusUnprocessableEntity, f, z.T("staff.error.form"))
	}
	if err != nil {
		return err
	}
	s.staffSessions.of(c).Set(keyStaffNewToken, strconv.FormatInt(id, 10)+"\n"+token)
	return s.redirectWithNotice(c, staffAPIPath, "staff.api.done_create")
}
