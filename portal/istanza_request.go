package portal

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// The resident's side of the "send more documents" loop: the page the notification links to, with what the
// office asked, an upload per requested document and a reply; sending it puts the application back in the
// office's queue.

// requestSlot is one requested document type on the answer page, with the files sent for it so far.
type requestSlot struct {
	Type, Label string
	Files       []storage.Attachment
	Error       string
}

// loadOwnRequest is the applicant's submitted application with its open request; the beneficiary, or an
// application with no open request, land on the application's page.
func (s *Server) loadOwnRequest(c *fiber.Ctx) (storage.Application, storage.Person, storage.Request, error) {
	a, p, err := s.loadApplication(c)
	if err != nil {
		return a, p, storage.Request{}, err
	}
	if a.ApplicantID != p.ID || a.Draft() {
		return a, p, storage.Request{}, errNotFound(errors.New("istanza: not the applicant's submitted application"))
	}
	r, err := s.DB.OpenRequest(c.UserContext(), a.ID)
	if errors.Is(err, storage.ErrNoOpenRequest) || err == nil && a.Status != storage.StatusWaitingCitizen {
		return a, p, r, errAlreadySubmitted{id: a.ID}
	}
	return a, p, r, err
}

func (s *Server) showRequestPage(c *fiber.Ctx) error {
	a, _, r, err := s.loadOwnRequest(c)
	if err != nil {
		return redirectIfSubmitted(c, err)
	}
	return s.renderRequest(c, fiber.StatusOK, a, r, "", "", c.FormValue("answer"), "")
}

func (s *Server) renderRequest(c *fiber.Ctx, status int, a storage.Application, r storage.Request, errType, errMsg, answer, answerErr string) error {
	atts, err := s.DB.Attachments(c.UserContext(), a.ID)
	if err != nil {
		return err
	}
	d, err := forms.Load(a.FormVersion)
	if err != nil {
		return err
	}
	slots := make([]requestSlot, 0, len(r.DocTypes))
	for _, t := range r.DocTypes {
		slot := requestSlot{Type: t, Label: "page.request.other_document"}
		for _, doc := range d.Documents {
			if doc.Type == t {
				slot.Label = doc.Label
			}
		}
		for _, att := range atts {
			if att.RequestID != nil && *att.RequestID == r.ID && att.DocType == t {
				slot.Files = append(slot.Files, att)
			}
		}
		if t == errType {
			slot.Error = errMsg
		}
		slots = append(slots, slot)
	}
	z := s.localizer(c)
	crumbs := s.applicationCrumbs(c, a)
	return s.render(c, status, "application_request", z.T("page.request.title"), crumbs,
		map[string]any{"Application": a, "Request": r, "Slots": slots, "Answer": answer, "AnswerError": answerErr,
			"MaxFile": s.Config.Documents.MaxFileBytes, "MeasureTitle": measureTitle(z, a.Measure)})
}

// uploadRequestDocument receives one file for one requested document type.
func (s *Server) uploadRequestDocument(c *fiber.Ctx) error {
	a, p, r, err := s.loadOwnRequest(c)
	if err != nil {
		return redirectIfSubmitted(c, err)
	}
	docType := c.FormValue("doc_type")
	if !slices.Contains(r.DocTypes, docType) {
		return errBadRequest(errors.New("istanza: document type not requested"))
	}
	att, msg, err := s.storeUpload(c)
	if err != nil {
		return err
	}
	if msg == "" {
		att.ApplicationID, att.DocType, att.RequestID = a.ID, docType, &r.ID
		msg, err = s.addAttachment(c, p.ID, att)
		if errors.Is(err, storage.ErrNoOpenRequest) {
			return c.Redirect(applicationPath(a.ID), fiber.StatusSeeOther)
		}
		if err != nil {
			return err
		}
	}
	if msg != "" {
		return s.renderRequest(c, fiber.StatusUnprocessableEntity, a, r, docType, msg, "", "")
	}
	return c.Redirect(requestPath(a.ID)+"#doc-"+docType, fiber.StatusSeeOther)
}

// deleteRequestDocument removes a file sent for the open request before the reply goes.
func (s *Server) deleteRequestDocument(c *fiber.Ctx) error {
	a, p, _, err := s.loadOwnRequest(c)
	if err != nil {
		return redirectIfSubmitted(c, err)
	}
	return s.removeFile(c, p.ID, a.ID, requestPath(a.ID))
}

