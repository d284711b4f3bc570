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

// submitStaffCaseDecision records the decision: admitted (eligible, with the amount the call grants, which the
// graduatoria then funds or not) or not admitted, with the reason — required when not admitted, since the
// resident must be told why.
func (s *Server) submitStaffCaseDecision(c *fiber.Ctx) error {
	a, err := s.loadCase(c)
	if err != nil {
		return err
	}
	if !canWork(currentStaff(c), a) {
		return errStaffForbidden(nil)
	}
	outcome := c.FormValue("outcome")
	reason := strings.TrimSpace(c.FormValue("reason"))
	f := caseForms{Focus: "decision", Errors: map[string]string{}, Values: map[string]string{"outcome": outcome,
		"reason": reason, "amount": c.FormValue("amount"), "months": c.FormValue("months"), "period": c.FormValue("period")}}
	var amount *storage.Amount
	switch outcome {
	case storage.StatusAdmitted:
		cents, msg := forms.ParseAmountEUR(f.Values["amount"])
		if msg != "" {
			f.Errors["amount"] = msg
		}
		am := storage.Amount{Cents: cents, Period: f.Values["period"], Months: 1}
		switch am.Period {
		case "once":
		case "month":
			m, err := strconv.Atoi(strings.TrimSpace(f.Values["months"]))
			if err != nil || m < 1 || m > 36 {
				f.Errors["months"] = "staff.case.error.months"
			}
			am.Months = m
		default:
			f.Errors["period"] = forms.ErrRequired
		}
		amount = &am
	case storage.StatusNotAdmitted:
		if reason == "" {
			f.Errors["reason"] = "staff.case.error.reason_required"
		}
	default:
		f.Errors["outcome"] = forms.ErrRequired
	}
	if utf8.RuneCountInString(reason) > 2000 {
		f.Errors["reason"] = "staff.case.error.too_long"
	}
	if len(f.Errors) > 0 {
		return s.renderCase(c, fiber.StatusUnprocessableEntity, a, f)
	}
	return s.staffStep(c, a, f, storage.Transition{To: outcome, Event: "decision", EventData: map[string]string{"outcome": outcome},
		Apply: storage.Decide(reason, amount, s.now()),
		Then: func(ctx context.Context, tx pgx.Tx, a storage.Case) error {
			return s.notifyCaseNews(ctx, tx, a, "decision:"+outcome)
		}}, "staff.case.decided")
}

// submitStaffCasePaid records that a funded application was paid.
func (s *Server) submitStaffCasePaid(c *fiber.Ctx) error {
	a, err := s.loadCase(c)
	if err != nil {
		return err
	}
	if !canWork(currentStaff(c), a) {
		return errStaffForbidden(nil)
	}
	return s.staffStep(c, a, caseForms{}, storage.Transition{To: storage.StatusPaid, Event: "paid",
		Then: func(ctx context.Context, tx pgx.Tx, a storage.Case) error {
			return s.notifyCaseNews(ctx, tx, a, "paid")
		}},
		"staff.case.paid")
}
