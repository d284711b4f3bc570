-- Applications (istanze): a draft while the resident fills it in, then a submitted application with its protocol
-- number. One row for both, so resuming a draft and submitting it are the same object and a double submit can
-- only ever change one row once.
CREATE TABLE applications (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id        bigint      NOT NULL REFERENCES calls (id),
    applicant_id   bigint      NOT NULL REFERENCES people (id),
    -- a random key sent with the "start" form: a double click or a retry opens the same draft
    create_key     text        NOT NULL UNIQUE CHECK (create_key ~ '^[A-Z2-7]{26}$'),
    form_version   text        NOT NULL CHECK (form_version ~ '^[a-z0-9-]+/[a-z0-9-]+$'),
    answers        jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(answers) = 'object'),
    -- the beneficiary, from the answers: the person the measure is for, who sees the application when signed in
    beneficiary_cf text CHECK (beneficiary_cf ~ '^[A-Z0-9]{16}$'),
    on_behalf      boolean     NOT NULL DEFAULT false,
    relationship   text        NOT NULL DEFAULT '',
    status         text        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'in_review',
                       'waiting_citizen', 'admitted_funded', 'admitted_not_funded', 'not_admitted', 'paid', 'withdrawn')),
    protocol       text UNIQUE CHECK (protocol ~ '^CSC-[0-9]{4}-[0-9]{6}$'),
    submitted_at   timestamptz,
    -- copied at submission for the back office's queue, scope and ranking
    comune         text REFERENCES comuni (code),
    sub_ambito     text REFERENCES sub_ambiti (code),
    category       text        NOT NULL DEFAULT '',
    ranking_key    text        NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'draft') = (protocol IS NULL)),
    CHECK ((protocol IS NULL) = (submitted_at IS NULL)),
    CHECK (status = 'draft' OR beneficiary_cf IS NOT NULL),
    CHECK (on_behalf OR relationship = '')
);
CREATE INDEX applications_applicant ON applications (applicant_id, updated_at DESC);
CREATE INDEX applications_beneficiary ON applications (beneficiary_cf) WHERE status <> 'draft';
CREATE INDEX applications_call ON applications (call_id, status);
-- one application per beneficiary and call: a second one (another relative, another tab) is refused
CREATE UNIQUE INDEX applications_one_per_beneficiary ON applications (call_id, beneficiary_cf)
    WHERE status NOT IN ('draft', 'withdrawn');

-- Protocol numbers, per year: CSC-<year>-<nnnnnn>, from one sequence per year. A sequence never makes two
-- submissions wait for each other (a counter row would: every submission of the year would queue on its lock until
-- the previous one committed); the price is that a transaction failing after taking its number leaves that number
-- unused. Submit checks everything that can fail before taking it, so only a crash or a lost connection at the
-- very end can do that. Sequences for the years ahead exist already; next_protocol creates a missing one under an
-- advisory lock, so two first submissions of a year cannot race.
CREATE FUNCTION next_protocol(y int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    seq text := 'protocol_' || y;
BEGIN
    IF y < 2020 OR y > 2100 THEN
        RAISE EXCEPTION 'protocol year % out of range', y;
    END IF;
    IF to_regclass(seq) IS NULL THEN
        PERFORM pg_advisory_xact_lock(hashtext('next_protocol'), y);
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I MAXVALUE 999999', seq);
    END IF;
    RETURN 'CSC-' || y || '-' || lpad(nextval(seq)::text, 6, '0');
END $$;
DO $$ BEGIN
    FOR y IN 2026..2035 LOOP
        EXECUTE format('CREATE SEQUENCE %I MAXVALUE 999999', 'protocol_' || y);
    END LOOP;
END $$;

-- Files attached to an application. The bytes live in the document store under storage_key, encrypted; only this
-- row says whose they are.
CREATE TABLE attachments (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id bigint      NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    doc_type       text        NOT NULL CHECK (doc_type ~ '^[a-z0-9_]{1,60}$'),
    file_name      text        NOT NULL CHECK (file_name <> '' AND length(file_name) <= 255),
    content_type   text        NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size           bigint      NOT NULL CHECK (size > 0),
    sha256         text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    storage_key    text        NOT NULL UNIQUE CHECK (storage_key ~ '^[a-z0-9-]{1,128}$'),
    uploaded_by    bigint REFERENCES people (id),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_application ON attachments (application_id, id);

-- The status timeline residents and staff read: one row per event, never updated.
CREATE TABLE application_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id bigint      NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    kind           text        NOT NULL CHECK (kind ~ '^[a-z_]{2,40}$'),
    at             timestamptz NOT NULL DEFAULT now(),
    data           jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object')
);
CREATE INDEX application_events_application ON application_events (application_id, at, id);

-- Satisfaction rating after submitting (PNRR 1.4.1 checklist): one per application and person, changeable.
CREATE TABLE ratings (
    application_id bigint      NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    person_id      bigint      NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    score          int         NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment        text        NOT NULL DEFAULT '' CHECK (length(comment) <= 1000),
    at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, person_id)
);

-- The demo calls of the other two measures get their form versions and thresholds (PRODUCT.md demo values).
UPDATE calls SET form_version = 'caregiver/2026-v1' WHERE measure = 'caregiver' AND form_version = '';
UPDATE calls SET form_version = 'misura-unica/2026-v1', thresholds = '{"all": 2600000}'
WHERE measure = 'misura-unica' AND form_version = '';
