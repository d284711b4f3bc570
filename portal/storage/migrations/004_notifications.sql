-- Notifications: one row per message and channel, written in the same transaction as the change that causes it
-- (the outbox). E-mail and SMS rows are delivered by a River job (River's own tables come from rivermigrate, run
-- by storage.Migrate after these files); inbox rows are the in-portal inbox itself and need no delivery.
--
-- person_id has no foreign key yet: the people table arrives with the citizen area, and a sign-in code goes to an
-- address with no account at all.
CREATE TABLE notifications (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{1,40}$'),
    person_id    bigint,
    channel      text        NOT NULL CHECK (channel IN ('email', 'sms', 'inbox')),
    recipient    text        NOT NULL DEFAULT '', -- e-mail address or phone number, needed to deliver
    lang         text        NOT NULL,
    data         jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    unique_key   text,
    job_id       bigint,                          -- the River job delivering it (e-mail and SMS)
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
    attempts     int         NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error   text,                            -- an error class only, never a server's words (they quote addresses)
    send_at      timestamptz,                     -- NULL: as soon as possible
    attempted_at timestamptz,
    sent_at      timestamptz,
    read_at      timestamptz,                     -- inbox only
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (unique_key, channel),                 -- a second enqueue of the same key is a no-op (NULL keys never clash)
    CHECK (channel = 'inbox' OR recipient <> ''),
    CHECK (channel <> 'inbox' OR person_id IS NOT NULL),
    CHECK (read_at IS NULL OR channel = 'inbox'),
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX notifications_person ON notifications (person_id, sent_at DESC) WHERE person_id IS NOT NULL;
CREATE INDEX notifications_failed ON notifications (attempted_at DESC) WHERE status IN ('failed', 'dead');
