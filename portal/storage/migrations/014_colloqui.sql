-- Online colloqui: who receives each appointment (its assigned worker), and the invitations a worker sends a
-- cultural mediator to join an online appointment's video room. Nothing of a colloquio itself is stored: the
-- room's signalling and chat pass through Redis pub/sub and are never written anywhere.

-- The worker who receives the appointment: set by staff from the calendar; by default (trigger below) the worker
-- whose own weekly hours opened the slot, when that is known. NULL: nobody yet (an office-wide pattern opened it).
ALTER TABLE bookings ADD COLUMN staff_id bigint REFERENCES staff_users (id) ON DELETE SET NULL;
CREATE INDEX bookings_staff ON bookings (staff_id, starts_at) WHERE staff_id IS NOT NULL;

-- The default worker of a new booking: among the enabled workers whose own pattern (or extra opening) covers the
-- slot at the booking's office and service, aligned on the service's slot length, and not on leave then, the
-- first who has no other appointment at that time. A slot opened by the office-wide hours only, or whose workers
-- are all taken, gets none. A booking written with a worker keeps it. Rescheduling writes a new booking, which
-- gets the new slot's worker. Bookings of one slot cannot pick the same worker at once: the booking transaction
-- holds the slot counter's row lock before it inserts (010), so each sees the ones before it; a worker with
-- hours for two services could still get two appointments at one time, which staff then reassign.
CREATE FUNCTION bookings_default_worker() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    local_end   timestamp := NEW.ends_at AT TIME ZONE 'Europe/Rome';
    day         date := (NEW.starts_at AT TIME ZONE 'Europe/Rome')::date;
    t0          time := (NEW.starts_at AT TIME ZONE 'Europe/Rome')::time;
    t1          time := (NEW.ends_at AT TIME ZONE 'Europe/Rome')::time;
    minutes     int;
BEGIN
    IF NEW.staff_id IS NOT NULL OR local_end::date <> day THEN
        RETURN NEW;
    END IF;
    SELECT slot_minutes INTO minutes FROM services WHERE code = NEW.service;
    SELECT w.staff_id INTO NEW.staff_id
    FROM (
        SELECT a.staff_id, a.starts FROM availability a
        WHERE a.office = NEW.office AND a.service = NEW.service AND a.staff_id IS NOT NULL
            AND a.weekday = extract(isodow FROM day) AND a.starts <= t0 AND a.ends >= t1
            AND (a.valid_from IS NULL OR a.valid_from <= day) AND (a.valid_to IS NULL OR a.valid_to >= day)
        UNION ALL
        SELECT e.staff_id, e.starts FROM availability_exceptions e
        WHERE e.office = NEW.office AND e.service = NEW.service AND e.staff_id IS NOT NULL AND e.kind = 'open'
            AND day BETWEEN e.first_day AND e.last_day AND e.starts <= t0 AND e.ends >= t1
    ) w
    JOIN staff_users u ON u.id = w.staff_id AND u.disabled_at IS NULL
    WHERE (extract(epoch FROM t0 - w.starts)::int / 60) % minutes = 0
        AND NOT EXISTS (SELECT 1 FROM availability_exceptions x
            WHERE x.office = NEW.office AND x.kind = 'closed' AND (x.staff_id IS NULL OR x.staff_id = w.staff_id)
                AND (x.service IS NULL OR x.service = NEW.service) AND day BETWEEN x.first_day AND x.last_day
                AND (x.starts IS NULL OR (x.starts < t1 AND x.ends > t0)))
        AND NOT EXISTS (SELECT 1 FROM bookings o
            WHERE o.staff_id = w.staff_id AND o.status IN ('booked', 'arrived', 'no_show')
                AND o.starts_at < NEW.ends_at AND o.ends_at > NEW.starts_at)
    ORDER BY w.staff_id
    LIMIT 1;
    RETURN NEW;
END $$;
CREATE TRIGGER bookings_default_worker BEFORE INSERT ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_default_worker();

-- An invitation to an online appointment's room for a cultural mediator or interpreter, written by the assigned
-- worker. The link carries 256 random bits; only their SHA-256 is kept. One invitation is valid per booking at a
-- time: a new one revokes the one before. It opens the room in the booking's time window only, like every other
-- participant's access.
CREATE TABLE colloquio_invitations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_id  bigint      NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    token_hash  bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100), -- how the room shows the mediator
    created_by  bigint      REFERENCES staff_users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE UNIQUE INDEX colloquio_invitations_one_valid ON colloquio_invitations (booking_id) WHERE revoked_at IS NULL;
