package portal

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// requestPath is the resident's page for answering the office's open request: the link in their notification.
func requestPath(id int64) string { return applicationPath(id) + "/richiesta" }

// submitStaffCaseRequest asks the resident for documents and/or information, with a message: the application
// waits for them (the deadline is suspended), and they get a notification with a direct link to the page where
// they answer.
func (s *Server) submitStaffCaseRequest(c *fiber.Ctx) error {
	a, err := s.loadCase(c)
	if err != nil {
		return err
	}
	u := currentStaff(c)
	if !canWork(u, a) {
		return errStaffForbidden(nil)
	}
	d, err := forms.Load(a.FormVersion)
	if err != nil {
		return err
	}
	message := strings.TrimSpace(c.FormValue("message"))
	var types []string
	for _, t := range c.Request().PostArgs().PeekMulti("doc_type") {
		if hasDocumentType(d, string(t)) && !slices.Contains(types, string(t)) {
			types = append(types, string(t))
		} else if string(t) == docTypeOther && !slices.Contains(types, docTypeOther) {
			types = append(types, docTypeOther)
		}
	}
	f := caseForms{Focus: "request", Values: map[string]string{"request": message}, DocTypes: types, Errors: map[string]string{}}
	switch {
	case message == "":
		f.Errors["request"] = forms.ErrRequired
	case utf8.RuneCountInString(message) > 2000:
		f.Errors["request"] = "staff.case.error.too_long"
	}
	if len(f.Errors) > 0 {
		return s.renderCase(c, fiber.StatusUnprocessableEntity, a, f)
	}
	return s.staffStep(c, a, f, storage.Transition{To: storage.StatusWaitingCitizen, Event: "documents_requested",
		Apply: storage.AskDocuments(u.ID, types, message, s.now()),
		Then: func(ctx context.Context, tx pgx.Tx, a storage.Case) error {
			return s.notifyCaseNewsAt(ctx, tx, a, "request", requestPath(a.ID))
		}}, "staff.case.requested")
}

// docTypeOther is a request for a document the form does not list ("other document").
const docTypeOther = "altro"

// submitStaffCaseResume takes an application waiting for the resident back into review without an answer (the
// resident answered at the desk or by phone); the request stays open on record.
func (s *Server) submitStaffCaseResume(c *fiber.Ctx) error {
	a, err := s.loadCase(c)
	if err != nil {
		return err
	}
	if !canWork(currentStaff(c), a) {
		return errStaffForbidden(nil)
	}
	return s.staffStep(c, a, caseForms{}, storage.Transition{To: storage.StatusInReview,
		Apply: func(ctx context.Context, tx pgx.Tx, a *storage.Case) error {
			_, err := tx.Exec(ctx, `UPDATE application_requests SET answered_at = now(), answer = '' WHERE application_id = $1
				AND answered_at IS NULL`, a.ID)
			return err
		},
		Then: func(ctx context.Context, tx pgx.Tx, a storage.Case) error {
			return s.notifyCaseNews(ctx, tx, a, "resumed")
		}},
		"staff.case.resumed")
}
