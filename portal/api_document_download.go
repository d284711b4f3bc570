package portal

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// downloadAPIDocument sends one file of a submitted application, decrypted from the document store, as an
// attachment that is never sniffed. The file must belong to the application named in the path: any other is
// 404. The read is in the audit log, with the token.
func (s *Server) downloadAPIDocument(c *fiber.Ctx) error {
	id, err := apiID(c, "id")
	if err != nil {
		return err
	}
	docID, err := apiID(c, "doc")
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
	att, err := s.DB.AttachmentOf(ctx, a.ID, docID)
	if errors.Is(err, storage.ErrNotFound) {
		return apiErr(fiber.StatusNotFound, "application "+strconv.FormatInt(a.ID, 10)+" has no document with this id")
	}
	if err != nil {
		return err
	}
	if err := s.DB.Audit(ctx, apiActor(c), storage.AuditEntry{Action: "document.read", ApplicationID: a.ID,
		AttachmentID: att.ID}); err != nil {
		return err
	}
	return s.sendDocument(c, att)
}
