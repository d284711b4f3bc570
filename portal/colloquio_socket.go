package portal

import (
	"errors"
	"net/http"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// The rooms' WebSockets (colloqui_conn.go serves them once open): the same doors as the pages, every refusal a
// 403 before the upgrade.

// checkWebSocket refuses a handshake that is not one, or that a page of another site started: a handshake is a
// GET but opens a channel in the user's name, so it gets the cross-origin check of a POST.
func (s *Server) checkWebSocket(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		return &Error{Status: fiber.StatusUpgradeRequired, Msg: "bad_request"}
	}
	req := &http.Request{Method: fiber.MethodPost, Host: string(c.Request().Host()), Header: http.Header{}}
	for _, h := range []string{"Sec-Fetch-Site", "Origin"} {
		if v := c.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	if err := s.crossOrigin.Check(req); err != nil {
		return errCSRF(err)
	}
	return nil
}

// roomSocket upgrades to the room's WebSocket for a guest the door let through.
func (s *Server) roomSocket(c *fiber.Ctx, g roomGuest, refusal *roomRefusal) error {
	if refusal == nil {
		refusal = roomCheck(g.Booking, s.now())
	}
	if refusal != nil {
		return errRoomRefused(errors.New(refusal.Msg))
	}
	if s.Config.Video.JitsiURL != "" {
		return errRoomRefused(errors.New("colloqui: the rooms are on Jitsi"))
	}
	return websocket.New(func(ws *websocket.Conn) { s.serveRoom(ws, g) })(c)
}

// socketRefusal is a door's error as the WebSocket answers it: whatever the page would show as not found (another
// resident's appointment, a stale invitation) is a plain 403 here, like every other refusal.
func socketRefusal(err error) error {
	var pe *Error
	if errors.As(err, &pe) && pe.Status == fiber.StatusNotFound {
		return errRoomRefused(err)
	}
	return err
}

// openColloquioSocket is the resident's WebSocket.
func (s *Server) openColloquioSocket(c *fiber.Ctx) error {
	if err := s.checkWebSocket(c); err != nil {
		return err
	}
	g, err := s.residentGuest(c)
	if err != nil {
		return socketRefusal(err)
	}
	return s.roomSocket(c, g, nil)
}

// openInvitedColloquioSocket is the mediator's WebSocket.
func (s *Server) openInvitedColloquioSocket(c *fiber.Ctx) error {
	if err := s.checkWebSocket(c); err != nil {
		return err
	}
	g, err := s.mediatorGuest(c)
	if err != nil {
		return socketRefusal(err)
	}
	return s.roomSocket(c, g, nil)
}

// openStaffColloquioSocket is the worker's WebSocket: the staff session's account, loaded as on every staff page
// (a disabled account is refused at once).
func (s *Server) openStaffColloquioSocket(c *fiber.Ctx) error {
	if err := s.checkWebSocket(c); err != nil {
		return err
	}
	var u *storage.StaffUser
	if id := staffIDOf(s.staffSessions.of(c).User()); id != 0 {
		acct, err := s.DB.StaffUserByID(c.UserContext(), id)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err == nil && acct.DisabledAt == nil && !acct.MustChangePassword {
			u = &acct
		}
	}
	if u == nil {
		return errRoomRefused(errors.New("colloqui: no staff session"))
	}
	g, refusal, err := s.workerGuest(c, u)
	if err != nil {
		return socketRefusal(err)
	}
	return s.roomSocket(c, g, refusal)
}
