package portal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/notifications"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
	"github.com/comunitasocialecremasca/smartservices/portal/views"
)

// The link to move or cancel an appointment without signing in (/appuntamenti/gestisci/<secret>): the secret is
// 256 random bits, base64url; only its SHA-256 is stored (bookings.reschedule_token_hash), so a copy of the
// database opens no appointment. A random secret was chosen over an HMAC of the booking's ID: it needs no key
// rotation story, and a leaked SESSION_SECRET would not open every appointment. Each booking has its own secret:
// moving writes a new booking with a new secret and sends its link; the old link then shows the appointment
// moved. The link dies with the booking's future: past, cancelled or moved, it shows the booking and offers
// nothing. The same actions, signed in, are under /appuntamenti/<id>.

const managePath = appointmentsPath + "/gestisci/"

// newLinkSecret returns a link's secret and the hash stored for it.
func newLinkSecret() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	secret := base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(secret))
	return secret, h[:]
}

// linkHash is the stored hash of a link's secret, or nil when it cannot be a secret we made.
func linkHash(secret string) []byte {
	if b, err := base64.RawURLEncoding.DecodeString(secret); err != nil || len(b) != 32 {
		return nil
	}
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// errBadLink is a link to an appointment that does not exist: mistyped, cut by a mail program, or forged.
func errBadLink(cause error) error {
	return &Error{Status: fiber.StatusNotFound, Msg: "appointment_link", Cause: cause}
}

// appointmentAccess is an appointment with the way the resident reached it: signed in (its page under
// /appuntamenti/<id>) or through the link (under /appuntamenti/gestisci/<secret>).
type appointmentAccess struct {
	Booking storage.Booking
	Where   storage.BookingWhere
	Base    string // the URL the appointment's pages hang under
	ByLink  bool
}

// accessOf loads the appointment of the URL: by the link's secret on the link's pages, else the signed-in
// resident's own.
func (s *Server) accessOf(c *fiber.Ctx) (appointmentAccess, error) {
	if secret := c.Params("token"); secret != "" {
		h := linkHash(secret)
		if h == nil {
			return appointmentAccess{}, errBadLink(errors.New("appointment link: malformed secret"))
		}
		b, err := s.DB.BookingByToken(c.UserContext(), h)
		if errors.Is(err, storage.ErrNotFound) {
			return appointmentAccess{}, errBadLink(err)
		}
		return appointmentAccess{Booking: b, Where: storage.BookingWhere{TokenHash: h}, Base: managePath + secret, ByLink: true}, err
	}
	b, err := s.loadAppointment(c)
	if errors.Is(err, storage.ErrNotFound) {
		return appointmentAccess{}, errNotFound(err)
	}
	return appointmentAccess{Booking: b, Where: storage.BookingWhere{ID: b.ID, PersonID: personID(sessionOf(c))},
		Base: appointmentPath(b.ID)}, err
}

// showManagedAppointment is the page the confirmation's link opens: the appointment, and while it is to come,
// moving it to another time and cancelling it.
func (s *Server) showManagedAppointment(c *fiber.Ctx) error {
	a, err := s.accessOf(c)
	if err != nil {
		return err
	}
	alert := ""
	switch {
	case c.Query("spostato") == "1":
	case a.Booking.Status == storage.BookingCancelled:
		alert = "appointments.manage.is_cancelled"
	case a.Booking.Status == storage.BookingMoved:
		alert = "appointments.manage.is_moved"
	case !a.Booking.Upcoming(s.now()):
		alert = "appointments.manage.is_past"
	}
	return s.renderManaged(c, fiber.StatusOK, a, alert)
}

func (s *Server) renderManaged(c *fiber.Ctx, status int, a appointmentAccess, alert string) error {
	z := s.localizer(c)
	lang, _ := s.I18n.Lookup(a.Booking.Lang)
	return s.render(c, status, "appointment_manage", z.T("appointments.show.title", map[string]any{"Date": z.Date(a.Booking.StartsAt)}),
		[]views.Crumb{s.home(c)}, map[string]any{"Booking": a.Booking, "Upcoming": a.Booking.Upcoming(s.now()),
			"Language": lang, "Base": a.Base, "Alert": alert, "Moved": c.Query("spostato") == "1",
			"Cancelled": c.Query("annullato") == "1", "HowTo": howTo(a.Booking),
			"Booked": c.Query("prenotato") == "1" && a.Booking.Guest() && a.Booking.Upcoming(s.now()),
			"Room":   a.Booking.PersonID != nil && len(roomsOf([]storage.Booking{a.Booking}, s.now())) > 0})
}

// howTo is the message ID of how an appointment takes place; a guest is called on the number they gave, not a
// profile's.
func howTo(b storage.Booking) string {
	if b.Guest() && b.Mode == "phone" {
		return "appointments.show.howto.phone_guest"
	}
	return "appointments.show.howto." + b.Mode
}

// showManagedCancelPage asks to confirm cancelling through the link.
func (s *Server) showManagedCancelPage(c *fiber.Ctx) error {
	a, err := s.accessOf(c)
	if err != nil {
		return err
	}
	if !a.Booking.Upcoming(s.now()) {
		return s.renderManaged(c, fiber.StatusConflict, a, "appointments.error.not_cancellable")
	}
	z := s.localizer(c)
	return s.render(c, fiber.StatusOK, "appointment_cancel", z.T("appointments.cancel.title"), []views.Crumb{s.home(c)},
		map[string]any{"Booking": a.Booking, "Base": a.Base})
}

// submitManagedCancel cancels through the link, withdrawing the reminder in the same transaction.
func (s *Server) submitManagedCancel(c *fiber.Ctx) error {
	a, err := s.accessOf(c)
	if err != nil {
		return err
	}
	if _, err := s.cancelAppointment(c.UserContext(), a.Where); errors.Is(err, storage.ErrNotCancellable) {
		return s.renderManaged(c, fiber.StatusConflict, a, "appointments.error.not_cancellable")
	} else if err != nil {
		return err
	}
	return c.Redirect(a.Base+"?annullato=1", fiber.StatusSeeOther)
}

// cancelAppointment cancels the booking and withdraws its reminder, in one transaction.
func (s *Server) cancelAppointment(ctx context.Context, w storage.BookingWhere) (storage.Booking, error) {
	return s.DB.Cancel(ctx, w, s.now(), func(tx pgx.Tx, b storage.Booking) error {
		return s.Outbox.Cancel(ctx, tx, reminderKey(b.ID), s.now())
	})
}

func reminderKey(id int64) string { return "appointment_reminder:" + strconv.FormatInt(id, 10) }

// reminderLead is how long before an appointment its reminder goes out.
const reminderLead = 24 * time.Hour

// notifyBooked writes, in the booking's transaction, the confirmation of b and its reminder for the day before
// (none when the appointment is less than a day away). E-mail and SMS carry the link with secret; the inbox, which
// the resident reads signed in, links the appointment's page, so no secret stays in the inbox.
func (s *Server) notifyBooked(ctx context.Context, tx pgx.Tx, b storage.Booking, to notifications.Recipient,
	channels []notifications.Channel, secret string) error {
	id := strconv.FormatInt(b.ID, 10)
	when := b.StartsAt.In(i18n.Rome).Format(notifications.WhenLayout)
	var outside, inbox []notifications.Channel
	for _, ch := range channels {
		if ch == notifications.Inbox {
			inbox = append(inbox, ch)
		} else {
			outside = append(outside, ch)
		}
	}
	var msgs []notifications.Message
	remindAt := b.StartsAt.Add(-reminderLead)
	for _, kind := range []string{notifications.KindAppointmentBooked, notifications.KindAppointmentReminder} {
		var sendAt time.Time
		if kind == notifications.KindAppointmentReminder {
			if !remindAt.After(s.now()) {
				continue
			}
			sendAt = remindAt
		}
		key := kind + ":" + id
		if len(outside) > 0 {
			msgs = append(msgs, notifications.Message{Kind: kind, To: to, Channels: outside, UniqueKey: key, SendAt: sendAt,
				Data: map[string]string{"When": when, "Link": managePath + secret, "Booking": id}})
		}
		if len(inbox) > 0 {
			msgs = append(msgs, notifications.Message{Kind: kind, To: to, Channels: inbox, UniqueKey: key, SendAt: sendAt,
				Data: map[string]string{"When": when, "Link": appointmentPath(b.ID)}})
		}
	}
	return s.Outbox.Enqueue(ctx, tx, msgs...)
}

// recipientOfBooking is who the messages of a booking go to: its resident, as their profile is now, or the guest
// who made it.
func (s *Server) recipientOfBooking(ctx context.Context, b storage.Booking) (notifications.Recipient, []notifications.Channel, error) {
	if b.Guest() {
		to, ch := guestRecipient(b)
		return to, ch, nil
	}
	if b.PersonID == nil {
		return notifications.Recipient{}, nil, errors.New("booking without a person")
	}
	p, err := s.DB.PersonByID(ctx, *b.PersonID)
	if err != nil {
		return notifications.Recipient{}, nil, err
	}
	to, ch := recipientOf(p)
	return to, ch, nil
}
