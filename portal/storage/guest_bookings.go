package storage

import (
	"context"
	"fmt"
	"time"
)

// Guest bookings: made without an account by someone who proved their e-mail address with a code (migrations 010
// and 013). They are reached again only through the link of their confirmation (BookingByToken); the service's
// limit of open appointments applies to the address.

// BookingByGuestKey returns the guest's booking made with a confirm form's key, or ErrNotFound.
func (db *DB) BookingByGuestKey(ctx context.Context, key, email string) (Booking, error) {
	return bookingBy(ctx, db.Pool, `WHERE b.create_key = $1 AND b.guest_email = $2`, key, email)
}

// OpenGuestBookings counts the appointments booked with a guest e-mail for a service that are still to come at now.
func (db *DB) OpenGuestBookings(ctx context.Context, email, service string, now time.Time) (int, error) {
	var n int
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM bookings WHERE guest_email = $1 AND service = $2
		AND status = 'booked' AND starts_at > $3`, email, service, now).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("storage: open guest bookings: %w", err)
	}
	return n, nil
}