// submitRequestAnswer sends the reply: every requested document must have a file; a request for information
// only needs the text. The application goes back to the office, flagged for its worker.
func (s *Server) submitRequestAnswer(c *fiber.Ctx) error {
	a, p, r, err := s.loadOwnRequest(c)
	if err != nil {
		return redirectIfSubmitted(c, err)
	}
	answer := strings.TrimSpace(c.FormValue("answer"))
	if utf8.RuneCountInString(answer) > 2000 {
		return s.renderRequest(c, fiber.StatusUnprocessableEntity, a, r, "", "", answer, "page.request.error.too_long")
	}
	_, err = s.DB.Move(c.UserContext(), storage.Transition{ApplicationID: a.ID, Scope: storage.Scope{All: true},
		ApplicantID: p.ID, To: storage.StatusInReview, Event: "documents_sent",
		Apply: storage.AnswerRequest(answer, s.now()),
		// every step is told, the resident's own too: the inbox keeps the record of what was sent and when
		Then: func(ctx context.Context, tx pgx.Tx, a storage.Case) error {
			return s.notifyCaseNews(ctx, tx, a, "answered")
		}})
	var md *storage.MissingDocumentsError
	switch {
	case errors.As(err, &md):
		return s.renderRequest(c, fiber.StatusUnprocessableEntity, a, r, md.Types[0], forms.ErrRequired, answer, "")
	case errors.Is(err, storage.ErrEmptyAnswer):
		return s.renderRequest(c, fiber.StatusUnprocessableEntity, a, r, "", "", answer, forms.ErrRequired)
	case err != nil:
		var ite *storage.IllegalTransitionError
		if errors.As(err, &ite) {
			return c.Redirect(applicationPath(a.ID), fiber.StatusSeeOther)
		}
		return err
	}
	return c.Redirect(applicationPath(a.ID)+"?risposta=1", fiber.StatusSeeOther)
}

// submitApplicationMessage is the applicant writing to the office about a submitted application; the worker
// sees it flagged in the queue.
func (s *Server) submitApplicationMessage(c *fiber.Ctx) error {
	a, p, err := s.loadApplication(c)
	if err != nil {
		return err
	}
	if a.ApplicantID != p.ID || a.Draft() {
		return errNotFound(errors.New("istanza: only the applicant writes"))
	}
	body := strings.TrimSpace(c.FormValue("body"))
	msg := ""
	switch {
	case body == "":
		msg = forms.ErrRequired
	case utf8.RuneCountInString(body) > 4000:
		msg = "page.request.error.too_long"
	}
	if msg != "" {
		return s.renderApplicationWith(c, fiber.StatusUnprocessableEntity, a, p, nil, &messageForm{Body: body, Error: msg})
	}
	if err := s.DB.CitizenMessage(c.UserContext(), p.ID, a.ID, body); err != nil {
		return err
	}
	return c.Redirect(applicationPath(a.ID)+"?messaggio=1#messaggi", fiber.StatusSeeOther)
}

// messageForm is a message as typed, shown again when it needs fixing.
type messageForm struct{ Body, Error string }

// submitApplicationWithdraw withdraws a submitted application before the decision, at the applicant's request
// (confirmed on the page). The office sees it in the queue; the timeline records it.
func (s *Server) submitApplicationWithdraw(c *fiber.Ctx) error {
	a, p, err := s.loadApplication(c)
	if err != nil {
		return err
	}
	if a.ApplicantID != p.ID || a.Draft() {
		return errNotFound(errors.New("istanza: only the applicant withdraws"))
	}
	if c.FormValue("confirm") != "1" {
		return s.renderApplicationWith(c, fiber.StatusUnprocessableEntity, a, p, nil, nil, "page.application.withdraw.confirm_required")
	}
	_, err = s.DB.Move(c.UserContext(), storage.Transition{ApplicationID: a.ID, Scope: storage.Scope{All: true},
		ApplicantID: p.ID, To: storage.StatusWithdrawn, Event: "withdrawn",
		Apply: func(ctx context.Context, tx pgx.Tx, c *storage.Case) error {
			_, err := tx.Exec(ctx, `UPDATE application_requests SET answered_at = now() WHERE application_id = $1 AND answered_at IS NULL`, c.ID)
			return err
		},
		Then: func(ctx context.Context, tx pgx.Tx, a storage.Case) error {
			return s.notifyCaseNews(ctx, tx, a, "withdrawn")
		}})
	var ite *storage.IllegalTransitionError
	if errors.As(err, &ite) {
		return s.renderApplicationWith(c, fiber.StatusConflict, a, p, nil, nil, "page.application.withdraw.too_late")
	}
	if err != nil {
		return err
	}
	return c.Redirect(applicationPath(a.ID)+"?ritirata=1", fiber.StatusSeeOther)
}
