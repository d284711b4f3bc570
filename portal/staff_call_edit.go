package portal

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// staffCall loads the call of the :id in the path; a call of a measure the portal does not know is not found.
func (s *Server) staffCall(c *fiber.Ctx) (storage.Call, forms.Measure, error) {
	id, err := c.ParamsInt("id")
	if err != nil {
		return storage.Call{}, forms.Measure{}, errNotFound(err)
	}
	call, err := s.DB.CallByID(c.UserContext(), int64(id))
	if err != nil {
		return call, forms.Measure{}, err
	}
	m, ok := forms.MeasureByCode(call.Measure)
	if !ok {
		return call, m, errNotFound(nil)
	}
	return call, m, nil
}

func (s *Server) showStaffCallEditPage(c *fiber.Ctx) error {
	call, m, err := s.staffCall(c)
	if err != nil {
		return err
	}
	return s.renderStaffCall(c, fiber.StatusOK, &call, callFormFrom(m, call, s.now()), "")
}

// submitStaffCallEdit saves a call's window, thresholds and budgets, and its form version while it has not opened.
// Measure and year stay: they are what the call is.
func (s *Server) submitStaffCallEdit(c *fiber.Ctx) error {
	ctx := c.UserContext()
	call, m, err := s.staffCall(c)
	if err != nil {
		return err
	}
	z := s.localizer(c)
	now := s.now()
	f := callFormFrom(m, call, now)
	changed := parseCallForm(c, f, z.Lang.Code)
	if len(f.Errors) > 0 {
		return s.renderStaffCall(c, fiber.StatusUnprocessableEntity, &call, f, z.T("staff.error.form"))
	}
	changed.ID = call.ID
	err = s.DB.UpdateCall(ctx, changed, now)
	if errors.Is(err, storage.ErrCallFormLocked) {
		// The call opened between the page and the save: read the form again against the call as it is now, which
		// fixes the version and names the field.
		if call, err = s.DB.CallByID(ctx, call.ID); err != nil {
			return err
		}
		f = callFormFrom(m, call, now)
		f.VersionFixed = true
		parseCallForm(c, f, z.Lang.Code)
		return s.renderStaffCall(c, fiber.StatusUnprocessableEntity, &call, f, z.T("staff.error.form"))
	}
	if err != nil {
		return err
	}
	return s.redirectWithNotice(c, "/backoffice/avvisi", "staff.call.saved")
}
