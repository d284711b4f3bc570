package portal

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// submitStaffCaseMessage writes to the resident (who is notified, without the text: they read it after signing
// in) or, with internal=1, an internal note only staff ever see. Anyone in scope may write.
func (s *Server) submitStaffCaseMessage(c *fiber.Ctx) error {
	a, err := s.loadCase(c)
	if err != nil {
		return err
	}
	body := strings.TrimSpace(c.FormValue("body"))
	internal := c.FormValue("internal") == "1"
	focus := "message"
	if internal {
		focus = "note"
	}
	f := caseForms{Focus: focus, Values: map[string]string{focus: body}, Errors: map[string]string{}}
	switch {
	case body == "":
		f.Errors[focus] = forms.ErrRequired
	case utf8.RuneCountInString(body) > 4000:
		f.Errors[focus] = "staff.case.error.too_long"
	}
	if len(f.Errors) > 0 {
		return s.renderCase(c, fiber.StatusUnprocessableEntity, a, f)
	}
	err = s.DB.StaffMessage(c.UserContext(), staffScope(c), staffActor(c), a.ID, body, internal,
		func(ctx context.Context, tx pgx.Tx, a storage.Case) error {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM application_messages WHERE application_id = $1`, a.ID).Scan(&n); err != nil {
				return err
			}
			return s.notifyCaseNews(ctx, tx, a, "message:"+strconv.Itoa(n))
		})
	if err != nil {
		return err
	}
	notice := "staff.case.message_sent"
	if internal {
		notice = "staff.case.note_saved"
	}
	return s.redirectWithNotice(c, casePath(a.ID)+"#messaggi", notice)
}

// submitStaffCaseShare shares a file with the resident (a decision letter): checked like the residents' uploads,
// stored encrypted, audited, and the resident is notified.
func (s *Server) submitStaffCaseShare(c *fiber.Ctx) error {
	a, err := s.loadCase(c)
	if err != nil {
		return err
	}
	if !canWork(currentStaff(c), a) {
		return errStaffForbidden(nil)
	}
	f := caseForms{Focus: "share", Errors: map[string]string{}}
	att, msg, err := s.storeUpload(c)
	if err != nil {
		return err
	}
	if msg != "" {
		f.Errors["file"] = msg
		return s.renderCase(c, fiber.StatusUnprocessableEntity, a, f)
	}
	att.ApplicationID, att.DocType = a.ID, "office_document"
	id, err := s.DB.ShareDocument(c.UserContext(), staffScope(c), staffActor(c), att,
		func(ctx context.Context, tx pgx.Tx, a storage.Case) error {
			return s.notifyCaseNews(ctx, tx, a, "document:"+att.StorageKey)
		})
	if err != nil {
		s.forgetFile(c, att.StorageKey)
		return err
	}
	return s.redirectWithNotice(c, casePath(a.ID)+"#file-"+strconv.FormatInt(id, 10), "staff.case.shared")
}
