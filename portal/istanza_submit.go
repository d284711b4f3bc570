package portal

import (
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/notifications"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// submitApplication receives a draft: validated again as a whole, while its call is open, with its documents.
// It is idempotent — a double click, a retried request or a second tab lands on the same application with the
// same protocol number — and the confirmation message is written in the same transaction (the outbox).
func (s *Server) submitApplication(c *fiber.Ctx) error {
	a, p, err := s.loadApplication(c)
	if err != nil {
		return err
	}
	if a.ApplicantID != p.ID {
		return errNotFound(errors.New("istanza: beneficiary cannot submit"))
	}
	if !a.Draft() {
		return c.Redirect(applicationPath(a.ID), fiber.StatusSeeOther)
	}
	d, err := forms.Load(a.FormVersion)
	if err != nil {
		return err
	}
	rv, err := s.reviewDraft(c, a, d, false)
	if err != nil {
		return err
	}
	answers := rv.Answers
	if len(rv.Problems) > 0 || len(rv.Missing) > 0 {
		return s.renderSummary(c, fiber.StatusUnprocessableEntity, a, d, "page.application.summary.fix_first")
	}
	comune, _ := forms.ComuneOf(answers.Get("comune"))
	required := forms.RequiredDocuments(d, answers)
	types := make([]string, len(required))
	for i, doc := range required {
		types[i] = doc.Type
	}
	sub := storage.Submission{ID: a.ID, ApplicantID: p.ID, Answers: answers, BeneficiaryCF: answers.Get("beneficiary_cf"),
		OnBehalf: answers.Get("on_behalf") == "yes", Relationship: answers.Get("relationship"), Comune: storage.Slug(comune),
		Category: answers.Get(d.Ranking.GroupBy), RequiredDocs: types,
		RankingKey: func(at time.Time) string { return forms.RankingKey(d, answers, at) }}
	if !sub.OnBehalf {
		sub.Relationship = ""
	}
	to, channels := recipientOf(p)
	confirmation := func(protocol string) notifications.Message {
		return notifications.Message{Kind: notifications.KindApplicationReceived, To: to, Channels: channels,
			Data:      map[string]string{"Protocol": protocol, "Link": applicationPath(a.ID)},
			UniqueKey: "application_received:" + strconv.FormatInt(a.ID, 10)}
	}
	// the confirmation, checked now, is written by the submission's own statement with the number it assigns
	msg, err := s.Outbox.Prepare(confirmation("CSC-0000-000000"))
	if err != nil {
		return err
	}
	inline := &storage.InlineMessage{SQL: notifications.InsertSQL, Args: msg.Args()}
	_, err = s.DB.Submit(c.UserContext(), sub, s.now(), inline, func(tx pgx.Tx, r storage.Received) error {
		return s.Outbox.Enqueue(c.UserContext(), tx, confirmation(r.Protocol))
	})
	var md *storage.MissingDocumentsError
	switch {
	case errors.Is(err, storage.ErrCallClosed):
		return s.renderSummary(c, fiber.StatusConflict, a, d, "page.application.summary.call_closed")
	case errors.Is(err, storage.ErrDuplicate):
		return s.renderSummary(c, fiber.StatusConflict, a, d, "page.application.summary.duplicate")
	case errors.As(err, &md):
		return s.renderSummary(c, fiber.StatusUnprocessableEntity, a, d, "page.application.summary.fix_first")
	case err != nil:
		return err
	}
	return c.Redirect(applicationPath(a.ID)+"?inviata=1", fiber.StatusSeeOther)
}
