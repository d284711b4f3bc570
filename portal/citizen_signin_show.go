package portal

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// showSignInPage offers the ways to sign in that this deployment has: SPID/CIE and, where enabled, an e-mail code.
// ?next= is remembered so the resident comes back to the page they were on.
func (s *Server) showSignInPage(c *fiber.Ctx) error {
	sess := sessionOf(c)
	if next := c.Query("next"); next != "" {
		sess.Set(keyNext, safeNext(next))
	}
	if personID(sess) != 0 {
		next, _ := sess.Get(keyNext).(string)
		if next == "" {
			next = "/area-personale"
		}
		return c.Redirect(safeNext(next), fiber.StatusSeeOther)
	}
	return s.renderSignIn(c, fiber.StatusOK, newForm())
}

func (s *Server) renderSignIn(c *fiber.Ctx, status int, form *formState) error {
	if s.oidc != nil {
		// The SPID/CIE button posts here and is redirected to the provider: browsers apply form-action to that
		// redirect, so this page's policy names the provider's origin.
		c.Set("Content-Security-Policy", strings.Replace(contentSecurityPolicy, "form-action 'self'",
			"form-action 'self' "+s.oidc.authOrigin(c.UserContext()), 1))
	}
	z := s.localizer(c)
	return s.render(c, status, "signin", z.T("page.signin.title"), []views.Crumb{s.home(c)}, map[string]any{
		"OIDC":      s.Config.Identity.OIDCIssuer != "",
		"Email":     s.Config.Identity.EmailSignIn,
		"Form":      form,
		"SignedOut": c.Query("uscita") == "1",
	})
}
