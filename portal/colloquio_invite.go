package portal

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// The worker invites a cultural mediator (or an interpreter) to an online appointment's room: a link with a
// secret of its own (/colloqui/invito/<secret>, only the SHA-256 kept), shown once to the worker, who passes it
// on. One invitation is valid at a time: a new one, or revoking, kills the one before. The link opens the room
// in the appointment's time window only, and the mediator waits to be admitted like the resident.

// inviteGuest is the assigned worker at the invitation page of an online appointment still to end; anything else
// is the room's refusal (an appointment out of scope: 404).
func (s *Server) inviteGuest(c *fiber.Ctx) (roomGuest, *roomRefusal, error) {
	g, refusal, err := s.workerGuest(c, currentStaff(c))
	if err != nil || refusal != nil {
		return g, refusal, err
	}
	if r := roomCheck(g.Booking, s.now()); r != nil && r.Msg != "colloqui.refused.too_early" {
		return g, r, nil // invitations are written before the room opens, not after it closed
	}
	return g, nil, nil
}

// showColloquioInvitePage shows the valid invitation, if any, and the form for a new one.
func (s *Server) showColloquioInvitePage(c *fiber.Ctx) error {
	g, refusal, err := s.inviteGuest(c)
	if err != nil {
		return err
	}
	if refusal != nil {
		return s.enterRoomPage(c, g, refusal)
	}
	return s.renderInvite(c, fiber.StatusOK, g, newForm(), "")
}

// submitColloquioInvite writes a new invitation for the mediator named in the form, and shows its link once.
func (s *Server) submitColloquioInvite(c *fiber.Ctx) error {
	g, refusal, err := s.inviteGuest(c)
	if err != nil {
		return err
	}
	if refusal != nil {
		return s.enterRoomPage(c, g, refusal)
	}
	f := newForm()
	name := strings.Join(strings.Fields(c.FormValue("nome")), " ")
	f.Values["nome"] = c.FormValue("nome")
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		f.fail("nome", "colloqui.invite.error.name")
	case n > 100:
		f.fail("nome", "colloqui.invite.error.name_long")
	}
	if !f.ok() {
		return s.renderInvite(c, fiber.StatusUnprocessableEntity, g, f, "")
	}
	secret, hash := newLinkSecret()
	if _, err := s.DB.Invite(c.UserContext(), staffActor(c), g.Booking.ID, name, hash, s.now()); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return errNotFound(err)
		}
		return err
	}
	return s.renderInvite(c, fiber.StatusOK, g, newForm(), s.Config.BaseURL.String()+inviteColloquio+secret)
}

// submitColloquioInviteRevoke revokes the valid invitation.
func (s *Server) submitColloquioInviteRevoke(c *fiber.Ctx) error {
	g, refusal, err := s.inviteGuest(c)
	if err != nil {
		return err
	}
	if refusal != nil {
		return s.enterRoomPage(c, g, refusal)
	}
	err = s.DB.RevokeInvitation(c.UserContext(), staffActor(c), g.Booking.ID, s.now())
	if err != nil && !errors.Is(err, storage.ErrNotFound) { // nothing to revoke: done already
		return err
	}
	return s.redirectWithNotice(c, g.Path+"/invito", "colloqui.invite.revoked")
}

func (s *Server) renderInvite(c *fiber.Ctx, status int, g roomGuest, f *formState, link string) error {
	inv, err := s.DB.ValidInvitation(c.UserContext(), g.Booking.ID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	z := s.localizer(c)
	return s.renderStaff(c, status, "staff_colloquio_invite", z.T("colloqui.invite.title"),
		[]views.Crumb{s.staffCrumb(c), {Title: z.T("calendar.title"), URL: calendarURL(g.Booking.Office, g.Booking.StartsAt)}},
		map[string]any{"Booking": g.Booking, "Invitation": inv, "Form": f, "Link": link, "Path": g.Path + "/invito",
			"Room": g.Path, "Calendar": calendarURL(g.Booking.Office, g.Booking.StartsAt)})
}
