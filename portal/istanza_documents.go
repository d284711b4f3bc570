package portal

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/documents"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// documentSlot is one required (or optional) document type with the files attached for it.
type documentSlot struct {
	forms.Document
	Required bool
	Files    []storage.Attachment
	Error    string // the last upload's problem, rendered
}

// showDocuments lists the documents the answers call for, with an upload form for each.
func (s *Server) showDocuments(c *fiber.Ctx) error {
	a, d, _, err := s.loadOwnDraft(c)
	if err != nil {
		return redirectIfSubmitted(c, err)
	}
	return s.renderDocuments(c, fiber.StatusOK, a, d, "", "")
}

func (s *Server) renderDocuments(c *fiber.Ctx, status int, a storage.Application, d *forms.Definition, errType, errMsg string) error {
	atts, err := s.DB.Attachments(c.UserContext(), a.ID)
	if err != nil {
		return err
	}
	z := s.localizer(c)
	slots, total := documentSlots(d, a.Answers, atts)
	for i := range slots {
		if slots[i].Type == errType {
			slots[i].Error = errMsg
		}
	}
	return s.render(c, status, "application_documents", z.T("page.application.documents.title"), s.applicationCrumbs(c, a),
		map[string]any{"Application": a, "MeasureTitle": measureTitle(z, a.Measure), "Steps": journey(a, d, stepDocuments),
			"Slots": slots, "Used": total, "MaxFile": s.Config.Documents.MaxFileBytes,
			"MaxTotal": s.Config.Documents.MaxApplication, "Back": stepPath(a.ID, d.Steps[len(d.Steps)-1].ID),
			"Next": applicationPath(a.ID) + "/riepilogo"})
}

// documentSlots groups the files by the definition's document types: the required ones first, then any type the
// answers no longer call for but which still has files (so nothing uploaded is hidden).
func documentSlots(d *forms.Definition, answers forms.Answers, atts []storage.Attachment) ([]documentSlot, int64) {
	var slots []documentSlot
	required := map[string]bool{}
	for _, doc := range forms.RequiredDocuments(d, answers) {
		required[doc.Type] = true
	}
	var total int64
	for _, doc := range d.Documents {
		slot := documentSlot{Document: doc, Required: required[doc.Type]}
		for _, a := range atts {
			if a.DocType == doc.Type {
				slot.Files = append(slot.Files, a)
			}
		}
		if slot.Required || len(slot.Files) > 0 {
			slots = append(slots, slot)
		}
	}
	for _, a := range atts {
		total += a.Size
	}
	return slots, total
}

// uploadDocument receives one file for one document type. Its type is decided from the content (PDF, JPEG, PNG),
// never the name; size limits per file and per application hold; with ClamAV configured it is scanned first.
// Refusals are explained on the documents page next to the document concerned (422).
func (s *Server) uploadDocument(c *fiber.Ctx) error {
	a, d, p, err := s.loadOwnDraft(c)
	if err != nil {
		return redirectIfSubmitted(c, err)
	}
	docType := c.FormValue("doc_type")
	if !hasDocumentType(d, docType) {
		return errBadRequest(fmt.Errorf("istanza: unknown document type %q", docType))
	}
	fail := func(msg string) error {
		return s.renderDocuments(c, fiber.StatusUnprocessableEntity, a, d, docType, msg)
	}
	att, msg, err := s.storeUpload(c)
	if err != nil || msg != "" {
		if msg != "" {
			return fail(msg)
		}
		return err
	}
	att.ApplicationID, att.DocType = a.ID, docType
	if msg, err := s.addAttachment(c, p.ID, att); err != nil || msg != "" {
		if msg != "" {
			return fail(msg)
		}
		return redirectIfSubmitted(c, err)
	}
	return c.Redirect(applicationPath(a.ID)+"/documenti#doc-"+docType, fiber.StatusSeeOther)
}

