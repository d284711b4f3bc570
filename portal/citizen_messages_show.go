package portal

import (
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/notifications"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

type inboxView struct {
	ID            int64
	Subject, Text string
	SentAt        time.Time
	Unread        bool
}

// showMessagesPage is the resident's in-portal inbox, rendered in the resident's current language.
func (s *Server) showMessagesPage(c *fiber.Ctx) error {
	pid := personID(sessionOf(c))
	items, err := notifications.ListInbox(c.UserContext(), s.DB.Pool, pid, 200)
	if err != nil {
		return err
	}
	z := s.localizer(c)
	list := make([]inboxView, 0, len(items))
	for _, it := range items {
		content, err := s.templates.Render(z.Lang.Code, it.Kind, it.Data)
		if err != nil {
			return err
		}
		list = append(list, inboxView{ID: it.ID, Subject: content.Subject, Text: content.Inbox, SentAt: it.SentAt, Unread: it.ReadAt == nil})
	}
	return s.render(c, fiber.StatusOK, "messages", z.T("page.messages.title"),
		[]views.Crumb{s.home(c), {Title: z.T("nav.personal_area"), URL: "/area-personale"}}, map[string]any{"Messages": list})
}

// markMessageRead marks one of the resident's own messages as read; anyone else's is not found.
func (s *Server) markMessageRead(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return errNotFound(err)
	}
	err = notifications.MarkRead(c.UserContext(), s.DB.Pool, personID(sessionOf(c)), id)
	if errors.Is(err, notifications.ErrNotFound) {
		return errNotFound(err)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/area-personale/messaggi", fiber.StatusSeeOther)
}
