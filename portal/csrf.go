package portal

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
)

// newCrossOriginProtection is the portal's defence against cross-site request forgery: Go's
// http.CrossOriginProtection, which refuses state-changing requests that browsers mark as cross-origin
// (Sec-Fetch-Site, sent by every browser since 2023, or an Origin that is not this host). Session cookies are
// SameSite=Lax besides, so a forged cross-site form post never carries a session either. Tokens are not needed,
// which keeps public pages identical for every visitor and so cacheable on a click day.
func newCrossOriginProtection(publicOrigin string) (*http.CrossOriginProtection, error) {
	p := http.NewCrossOriginProtection()
	// Behind a proxy that rewrites Host, the public origin is still this portal.
	if err := p.AddTrustedOrigin(publicOrigin); err != nil {
		return nil, err
	}
	return p, nil
}

// crossOriginMiddleware applies the check to every request; safe methods always pass.
func (s *Server) crossOriginMiddleware(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	req := &http.Request{Method: c.Method(), Host: string(c.Request().Host()), Header: http.Header{}}
	for _, h := range []string{"Sec-Fetch-Site", "Origin"} {
		if v := c.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	if err := s.crossOrigin.Check(req); err != nil {
		return errCSRF(err)
	}
	return c.Next()
}
