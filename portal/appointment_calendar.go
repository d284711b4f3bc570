package portal

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comunitasocialecremasca/smartservices/i18n"
	"github.com/comunitasocialecremasca/smartservices/notifications"
	"github.com/comunitasocialecremasca/smartservices/portal/ics"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

const icsType = "text/calendar; charset=utf-8; method=PUBLISH"

// appointmentCalendar is the .ics of b in z's language; link is the appointment's page (absolute).
func appointmentCalendar(b storage.Booking, z *i18n.Localizer, host, link string, now time.Time) []byte {
	e := ics.Event{
		UID:   "appointment-" + strconv.FormatInt(b.ID, 10) + "@" + host,
		Stamp: now, Start: b.StartsAt, End: b.EndsAt,
		Summary:     z.T("appointments.service."+b.ServiceMsg+".title") + " · " + b.OfficeName,
		Description: z.T(howTo(b)),
		URL:         link,
		Cancelled:   b.Status == storage.BookingCancelled || b.Status == storage.BookingMoved,
	}
	if b.Mode == "in_person" {
		e.Location = b.OfficeName + ", " + b.OfficeAddress + ", " + b.ComuneName
	} else {
		e.Location = z.T("appointments.mode." + b.Mode)
	}
	return ics.Calendar(e, i18n.Rome)
}

// downloadAppointmentCalendar is the appointment's .ics, for the resident signed in or through the link.
func (s *Server) downloadAppointmentCalendar(c *fiber.Ctx) error {
	a, err := s.accessOf(c)
	if err != nil {
		return err
	}
	body := appointmentCalendar(a.Booking, s.localizer(c), s.Config.BaseURL.Hostname(), strings.TrimSuffix(s.Config.BaseURL.String(), "/")+a.Base, s.now())
	c.Set(fiber.HeaderContentType, icsType)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="appuntamento.ics"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(body)
}

// AppointmentAttachments gives the worker (notifications.Deps.Attachments) the .ics of the appointment a
// confirmation or a reminder is about, as the booking is when the e-mail goes out; nothing for other kinds, or
// when the booking is no longer booked.
func AppointmentAttachments(db *storage.DB, bundle *i18n.Bundle, baseURL *url.URL) func(ctx context.Context, kind, lang string, data map[string]string) ([]notifications.Attachment, error) {
	base, host := strings.TrimSuffix(baseURL.String(), "/"), baseURL.Hostname()
	return func(ctx context.Context, kind, lang string, data map[string]string) ([]notifications.Attachment, error) {
		if kind != notifications.KindAppointmentBooked && kind != notifications.KindAppointmentReminder {
			return nil, nil
		}
		id, err := strconv.ParseInt(data["Booking"], 10, 64)
		if err != nil {
			return nil, nil // written before bookings had their ID in the message
		}
		b, err := db.BookingByID(ctx, id)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && b.Status != storage.BookingBooked) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return []notifications.Attachment{{Name: "appuntamento.ics", ContentType: icsType,
			Data: appointmentCalendar(b, bundle.Localizer(lang), host, base+data["Link"], time.Now())}}, nil
	}
}
