package portal

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// submitStaffCallOpenNow opens an upcoming call at once: its opening becomes the server's now.
func (s *Server) submitStaffCallOpenNow(c *fiber.Ctx) error {
	return s.moveCallWindow(c, s.DB.OpenCallNow, "staff.call.opened", "staff.error.call_not_upcoming")
}

// submitStaffCallCloseNow closes an open call at once: its closing becomes the server's now.
func (s *Server) submitStaffCallCloseNow(c *fiber.Ctx) error {
	return s.moveCallWindow(c, s.DB.CloseCallNow, "staff.call.closed", "staff.error.call_not_open")
}

// moveCallWindow runs an "open now" or "close now". The state condition lives in the UPDATE, so a second click
// or a page left open since yesterday changes nothing and says why (409, the edit page as the call is now).
func (s *Server) moveCallWindow(c *fiber.Ctx, move func(ctx context.Context, id int64, now time.Time) error, done, refused string) error {
	ctx := c.UserContext()
	call, m, err := s.staffCall(c)
	if err != nil {
		return err
	}
	err = move(ctx, call.ID, s.now())
	if errors.Is(err, storage.ErrCallState) {
		return s.renderStaffCall(c, fiber.StatusConflict, &call, callFormFrom(m, call, s.now()), s.localizer(c).T(refused))
	}
	if err != nil {
		return err
	}
	return s.redirectWithNotice(c, "/backoffice/avvisi/"+strconv.FormatInt(call.ID, 10), done)
}
