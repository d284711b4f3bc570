package portal

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/notifications"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// The back office works submitted applications ("pratiche") within the signed-in account's scope: an operatore
// sees the sub-ambiti they work in, coordinators and admins the whole district. Scope is a condition of every
// query (storage.ScopeSQL), never a check after reading; every read of an application or a document and every
// change is written to the audit log.

const casesPath = "/backoffice/pratiche"

func casePath(id int64) string { return casesPath + "/" + strconv.FormatInt(id, 10) }

// staffScope is the signed-in account's scope.
func staffScope(c *fiber.Ctx) storage.Scope { return storage.ScopeOf(*currentStaff(c)) }

// staffActor is the signed-in account, for the audit log, with the address the request came from.
func staffActor(c *fiber.Ctx) storage.Actor {
	return storage.Actor{StaffID: currentStaff(c).ID, IP: c.IP()}
}

// recipientOfCase is the applicant of a case, reached as they chose in their profile (and always in the portal).
func recipientOfCase(a storage.Case) (notifications.Recipient, []notifications.Channel) {
	p := storage.Person{ID: a.ApplicantID, Lang: a.ApplicantLang, Email: a.ApplicantEmail, Phone: a.ApplicantPhone,
		NotifyEmail: a.ApplicantByEmail, NotifySMS: a.ApplicantBySMS}
	return recipientOf(p)
}

// notifyCaseNews tells the applicant, in their language, that their application has news — and nothing of what:
// they read it after signing in. key names the step that caused it; with the application's last change it makes
// the message once-only, so a retried transaction never sends it twice.
func (s *Server) notifyCaseNews(ctx context.Context, tx pgx.Tx, a storage.Case, key string) error {
	return s.notifyCaseNewsAt(ctx, tx, a, key, applicationPath(a.ID))
}

// notifyCaseNewsAt is notifyCaseNews with the link to another page of the application (the answer to a request).
func (s *Server) notifyCaseNewsAt(ctx context.Context, tx pgx.Tx, a storage.Case, key, link string) error {
	to, channels := recipientOfCase(a)
	protocol := ""
	if a.Protocol != nil {
		protocol = *a.Protocol
	}
	return s.Outbox.Enqueue(ctx, tx, notifications.Message{Kind: notifications.KindCaseNews, To: to, Channels: channels,
		Data:      map[string]string{"Protocol": protocol, "Link": link},
		UniqueKey: "case_news:" + strconv.FormatInt(a.ID, 10) + ":" + key + ":" + strconv.FormatInt(a.UpdatedAt.UnixMicro(), 10)})
}
