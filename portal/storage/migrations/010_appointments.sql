-- Appointments: the services residents book, which offices offer them with how many parallel desks, when each
-- office (or one of its workers) receives as weekly patterns with exceptions, and the bookings. The concrete slots
-- are computed from these rows by the slot engine (package portal/slots); only the slots somebody booked have a
-- row here (slot_counters).

-- msg is the message-ID prefix of the service's name and description: appointments.service.<msg>.title / .text.
CREATE TABLE services (
    code                text    PRIMARY KEY CHECK (code ~ '^[a-z0-9-]{2,60}$'),
    msg                 text    NOT NULL CHECK (msg ~ '^[a-z0-9_]{2,60}$'),
    position            int     NOT NULL DEFAULT 0,
    slot_minutes        int     NOT NULL CHECK (slot_minutes BETWEEN 5 AND 240),
    modes               text[]  NOT NULL CHECK (modes <@ ARRAY['in_person', 'phone', 'online'] AND cardinality(modes) > 0),
    -- bookable from N to M days ahead (0: today, later than now)
    bookable_from_days  int     NOT NULL DEFAULT 1 CHECK (bookable_from_days BETWEEN 0 AND 365),
    bookable_to_days    int     NOT NULL DEFAULT 60 CHECK (bookable_to_days BETWEEN 0 AND 365),
    -- open (future, booked) appointments a person may hold for this service: no hoarding of slots
    max_open_per_person int     NOT NULL DEFAULT 1 CHECK (max_open_per_person BETWEEN 1 AND 10),
    -- a resident without an account may book, confirming with a code sent by e-mail
    guest_allowed       boolean NOT NULL DEFAULT false,
    CHECK (bookable_to_days >= bookable_from_days)
);

-- The services an office offers, with its parallel desks for each: the most residents one slot receives.
CREATE TABLE office_services (
    office   text NOT NULL REFERENCES offices (code) ON DELETE CASCADE,
    service  text NOT NULL REFERENCES services (code) ON DELETE CASCADE,
    capacity int  NOT NULL CHECK (capacity BETWEEN 1 AND 20),
    PRIMARY KEY (office, service)
);
CREATE INDEX office_services_service ON office_services (service);

