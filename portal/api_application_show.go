package portal

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// showAPIApplication returns one submitted application with its answers, timeline and files' metadata. The read
// is in the audit log, with the token.
func (s *Server) showAPIApplication(c *fiber.Ctx) error {
	id, err := apiID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	a, err := s.DB.CaseByID(ctx, id, apiScope(c))
	if errors.Is(err, storage.ErrNotFound) {
		return apiErr(fiber.StatusNotFound, "no submitted application has this id")
	}
	if err != nil {
		return err
	}
	if err := s.DB.Audit(ctx, apiActor(c), storage.AuditEntry{Action: "application.read", ApplicationID: a.ID}); err != nil {
		return err
	}
	out, err := s.apiApplication(c, a)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// apiApplication reads what the representation of a needs besides the case.
func (s *Server) apiApplication(c *fiber.Ctx, a storage.Case) (apiApplication, error) {
	ctx := c.UserContext()
	events, err := s.DB.Events(ctx, a.ID)
	if err != nil {
		return apiApplication{}, err
	}
	atts, err := s.DB.Attachments(ctx, a.ID)
	if err != nil {
		return apiApplication{}, err
	}
	return apiApplicationOf(a, events, atts), nil
}
