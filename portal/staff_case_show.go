package portal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// caseForms is what the case page's forms hold when one is shown again with a mistake.
type caseForms struct {
	Focus    string            // the form with the mistake: request, decision, message, share, assign
	Values   map[string]string // as typed
	DocTypes []string          // ticked in the request form
	Errors   map[string]string // field → message ID (or text)
	Alert    string            // message ID of a refusal of the whole action
}

// loadCase reads the application of the :id parameter within the account's scope and records the read in the
// audit log. Out of scope, a draft or no such application: 404, the same answer for all three.
func (s *Server) loadCase(c *fiber.Ctx) (storage.Case, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return storage.Case{}, errNotFound(err)
	}
	a, err := s.DB.CaseByID(c.UserContext(), id, staffScope(c))
	if err != nil {
		return storage.Case{}, err
	}
	return a, nil
}

// canWork reports whether the account may act on the application: its assignee, or a coordinator or admin.
func canWork(u *storage.StaffUser, a storage.Case) bool {
	return u.Role != storage.RoleOperatore || a.AssigneeID != nil && *a.AssigneeID == u.ID
}

// showStaffCasePage is one application as the office works it: the answers, files, timeline, requests, messages
// and notes, and the actions its status allows.
func (s *Server) showStaffCasePage(c *fiber.Ctx) error {
	a, err := s.loadCase(c)
	if err != nil {
		return err
	}
	return s.renderCase(c, fiber.StatusOK, a, caseForms{})
}

func (s *Server) renderCase(c *fiber.Ctx, status int, a storage.Case, f caseForms) error {
	ctx := c.UserContext()
	u := currentStaff(c)
	if err := s.DB.Audit(ctx, staffActor(c), storage.AuditEntry{Action: "application.read", ApplicationID: a.ID}); err != nil {
		return err
	}
	if a.AssigneeID != nil && *a.AssigneeID == u.ID && a.CitizenRepliedAt != nil {
		if err := s.DB.CaseSeen(ctx, a.ID, u.ID); err != nil {
			return err
		}
	}
	d, err := forms.Load(a.FormVersion)
	if err != nil {
		return err
	}
	atts, err := s.DB.Attachments(ctx, a.ID)
	if err != nil {
		return err
	}
	events, err := s.DB.Events(ctx, a.ID)
	if err != nil {
		return err
	}
	requests, err := s.DB.Requests(ctx, a.ID)
	if err != nil {
		return err
	}
	messages, err := s.DB.Messages(ctx, a.ID, true)
	if err != nil {
		return err
	}
	var assignable []storage.StaffUser
	if u.Role != storage.RoleOperatore && a.SubAmbito != nil && !storage.Decided(a.Status) && a.Status != storage.StatusWithdrawn {
		if assignable, err = s.DB.Assignable(ctx, *a.SubAmbito); err != nil {
			return err
		}
	}
	z := s.localizer(c)
	if f.Values == nil {
		f.Values = map[string]string{}
	}
	if _, ok := f.Values["amount"]; !ok {
		if am, ok := a.CallAmounts.For(a.Category); ok {
			f.Values["amount"] = amountInput(am.Cents)
			f.Values["months"] = strconv.Itoa(max(am.Months, 1))
			f.Values["period"] = am.Period
		}
	}
	title := z.T("staff.case.title", map[string]any{"Protocol": deref(a.Protocol)})
	return s.renderStaff(c, status, "staff_case", title,
		[]views.Crumb{s.staffCrumb(c), {Title: z.T("staff.cases.title"), URL: casesPath}},
		map[string]any{"Case": a, "MeasureTitle": measureTitle(z, a.Measure), "Sections": summarize(z, d, a.Answers),
			"Attachments": atts, "Events": timeline(events), "Requests": requests, "Messages": messages,
			"Documents": d.Documents, "CanWork": canWork(u, a), "Assignable": assignable,
			"Can":     func(to string) bool { return storage.CanMove(a.Status, to) },
			"Overdue": a.Overdue(s.now().In(i18n.Rome)), "Form": f, "Alert": z.T(f.Alert)})
}

// amountInput writes cents as the amount fields show them, "400,00".
func amountInput(cents int64) string { return fmt.Sprintf("%d,%02d", cents/100, cents%100) }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// downloadStaffDocument sends a file of an application in scope, audited.
func (s *Server) downloadStaffDocument(c *fiber.Ctx) error {
	a, err := s.loadCase(c)
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
	if err := s.DB.Audit(c.UserContext(), staffActor(c), storage.AuditEntry{Action: "document.read",
		ApplicationID: a.ID, AttachmentID: att.ID}); err != nil {
		return err
	}
	return s.sendDocument(c, att)
}