// storeUpload checks the file of an upload form (field "file") — type from the content (PDF, JPEG, PNG), never
// the name; the size limit per file; with ClamAV configured, a scan — and puts it in the document store. A
// refusal is a message for the person, localized; the attachment returned lacks its application and type.
func (s *Server) storeUpload(c *fiber.Ctx) (storage.Attachment, string, error) {
	z := s.localizer(c)
	fh, err := c.FormFile("file")
	if err != nil {
		return storage.Attachment{}, z.T(documents.MsgFileEmpty), nil
	}
	f, err := fh.Open()
	if err != nil {
		return storage.Attachment{}, "", err
	}
	defer f.Close()
	checked, msg, err := documents.Check(f, s.Config.Documents.MaxFileBytes)
	if err != nil {
		return storage.Attachment{}, "", err
	}
	if msg == documents.MsgFileTooLarge {
		return storage.Attachment{}, z.T(msg, map[string]any{"Max": z.Bytes(s.Config.Documents.MaxFileBytes)}), nil
	}
	if msg != "" {
		return storage.Attachment{}, z.T(msg), nil
	}
	defer checked.Close()
	ctx := c.UserContext()
	if s.Scanner != nil {
		if err := s.Scanner.Scan(ctx, checked.Open()); errors.Is(err, documents.ErrInfected) {
			s.Log.Warn("upload refused by the antivirus", "path", c.Path(), "err", err)
			return storage.Attachment{}, z.T(msgFileInfected), nil
		} else if err != nil {
			return storage.Attachment{}, "", &Error{Status: fiber.StatusServiceUnavailable, Msg: "unavailable", Cause: err}
		}
	}
	key := newStorageKey()
	if err := s.Documents.Put(ctx, key, checked.Open()); err != nil {
		return storage.Attachment{}, "", err
	}
	return storage.Attachment{FileName: documents.CleanName(fh.Filename), ContentType: checked.ContentType,
		Size: checked.Size, SHA256: hex.EncodeToString(checked.SHA256[:]), StorageKey: key}, "", nil
}

// addAttachment records a stored file for the applicant, deleting the bytes again when the record is refused;
// going over the per-application limit is a message for the person.
func (s *Server) addAttachment(c *fiber.Ctx, applicantID int64, att storage.Attachment) (string, error) {
	ctx := c.UserContext()
	_, err := s.DB.AddAttachment(ctx, applicantID, att, s.Config.Documents.MaxApplication)
	if err == nil {
		return "", nil
	}
	s.forgetFile(c, att.StorageKey)
	if errors.Is(err, storage.ErrTooLarge) {
		z := s.localizer(c)
		return z.T(msgApplicationTooLarge, map[string]any{"Max": z.Bytes(s.Config.Documents.MaxApplication)}), nil
	}
	return "", err
}

// forgetFile deletes stored bytes whose record was refused or removed.
func (s *Server) forgetFile(c *fiber.Ctx, key string) {
	if err := s.Documents.Delete(c.UserContext(), key); err != nil {
		s.Log.Error("stored file left behind", "key", key, "err", err)
	}
}

// Message IDs of upload refusals decided here rather than by documents.Check.
const (
	msgFileInfected        = "form.error.file_infected"
	msgApplicationTooLarge = "form.error.application_too_large"
)

func hasDocumentType(d *forms.Definition, t string) bool {
	for _, doc := range d.Documents {
		if doc.Type == t {
			return true
		}
	}
	return false
}

// newStorageKey is a random object key: never derived from anything the resident sent.
func newStorageKey() string {
	return "f-" + strings.ToLower(rand.Text())
}

// deleteDocument removes a file from a draft.
func (s *Server) deleteDocument(c *fiber.Ctx) error {
	a, _, p, err := s.loadOwnDraft(c)
	if err != nil {
		return redirectIfSubmitted(c, err)
	}
	return s.removeFile(c, p.ID, a.ID, applicationPath(a.ID)+"/documenti")
}

// downloadDocument sends a file to someone who may see the application, as an attachment that browsers never
// render inline or sniff.
func (s *Server) downloadDocument(c *fiber.Ctx) error {
	a, _, err := s.loadApplication(c)
	if err != nil {
		return err
	}
	id, err := fileParam(c)
	if err != nil {
		return err
	}
	att, err := s.DB.AttachmentOf(c.UserContext(), a.ID, id)
	if err != nil {
		return err
	}
	return s.sendDocument(c, att)
}

// removeFile deletes the :file of the application that its applicant may still remove (storage.DeleteAttachment
// says which), then its bytes, and goes back to the page the file was on.
func (s *Server) removeFile(c *fiber.Ctx, applicantID, applicationID int64, back string) error {
	id, err := fileParam(c)
	if err != nil {
		return err
	}
	key, err := s.DB.DeleteAttachment(c.UserContext(), applicantID, applicationID, id)
	if err != nil {
		return err
	}
	s.forgetFile(c, key)
	return c.Redirect(back, fiber.StatusSeeOther)
}

// fileParam is the :file parameter, an attachment's ID.
func fileParam(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("file"), 10, 64)
	if err != nil {
		return 0, errNotFound(err)
	}
	return id, nil
}

// sendDocument streams a stored file with headers that keep it a download.
func (s *Server) sendDocument(c *fiber.Ctx, att storage.Attachment) error {
	r, err := s.Documents.Get(c.UserContext(), att.StorageKey)
	if err != nil {
		return err
	}
	defer r.Close()
	// read it all before answering: a damaged file must be an error page, not half a download
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return sendDownload(c, att.FileName, att.ContentType, data)
}

// sendDownload answers with a file that browsers save, never render inline or sniff, and nobody caches.
func sendDownload(c *fiber.Ctx, name, contentType string, data []byte) error {
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, documents.ContentDisposition(name, contentType))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	return c.Send(data)
}
