package portal

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

func (s *Server) showLanguagePage(c *fiber.Ctx) error {
	z := s.localizer(c)
	return s.render(c, fiber.StatusOK, "language", z.T("page.language.title"), []views.Crumb{s.home(c)},
		map[string]any{"Next": safeNext(c.Query("next"))})
}

// submitLanguage stores the chosen language in the session and in a year-long cookie, then returns the visitor to
// the page they were on. An unknown code is a bad request, not a silent switch to Italian.
func (s *Server) submitLanguage(c *fiber.Ctx) error {
	lang, ok := s.I18n.Lookup(c.FormValue("lang"))
	if !ok {
		return errBadRequest(nil)
	}
	sessionOf(c).Set(keyLang, lang.Code)
	c.Cookie(&fiber.Cookie{
		Name: LangCookie, Value: lang.Code, Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
		HTTPOnly: true, SameSite: "Lax", Secure: c.Protocol() == "https",
	})
	return c.Redirect(safeNext(c.FormValue("next")), fiber.StatusSeeOther)
}

// safeNext accepts only a local path, so the language form cannot be used to send people to another site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}