// takeStep is the workflow step "taken in charge" by u (of application id, or the next one when 0): the resident
// is told, with the deadline on their timeline.
func (s *Server) takeStep(c *fiber.Ctx, u *storage.StaffUser, id int64, now time.Time) storage.Transition {
	data := map[string]string{} // filled once the deadline is known: the event is written after Apply
	return storage.Transition{ApplicationID: id, Scope: staffScope(c), Actor: staffActor(c), To: storage.StatusInReview,
		Event: "taken_in_charge", EventData: data,
		Apply: func(ctx context.Context, tx pgx.Tx, a *storage.Case) error {
			if err := storage.TakeInCharge(u.ID, now)(ctx, tx, a); err != nil {
				return err
			}
			data["deadline"] = a.DueOn.Format(time.DateOnly)
			return nil
		},
		Then: func(ctx context.Context, tx pgx.Tx, a storage.Case) error {
			return s.notifyCaseNews(ctx, tx, a, "taken")
		}}
}

// staffStep makes one workflow step on the application a as the signed-in account — t's application, scope
// and actor are filled in — then leaves notice for the case page; a refusal shows the page again with f and why.
func (s *Server) staffStep(c *fiber.Ctx, a storage.Case, f caseForms, t storage.Transition, notice string) error {
	t.ApplicationID, t.Scope, t.Actor = a.ID, staffScope(c), staffActor(c)
	if _, err := s.DB.Move(c.UserContext(), t); err != nil {
		return s.caseStepError(c, a, err, f)
	}
	return s.redirectWithNotice(c, casePath(a.ID), notice)
}

// caseStepError turns the refusals of a workflow step into the case page again, with a message: a step the
// status no longer allows (someone else acted meanwhile), an application assigned to someone else.
func (s *Server) caseStepError(c *fiber.Ctx, a storage.Case, err error, f caseForms) error {
	var ite *storage.IllegalTransitionError
	switch {
	case errors.As(err, &ite) && ite.Frozen:
		f.Alert = "staff.case.error.frozen"
	case errors.As(err, &ite):
		f.Alert = "staff.case.error.transition"
	case errors.Is(err, storage.ErrAssignedToOther):
		f.Alert = "staff.case.error.assigned"
	default:
		return err
	}
	fresh, ferr := s.DB.CaseByID(c.UserContext(), a.ID, staffScope(c))
	if ferr != nil {
		return ferr
	}
	return s.renderCase(c, fiber.StatusConflict, fresh, f)
}

// submitStaffCaseTake takes the application in charge for the signed-in account.
func (s *Server) submitStaffCaseTake(c *fiber.Ctx) error {
	a, err := s.loadCase(c)
	if err != nil {
		return err
	}
	u := currentStaff(c)
	if a.AssigneeID != nil && *a.AssigneeID != u.ID && u.Role == storage.RoleOperatore {
		return s.caseStepError(c, a, storage.ErrAssignedToOther, caseForms{})
	}
	return s.staffStep(c, a, caseForms{}, s.takeStep(c, u, a.ID, s.now()), "staff.case.taken")
}

// submitStaffCaseAssign gives the application to an account that can work it (coordinators and admins).
func (s *Server) submitStaffCaseAssign(c *fiber.Ctx) error {
	a, err := s.loadCase(c)
	if err != nil {
		return err
	}
	to, err := strconv.ParseInt(c.FormValue("assignee"), 10, 64)
	f := caseForms{Focus: "assign", Values: map[string]string{"assignee": c.FormValue("assignee")}, Errors: map[string]string{}}
	if err != nil {
		f.Errors["assignee"] = "staff.case.error.assignee"
		return s.renderCase(c, fiber.StatusUnprocessableEntity, a, f)
	}
	err = s.DB.Assign(c.UserContext(), staffScope(c), staffActor(c), a.ID, to)
	if errors.Is(err, storage.ErrBadAssignee) {
		f.Errors["assignee"] = "staff.case.error.assignee"
		return s.renderCase(c, fiber.StatusUnprocessableEntity, a, f)
	}
	if err != nil {
		return s.caseStepError(c, a, err, f)
	}
	return s.redirectWithNotice(c, casePath(a.ID), "staff.case.assigned")
}