-- When an office receives for a service, week after week: ISO weekday (1 = Monday) and wall-clock times in
-- Europe/Rome. staff_id NULL opens every desk of the office; a worker's own pattern opens one desk (theirs), and a
-- slot never has more places than the office has desks.
CREATE TABLE availability (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    office     text   NOT NULL,
    service    text   NOT NULL,
    staff_id   bigint REFERENCES staff_users (id) ON DELETE CASCADE,
    weekday    int    NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts     time   NOT NULL,
    ends       time   NOT NULL CHECK (ends > starts),
    valid_from date,           -- NULL: since always
    valid_to   date,           -- NULL: until further notice
    FOREIGN KEY (office, service) REFERENCES office_services (office, service) ON DELETE CASCADE,
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX availability_office_service ON availability (office, service);

-- Days that differ from the week: closed (holidays for the office, a worker's leave; whole days or some hours) or
-- opened extra (hours of the days given). service NULL: every service of the office; staff_id NULL: every desk.
CREATE TABLE availability_exceptions (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    office    text   NOT NULL REFERENCES offices (code) ON DELETE CASCADE,
    service   text REFERENCES services (code) ON DELETE CASCADE,
    staff_id  bigint REFERENCES staff_users (id) ON DELETE CASCADE,
    kind      text   NOT NULL CHECK (kind IN ('closed', 'open')),
    first_day date   NOT NULL,
    last_day  date   NOT NULL CHECK (last_day >= first_day),
    starts    time,            -- closed: NULL for the whole day
    ends      time,
    note      text   NOT NULL DEFAULT '' CHECK (length(note) <= 200), -- for staff ("Natale", "ferie")
    CHECK ((starts IS NULL) = (ends IS NULL)),
    CHECK (ends > starts),
    CHECK (kind = 'closed' OR (starts IS NOT NULL AND service IS NOT NULL))
);
CREATE INDEX availability_exceptions_office ON availability_exceptions (office, last_day);

-- No booking beyond capacity, enforced here and not by an `if` in Go: one counter row per booked slot
-- (office, service, start) with its capacity and a CHECK that taken never exceeds it. The rows of bookings keep
-- the counter right through a trigger: a booking that occupies a place adds one with a conditional UPDATE
-- (taken < capacity), and when no row qualifies the insert fails with CS010 ("slot full"). The UPDATE takes the
-- counter's row lock, so concurrent bookings of one slot queue on it; each re-reads taken after the one before
-- it commits (READ COMMITTED re-check), so of fifty residents racing for the last place exactly one gets it.
-- A counter was chosen over a per-desk unique index because a slot's number of places comes from the weekly
-- patterns (office-wide or per worker) and can change; the counter carries the capacity the slot had when it
-- was first booked, raised if desks are added, never lowered below what is taken.
CREATE TABLE slot_counters (
    office    text        NOT NULL,
    service   text        NOT NULL,
    starts_at timestamptz NOT NULL,
    capacity  int         NOT NULL CHECK (capacity BETWEEN 1 AND 20),
    taken     int         NOT NULL DEFAULT 0 CHECK (taken >= 0 AND taken <= capacity),
    PRIMARY KEY (office, service, starts_at),
    FOREIGN KEY (office, service) REFERENCES office_services (office, service) ON DELETE CASCADE
);

-- A booking: a resident's (person_id) or, where the service allows it, a guest's confirmed by a code (guest_email,
-- guest_verified_at). booked, arrived and no_show occupy the place; cancelled and moved free it. A booking never
-- changes slot: rescheduling writes a new booking and marks this one moved, in one transaction.
CREATE TABLE bookings (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service               text        NOT NULL,
    office                text        NOT NULL,
    mode                  text        NOT NULL CHECK (mode IN ('in_person', 'phone', 'online')),
    starts_at             timestamptz NOT NULL,
    ends_at               timestamptz NOT NULL CHECK (ends_at > starts_at),
    person_id             bigint REFERENCES people (id) ON DELETE CASCADE,
    guest_email           text CHECK (guest_email = lower(guest_email) AND guest_email LIKE '%_@_%'),
    guest_verified_at     timestamptz,
    lang                  text        NOT NULL CHECK (lang ~ '^[a-z]{2,3}(-[A-Za-z]{2,4})?$'), -- of the meeting
    interpreter           boolean     NOT NULL DEFAULT false, -- interpreter or cultural mediator requested
    status                text        NOT NULL DEFAULT 'booked'
                              CHECK (status IN ('booked', 'cancelled', 'moved', 'arrived', 'no_show')),
    -- SHA-256 of the secret in the confirmation's link to reschedule or cancel without signing in
    reschedule_token_hash bytea UNIQUE CHECK (length(reschedule_token_hash) = 32),
    -- the random key of the confirm form: a double click or a retry finds the booking already made
    create_key            text UNIQUE CHECK (create_key ~ '^[A-Z2-7]{26}$'),
    created_at            timestamptz NOT NULL DEFAULT now(),
    cancelled_at          timestamptz,
    FOREIGN KEY (office, service) REFERENCES office_services (office, service),
    FOREIGN KEY (office, service, starts_at) REFERENCES slot_counters (office, service, starts_at),
    CHECK ((person_id IS NULL) <> (guest_email IS NULL)),
    CHECK (guest_email IS NULL OR guest_verified_at IS NOT NULL),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX bookings_person ON bookings (person_id, starts_at DESC) WHERE person_id IS NOT NULL;
CREATE INDEX bookings_slot ON bookings (office, service, starts_at);
-- one place per person in a slot: a second tab books nothing more
CREATE UNIQUE INDEX bookings_one_per_person_slot ON bookings (person_id, service, starts_at)
    WHERE person_id IS NOT NULL AND status IN ('booked', 'arrived', 'no_show');

CREATE FUNCTION bookings_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was boolean := TG_OP <> 'INSERT' AND OLD.status IN ('booked', 'arrived', 'no_show');
    occupies boolean := TG_OP <> 'DELETE' AND NEW.status IN ('booked', 'arrived', 'no_show');
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.office, OLD.service, OLD.starts_at) IS DISTINCT FROM (NEW.office, NEW.service, NEW.starts_at) THEN
        RAISE EXCEPTION 'a booking never changes slot: book the new one and mark this one moved' USING ERRCODE = 'CS011';
    END IF;
    IF occupies AND NOT was THEN
        UPDATE slot_counters SET taken = taken + 1
        WHERE office = NEW.office AND service = NEW.service AND starts_at = NEW.starts_at AND taken < capacity;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'slot % of % at % is full', NEW.starts_at, NEW.service, NEW.office USING ERRCODE = 'CS010';
        END IF;
    ELSIF was AND NOT occupies THEN
        UPDATE slot_counters SET taken = taken - 1
        WHERE office = OLD.office AND service = OLD.service AND starts_at = OLD.starts_at;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER bookings_count AFTER INSERT OR UPDATE OR DELETE ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_count();
