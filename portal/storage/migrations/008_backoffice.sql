-- The back office: who works an application and by when, what the office asked and the resident answered,
-- messages and internal notes, decisions, graduatorie, an append-only audit log and the tokens of the district's
-- other systems.

-- Per call: the legal deadline from taking an application in charge to deciding it, and the amount granted per
-- category ({"anziani": {"cents": 40000, "period": "month", "months": 12}}; key "all" for every category).
ALTER TABLE calls
    ADD COLUMN deadline_days int   NOT NULL DEFAULT 30 CHECK (deadline_days BETWEEN 1 AND 365),
    ADD COLUMN amounts       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(amounts) = 'object');

-- "admitted": eligible, waiting for the graduatoria to say whether the budget funds it.
ALTER TABLE applications DROP CONSTRAINT applications_status_check;
ALTER TABLE applications
    ADD CONSTRAINT applications_status_check CHECK (status IN ('draft', 'submitted', 'in_review', 'waiting_citizen',
        'admitted', 'admitted_funded', 'admitted_not_funded', 'not_admitted', 'paid', 'withdrawn')),
    ADD COLUMN assignee_id        bigint REFERENCES staff_users (id),
    ADD COLUMN taken_at           timestamptz,
    ADD COLUMN due_on             date,
    ADD COLUMN decided_at         timestamptz,
    ADD COLUMN decision_reason    text   NOT NULL DEFAULT '' CHECK (length(decision_reason) <= 2000),
    -- what the decision grants: cents per period, for months (1 for a one-off amount)
    ADD COLUMN amount_cents       bigint CHECK (amount_cents >= 0),
    ADD COLUMN amount_period      text   CHECK (amount_period IN ('month', 'once')),
    ADD COLUMN amount_months      int    CHECK (amount_months BETWEEN 1 AND 36),
    ADD COLUMN ranking_position   int    CHECK (ranking_position > 0),
    -- the resident answered a request or wrote: the application is back in the queue, flagged for its worker
    ADD COLUMN citizen_replied_at timestamptz,
    ADD CONSTRAINT applications_taken_has_due CHECK ((taken_at IS NULL) = (due_on IS NULL)),
    ADD CONSTRAINT applications_amount_whole CHECK ((amount_cents IS NULL) = (amount_period IS NULL)
        AND (amount_cents IS NULL) = (amount_months IS NULL));
-- the queue: oldest first within a scope; "take next" reads the head of the unassigned ones
CREATE INDEX applications_queue ON applications (status, submitted_at, id) WHERE status <> 'draft';
CREATE INDEX applications_unassigned ON applications (submitted_at, id) WHERE status = 'submitted' AND assignee_id IS NULL;
CREATE INDEX applications_assignee ON applications (assignee_id, status) WHERE assignee_id IS NOT NULL;

-- The workflow, in one place: every status change must be one of these pairs. The portal reads the same pairs
-- (storage.Transitions, checked against this table by a test) to offer only the actions that can succeed.
CREATE TABLE application_transitions (
    from_status text NOT NULL,
    to_status   text NOT NULL,
    PRIMARY KEY (from_status, to_status)
);
INSERT INTO application_transitions VALUES
    ('draft', 'submitted'),
    ('submitted', 'in_review'), ('submitted', 'withdrawn'),
    ('in_review', 'waiting_citizen'), ('in_review', 'admitted'), ('in_review', 'not_admitted'), ('in_review', 'withdrawn'),
    ('waiting_citizen', 'in_review'), ('waiting_citizen', 'withdrawn'),
    ('admitted', 'admitted_funded'), ('admitted', 'admitted_not_funded'), ('admitted', 'in_review'),
    ('admitted_funded', 'admitted_not_funded'), ('admitted_not_funded', 'admitted_funded'),
    ('admitted_funded', 'paid');

-- Graduatorie: one per call and category, run by a coordinator, frozen when the commission approves it.
CREATE TABLE rankings (
    call_id     bigint      NOT NULL REFERENCES calls (id),
    category    text        NOT NULL,
    run_at      timestamptz NOT NULL,
    run_by      bigint      NOT NULL REFERENCES staff_users (id),
    approved_at timestamptz,
    approved_by bigint REFERENCES staff_users (id),
    PRIMARY KEY (call_id, category),
    CHECK ((approved_at IS NULL) = (approved_by IS NULL))
);

