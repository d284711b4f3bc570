-- Staff set the services and the weekly availability (/backoffice/servizi, /backoffice/disponibilita).

-- An office stops offering a service without losing its row: the bookings already made (past and future) and
-- their slot counters reference it, and its weekly hours come back if it is offered again. Residents see only
-- the services and offices offered; the staff calendar keeps showing the bookings.
ALTER TABLE office_services ADD COLUMN offered boolean NOT NULL DEFAULT true;

-- Two weekly patterns of one service at one office never overlap for the same desk (office-wide, or one worker's)
-- on the same weekday and valid days: a desk opened twice would be counted twice. Enforced here, not by an `if`.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TYPE timerange AS RANGE (subtype = time);
ALTER TABLE availability ADD CONSTRAINT availability_no_overlap EXCLUDE USING gist (
    office WITH =, service WITH =, (coalesce(staff_id, 0)) WITH =, weekday WITH =,
    timerange(starts, ends) WITH &&, daterange(valid_from, valid_to, '[]') WITH &&);
