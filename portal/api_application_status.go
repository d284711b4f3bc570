package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// apiStatusChange is the body of POST /api/v1/applications/{id}/status.
type apiStatusChange struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// apiStatuses are the steps other systems may take: the decision (the district's evaluation tools) and the
// payment (accounting). Taking in charge and asking for documents stay with the back office's people.
var apiStatuses = []string{storage.StatusAdmitted, storage.StatusNotAdmitted, storage.StatusPaid}

// maxDecisionReason is the longest reason the database keeps (applications.decision_reason).
const maxDecisionReason = 2000

// errNoCallAmount: the call sets no amount for the application's category, so admitting it would grant nothing.
var errNoCallAmount = errors.New("portal: the call sets no amount for the category")

// submitAPIStatus moves an application one step along the workflow, as the back office would: one transaction
// changes the status and the decision, adds the timeline event and the audit line (with the token), and tells the
// applicant in their language that there is news. A step the workflow forbids is 409 and changes nothing.
func (s *Server) submitAPIStatus(c *fiber.Ctx) error {
	id, err := apiID(c, "id")
	if err != nil {
		return err
	}
	if !c.Is("json") {
		return apiErr(fiber.StatusUnsupportedMediaType, "send the change as application/json")
	}
	var in apiStatusChange
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || dec.More() {
		return apiErr(fiber.StatusBadRequest, `the body must be one JSON object: {"status": "…", "reason": "…"}`)
	}
	in.Reason = strings.TrimSpace(in.Reason)
	switch {
	case !slices.Contains(apiStatuses, in.Status):
		return apiErr(fiber.StatusUnprocessableEntity, "status must be one of "+strings.Join(apiStatuses, ", "))
	case in.Status == storage.StatusNotAdmitted && in.Reason == "":
		return apiErr(fiber.StatusUnprocessableEntity, "a reason is required to refuse an application (not_admitted)")
	case utf8.RuneCountInString(in.Reason) > maxDecisionReason:
		return apiErr(fiber.StatusUnprocessableEntity, "the reason is longer than "+strconv.Itoa(maxDecisionReason)+" characters")
	case in.Status == storage.StatusPaid && in.Reason != "":
		return apiErr(fiber.StatusUnprocessableEntity, "a payment takes no reason")
	}

	now := s.now()
	t := storage.Transition{ApplicationID: id, Scope: apiScope(c), Actor: apiActor(c), To: in.Status,
		Then: func(ctx context.Context, tx pgx.Tx, a storage.Case) error {
			return s.notifyCaseNews(ctx, tx, a, in.Status+":"+strconv.FormatInt(a.UpdatedAt.UnixMicro(), 10))
		}}
	switch in.Status {
	case storage.StatusPaid:
		t.Event = "paid"
	case storage.StatusNotAdmitted:
		t.Event, t.EventData = "decision", map[string]string{"outcome": storage.StatusNotAdmitted}
		t.Apply = storage.Decide(in.Reason, nil, now)
	case storage.StatusAdmitted:
		t.Event, t.EventData = "decision", map[string]string{"outcome": storage.StatusAdmitted}
		t.Apply = func(ctx context.Context, tx pgx.Tx, a *storage.Case) error {
			amount, ok := a.CallAmounts.For(a.Category)
			if !ok {
				return fmt.Errorf("call %d, category %q: %w", a.CallID, a.Category, errNoCallAmount)
			}
			amount.Months = max(amount.Months, 1)
			return storage.Decide(in.Reason, &amount, now)(ctx, tx, a)
		}
	}
	a, err := s.DB.Move(c.UserContext(), t)
	var ite *storage.IllegalTransitionError
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return apiErr(fiber.StatusNotFound, "no submitted application has this id")
	case errors.As(err, &ite) && ite.Frozen:
		return apiErr(fiber.StatusConflict, "the graduatoria of this call and category is approved: the application cannot move to "+in.Status)
	case errors.As(err, &ite) && ite.From != "":
		return apiErr(fiber.StatusConflict, "cannot move from "+ite.From+" to "+ite.To)
	case errors.As(err, &ite):
		return apiErr(fiber.StatusConflict, "the workflow does not allow moving this application to "+in.Status)
	case errors.Is(err, errNoCallAmount):
		return &apiError{Status: fiber.StatusConflict, Cause: err,
			Detail: "the call sets no amount for this application's category: set it in the back office, then admit"}
	case err != nil:
		return err
	}
	out, err := s.apiApplication(c, a)
	if err != nil {
		return err
	}
	return c.JSON(out)
}