CREATE FUNCTION applications_check_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM application_transitions WHERE from_status = OLD.status AND to_status = NEW.status) THEN
        RAISE EXCEPTION 'illegal transition from % to %', OLD.status, NEW.status USING ERRCODE = 'CS001';
    END IF;
    -- a frozen graduatoria decides who is funded: nobody moves between funded and not funded any more
    IF OLD.status IN ('admitted_funded', 'admitted_not_funded') AND NEW.status IN ('admitted_funded', 'admitted_not_funded')
        AND EXISTS (SELECT 1 FROM rankings WHERE call_id = NEW.call_id AND category = NEW.category AND approved_at IS NOT NULL) THEN
        RAISE EXCEPTION 'graduatoria of call % category % is approved', NEW.call_id, NEW.category USING ERRCODE = 'CS002';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER applications_transition BEFORE UPDATE OF status ON applications
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION applications_check_transition();

-- The "send more documents" loop: what the office asked, and when the resident answered.
CREATE TABLE application_requests (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id bigint      NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    staff_id       bigint      NOT NULL REFERENCES staff_users (id),
    doc_types      text[]      NOT NULL DEFAULT '{}',
    message        text        NOT NULL CHECK (length(message) BETWEEN 1 AND 2000),
    created_at     timestamptz NOT NULL DEFAULT now(),
    answered_at    timestamptz,
    answer         text        NOT NULL DEFAULT '' CHECK (length(answer) <= 2000)
);
-- one open request at a time per application
CREATE UNIQUE INDEX application_requests_open ON application_requests (application_id) WHERE answered_at IS NULL;

-- Files: those sent in answer to a request say which; those the office shares with the resident (a decision
-- letter) say who shared them.
ALTER TABLE attachments
    ADD COLUMN request_id bigint REFERENCES application_requests (id),
    ADD COLUMN shared_by  bigint REFERENCES staff_users (id),
    ADD CONSTRAINT attachments_one_author CHECK (uploaded_by IS NULL OR shared_by IS NULL);

-- Two-way messages about an application, and the office's internal notes (never shown to the resident).
CREATE TABLE application_messages (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id bigint      NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    staff_id       bigint REFERENCES staff_users (id),
    person_id      bigint REFERENCES people (id),
    internal       boolean     NOT NULL DEFAULT false,
    body           text        NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((staff_id IS NULL) <> (person_id IS NULL)),
    CHECK (NOT internal OR staff_id IS NOT NULL)
);
CREATE INDEX application_messages_application ON application_messages (application_id, created_at, id);

-- The district's other systems: one token per system, stored as SHA-256 (256 random bits, so a fast hash is
-- enough), with the scopes it was given; revoked, never deleted, so the audit log keeps naming it.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    scopes       text[]      NOT NULL CHECK (scopes <@ ARRAY['applications:read', 'documents:read', 'status:write']
                                 AND cardinality(scopes) > 0),
    token_hash   bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_by   bigint      NOT NULL REFERENCES staff_users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz
);

-- Every staff read of an application or a document and every change: who (an account or a token), when, what,
-- from where. Append-only: the triggers refuse any update, delete or truncate, whoever asks.
CREATE TABLE audit_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    staff_id       bigint REFERENCES staff_users (id),
    token_id       bigint REFERENCES api_tokens (id),
    action         text        NOT NULL CHECK (action ~ '^[a-z_.]{2,60}$'),
    application_id bigint,
    attachment_id  bigint,
    detail         jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object'),
    ip             inet,
    CHECK ((staff_id IS NULL) <> (token_id IS NULL))
);
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_application ON audit_log (application_id, at DESC) WHERE application_id IS NOT NULL;
CREATE INDEX audit_log_staff ON audit_log (staff_id, at DESC) WHERE staff_id IS NOT NULL;

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'CS003';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Demo amounts (PRODUCT.md): FNA B2 monthly buoni, the caregiver bonus once, Misura Unica up to €1,500 once.
UPDATE calls SET amounts = '{"all": {"cents": 40000, "period": "month", "months": 12}}' WHERE measure = 'fna-b2';
UPDATE calls SET amounts = '{"all": {"cents": 50000, "period": "once", "months": 1}}' WHERE measure = 'caregiver';
UPDATE calls SET amounts = '{"all": {"cents": 150000, "period": "once", "months": 1}}', deadline_days = 60
WHERE measure = 'misura-unica';
