package portal

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// submitStaffRankingRun runs ("Ricalcola") a graduatoria: positions and outcomes from the current decisions and
// budget, in one transaction, with a message to each applicant whose outcome changed (and to nobody else). An
// approved graduatoria is refused with its reason; so is one with an application the budget cannot price.
func (s *Server) submitStaffRankingRun(c *fiber.Ctx) error {
	v, err := s.loadRanking(c)
	if err != nil {
		return err
	}
	z := s.localizer(c)
	_, err = s.DB.RunRanking(c.UserContext(), storage.RankingRun{CallID: v.Call.ID, Category: v.Category, Actor: staffActor(c),
		Now: s.now(), Notify: func(ctx context.Context, tx pgx.Tx, changed []storage.Case, key string) error {
			for _, a := range changed {
				if err := s.notifyCaseNews(ctx, tx, a, key); err != nil {
					return err
				}
			}
			return nil
		}})
	var noAmount *storage.RankingNoAmountError
	switch {
	case errors.Is(err, storage.ErrRankingApproved):
		return s.renderStaffRanking(c, fiber.StatusConflict, v, z.T("staff.ranking.error.approved"), nil)
	case errors.As(err, &noAmount):
		return s.renderStaffRanking(c, fiber.StatusUnprocessableEntity, v,
			z.T("staff.ranking.error.no_amount", map[string]any{"Protocol": noAmount.Protocol}), nil)
	case err != nil:
		return err
	}
	return s.redirectWithNotice(c, v.Path, "staff.ranking.notice_run")
}
