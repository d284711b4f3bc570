package portal

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// The three doors of a room (colloqui.go): each renders the room, or why its guest cannot enter (403).

// showColloquioPage is the resident's door.
func (s *Server) showColloquioPage(c *fiber.Ctx) error {
	g, err := s.residentGuest(c)
	if err != nil {
		return err
	}
	return s.enterRoomPage(c, g, roomCheck(g.Booking, s.now()))
}

// showInvitedColloquioPage is the mediator's door.
func (s *Server) showInvitedColloquioPage(c *fiber.Ctx) error {
	g, err := s.mediatorGuest(c)
	if err != nil {
		return err
	}
	return s.enterRoomPage(c, g, roomCheck(g.Booking, s.now()))
}

// showStaffColloquioPage is the worker's door.
func (s *Server) showStaffColloquioPage(c *fiber.Ctx) error {
	g, refusal, err := s.workerGuest(c, currentStaff(c))
	if err != nil {
		return err
	}
	if refusal == nil {
		refusal = roomCheck(g.Booking, s.now())
	}
	return s.enterRoomPage(c, g, refusal)
}

// enterRoomPage renders the room (or sends to Jitsi), or the reason the guest cannot enter (403).
func (s *Server) enterRoomPage(c *fiber.Ctx, g roomGuest, refusal *roomRefusal) error {
	z := s.localizer(c)
	b := g.Booking
	crumbs := s.roomCrumbs(c, g)
	render := func(status int, title string, data map[string]any) error {
		if g.Role == roleWorker {
			return s.renderStaff(c, status, "staff_colloquio", title, crumbs, data)
		}
		return s.render(c, status, "colloquio", title, crumbs, data)
	}
	data := map[string]any{"Booking": b, "Guest": g, "Calendar": calendarURL(b.Office, b.StartsAt)}
	if refusal != nil {
		args := map[string]any{}
		for k, v := range refusal.Data {
			if t, ok := v.(time.Time); ok {
				v = z.Date(t)
			}
			args[k] = v
		}
		data["Refusal"] = z.T(refusal.Msg, args)
		s.Log.Info("colloqui: refused", "role", g.Role, "reason", refusal.Msg)
		return render(fiber.StatusForbidden, z.T("colloqui.refused.title"), data)
	}
	if s.Config.Video.JitsiURL != "" {
		to, err := s.jitsiRoomURL(g, s.now())
		if err != nil {
			return err
		}
		return c.Redirect(to, fiber.StatusSeeOther)
	}
	ice, err := json.Marshal(s.iceServers(b, s.now()))
	if err != nil {
		return err
	}
	text, err := json.Marshal(roomTexts(z))
	if err != nil {
		return err
	}
	data["ICE"], data["Text"] = string(ice), string(text)
	c.Set(fiber.HeaderContentSecurityPolicy, s.roomCSP())
	data["Waiting"] = g.Role != roleWorker
	data["Times"] = b.StartsAt.In(i18n.Rome).Format("15:04") + "–" + b.EndsAt.In(i18n.Rome).Format("15:04")
	if g.Role == roleWorker {
		inv, err := s.DB.ValidInvitation(c.UserContext(), b.ID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		data["Invitation"] = inv
	}
	return render(fiber.StatusOK, z.T("colloqui.room.title"), data)
}

func (s *Server) roomCrumbs(c *fiber.Ctx, g roomGuest) []views.Crumb {
	z := s.localizer(c)
	switch g.Role {
	case roleResident:
		return []views.Crumb{s.home(c), {Title: z.T("nav.personal_area"), URL: "/area-personale"},
			{Title: z.T("appointments.mine.title"), URL: appointmentsPath}}
	case roleWorker:
		return []views.Crumb{s.staffCrumb(c), {Title: z.T("calendar.title"), URL: calendarURL(g.Booking.Office, g.Booking.StartsAt)}}
	}
	return []views.Crumb{s.home(c)}
}

// roomTexts are the page script's messages, in the page's language; {name} stands for a participant's name.
func roomTexts(z *i18n.Localizer) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"joined", "left", "waits", "worker_here", "worker_away", "admit", "you", "connecting",
		"connected", "failed", "mic_off", "cam_off", "ended", "replaced", "hung_up", "lost", "no_media", "nobody_waits",
		"admitted", "role_resident", "role_worker", "role_mediator"} {
		out[k] = z.T("colloqui.js."+k, map[string]any{"Name": "{name}"})
	}
	return out
}

// roomCSP is the portal's Content-Security-Policy with the room's WebSocket origin named besides 'self', for
// browsers that do not count ws:/wss: as 'self' yet.
func (s *Server) roomCSP() string {
	ws := "ws://" + s.Config.BaseURL.Host
	if s.Config.Secure() {
		ws = "wss://" + s.Config.BaseURL.Host
	}
	return strings.Replace(contentSecurityPolicy, "connect-src 'self'", "connect-src 'self' "+ws, 1)
}
