package portal

import (
	"encoding/json"
	"time"

	"github.com/gofiber/fiber/v2"
)

// exportOwnData gives the resident everything the portal holds about them, as a JSON download (GDPR art. 15 and
// 20). Later features add their data here.
func (s *Server) exportOwnData(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p, err := s.currentPerson(c)
	if err != nil {
		return err
	}
	consents, err := s.DB.Consents(ctx, p.ID)
	if err != nil {
		return err
	}
	signIns, err := s.DB.SignIns(ctx, p.ID, 1000)
	if err != nil {
		return err
	}
	body, err := json.MarshalIndent(map[string]any{
		"exported_at": s.now().UTC().Format(time.RFC3339),
		"controller":  "Comunità Sociale Cremasca a.s.c.",
		"person":      p,
		"consents":    consents,
		"sign_ins":    signIns,
	}, "", "  ")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/json; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="csc-dati-personali.json"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(body)
}
