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

// submitStaffAPITokenCreate makes a token for one of the district's systems, with the scopes ticked and, if some
// are ticked, limited to those sub-ambiti. The token goes to the next page through the session, once; the
// database gets its SHA-256.
func (s *Server) submitStaffAPITokenCreate(c *fiber.Ctx) error {
	ctx := c.UserContext()
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
	subAmbiti, err := s.DB.SubAmbiti(ctx)
	if err != nil {
		return err
	}
	var ticked []string
	for _, v := range c.Request().PostArgs().PeekMulti("sub_ambito") {
		code := string(v)
		if !slices.ContainsFunc(subAmbiti, func(a storage.SubAmbito) bool { return a.Code == code }) {
			f.Errors["sub_ambito"] = "staff.api.error.sub_ambito"
		}
		ticked = append(ticked, code)
	}
	for _, a := range subAmbiti { // in the usual order, each once; an unknown code is not kept
		if slices.Contains(ticked, a.Code) {
			f.SubAmbiti = append(f.SubAmbiti, a.Code)
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
	id, err := s.DB.CreateAPIToken(ctx, staffActor(c), storage.NewAPIToken{Name: f.Name, Scopes: f.Scopes,
		SubAmbiti: f.SubAmbiti, Hash: hash}, s.now())
	switch {
	case errors.Is(err, storage.ErrAPITokenNameTaken):
		f.Errors["name"] = "staff.api.error.name_taken"
		return s.renderStaffAPITokens(c, fiber.StatusUnprocessableEntity, f, z.T("staff.error.form"))
	case errors.Is(err, storage.ErrUnknownSubAmbito): // removed between reading the list and now
		f.Errors["sub_ambito"] = "staff.api.error.sub_ambito"
		return s.renderStaffAPITokens(c, fiber.StatusUnprocessableEntity, f, z.T("staff.error.form"))
	case err != nil:
		return err
	}
	s.staffSessions.of(c).Set(keyStaffNewToken, strconv.FormatInt(id, 10)+"\n"+token)
	return s.redirectWithNotice(c, staffAPIPath, "staff.api.done_create")
}
