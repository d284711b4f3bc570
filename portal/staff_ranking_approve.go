package portal

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// submitStaffRankingApprove records the commission's approval ("Approva"), which freezes the graduatoria and
// publishes it by protocol number. The form asks to confirm with a checkbox, so it works without JavaScript and
// cannot be sent by a slip of the finger; a graduatoria never run, or no longer what a run would give, is refused.
func (s *Server) submitStaffRankingApprove(c *fiber.Ctx) error {
	v, err := s.loadRanking(c)
	if err != nil {
		return err
	}
	z := s.localizer(c)
	if c.FormValue("confirm") != "yes" {
		return s.renderStaffRanking(c, fiber.StatusUnprocessableEntity, v, "", map[string]string{"confirm": "staff.ranking.error.confirm"})
	}
	err = s.DB.ApproveRanking(c.UserContext(), v.Call.ID, v.Category, staffActor(c), s.now())
	switch {
	case errors.Is(err, storage.ErrRankingApproved):
		return s.renderStaffRanking(c, fiber.StatusConflict, v, z.T("staff.ranking.error.approved"), nil)
	case errors.Is(err, storage.ErrRankingNotRun):
		return s.renderStaffRanking(c, fiber.StatusConflict, v, z.T("staff.ranking.error.not_run"), nil)
	case errors.Is(err, storage.ErrRankingStale):
		return s.renderStaffRanking(c, fiber.StatusConflict, v, z.T("staff.ranking.error.stale"), nil)
	case err != nil:
		return err
	}
	return s.redirectWithNotice(c, v.Path, "staff.ranking.notice_approved")
}
