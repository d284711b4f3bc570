package storage

import (
	"context"
)

// Guest bookings: made without an account by someone who proved their e-mail address with a code (migrations 010
// and 013). They are reached again only through the link of their confirmation (BookingByToken); the service's
// limit of open appointments applies to the address.

// BookingByGuestKey returns the guest's booking made with a confirm form's key, or ErrNotFound.
func (db *DB) BookingByGuestKey(ctx context.Context, key, email string) (Booking, error) {
	return bookingBy(ctx, db.Pool, `WHERE b.create_key = $1 AND b.guest_email = $2`, key, email)
}
