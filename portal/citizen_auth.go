package portal

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/notifications"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// Citizen session keys.
const (
	keyAuthMethod = "auth"   // spid, email
	keyAuthLevel  = "acr"    // SPID level asserted by the provider
	keyNext       = "next"   // where to return after signing in
	keyOIDCState  = "oidc_s" // authorization request in flight: state, nonce, PKCE verifier
	keyOIDCNonce  = "oidc_n"
	keyOIDCPKCE   = "oidc_v"
	keyOTPEmail   = "otp_email" // address a sign-in code was sent to
	keyVerified   = "email_ok"  // address proved by a code, waiting for the fiscal code (first sign-in)
	citizenPrefix = "p:"        // keyUser of a citizen: p:<person id>
)

// requireCitizen lets signed-in residents through and sends everybody else to the sign-in page, which brings
// them back here afterwards.
func (s *Server) requireCitizen(c *fiber.Ctx) error {
	if personID(sessionOf(c)) == 0 {
		return c.Redirect("/accesso?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// personID is the signed-in citizen's ID, or 0.
func personID(sess *Session) int64 {
	if sess == nil {
		return 0
	}
	u := sess.User()
	if !strings.HasPrefix(u, citizenPrefix) {
		return 0
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(u, citizenPrefix), 10, 64)
	return id
}

// currentPerson loads the signed-in citizen.
func (s *Server) currentPerson(c *fiber.Ctx) (storage.Person, error) {
	return s.DB.PersonByID(c.UserContext(), personID(sessionOf(c)))
}

// signInCitizen renews the session for the person, remembers how they signed in, and sends them back where they
// were when they chose to sign in.
func (s *Server) signInCitizen(ctx context.Context, c *fiber.Ctx, p storage.Person, method, level string) error {
	sess := sessionOf(c)
	next, _ := sess.Get(keyNext).(string)
	if err := sess.SignIn(ctx, citizenPrefix+strconv.FormatInt(p.ID, 10)); err != nil {
		return err
	}
	sess.Set(keyAuthMethod, method)
	sess.Set(keyAuthLevel, level)
	if _, ok := s.I18n.Lookup(p.Lang); ok {
		sess.Set(keyLang, p.Lang)
	}
	if next == "" {
		next = "/area-personale"
	}
	return c.Redirect(safeNext(next), fiber.StatusSeeOther)
}

// welcome puts the first message in a new resident's inbox (and e-mail, when known), in the transaction that
// creates the account.
func (s *Server) welcome(ctx context.Context, tx pgx.Tx, p storage.Person) error {
	to, channels := recipientOf(p)
	return s.Outbox.Enqueue(ctx, tx, notifications.Message{Kind: notifications.KindWelcome, To: to, Channels: channels,
		Data: map[string]string{"Link": "/area-personale"}, UniqueKey: "welcome:" + strconv.FormatInt(p.ID, 10)})
}

// recipientOf addresses a message to a resident through the inbox and the channels they chose in their profile.
func recipientOf(p storage.Person) (notifications.Recipient, []notifications.Channel) {
	to := notifications.Recipient{PersonID: p.ID, Lang: p.Lang}
	channels := []notifications.Channel{notifications.Inbox}
	if p.Email != nil && p.NotifyEmail {
		to.Email = *p.Email
		channels = append(channels, notifications.Email)
	}
	if p.Phone != "" && p.NotifySMS {
		to.Phone = p.Phone
		channels = append(channels, notifications.SMS)
	}
	return to, channels
}
