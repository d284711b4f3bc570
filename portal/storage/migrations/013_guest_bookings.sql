-- Guest bookings (010 has guest_email and guest_verified_at): a resident without an account books a service that
-- allows it and confirms with a code sent to their e-mail. The office needs to know who is coming and how to reach
-- them, and the messages (confirmation, reminder) go out in the language the guest read the portal in: a name, an
-- optional mobile number (SMS, and the number an appointment by phone is called on) and that language, for guest
-- bookings only.
ALTER TABLE bookings
    ADD COLUMN guest_name  text CHECK (guest_name = btrim(guest_name) AND length(guest_name) BETWEEN 1 AND 100),
    ADD COLUMN guest_phone text CHECK (guest_phone ~ '^\+[0-9]{8,15}$'),
    ADD COLUMN guest_lang  text CHECK (guest_lang ~ '^[a-z]{2,3}(-[A-Za-z]{2,4})?$'),
    ADD CONSTRAINT bookings_guest_details CHECK (CASE WHEN guest_email IS NULL
        THEN guest_name IS NULL AND guest_phone IS NULL AND guest_lang IS NULL
        ELSE guest_name IS NOT NULL AND guest_lang IS NOT NULL END);

-- one place per guest e-mail in a slot, as bookings_one_per_person_slot for residents; it also serves counting a
-- guest's open bookings of a service (the per-person limit applies to guests by e-mail)
CREATE UNIQUE INDEX bookings_one_per_guest_slot ON bookings (guest_email, service, starts_at)
    WHERE guest_email IS NOT NULL AND status IN ('booked', 'arrived', 'no_show');
