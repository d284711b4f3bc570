-- Residents with an account. The fiscal code is the identity (SPID/CIE send it); e-mail sign-in asks for it once.
CREATE TABLE people (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fiscal_code  text        NOT NULL UNIQUE CHECK (fiscal_code ~ '^[A-Z0-9]{16}$'),
    given_name   text        NOT NULL DEFAULT '',
    family_name  text        NOT NULL DEFAULT '',
    email        text UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    phone        text        NOT NULL DEFAULT '' CHECK (phone = '' OR phone ~ '^\+[0-9]{8,15}$'),
    lang         text        NOT NULL DEFAULT 'it',
    notify_email boolean     NOT NULL DEFAULT true,
    notify_sms   boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Consents with their dates; withdrawing keeps the history.
CREATE TABLE consents (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id    bigint      NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    kind         text        NOT NULL CHECK (kind IN ('privacy', 'notifications_sms')),
    granted_at   timestamptz NOT NULL DEFAULT now(),
    withdrawn_at timestamptz CHECK (withdrawn_at IS NULL OR withdrawn_at >= granted_at)
);
CREATE UNIQUE INDEX consents_one_active ON consents (person_id, kind) WHERE withdrawn_at IS NULL;

-- Every sign-in, for the person's own data export and for audits.
CREATE TABLE sign_ins (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id bigint      NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    method    text        NOT NULL CHECK (method IN ('spid', 'cie', 'oidc', 'email')),
    level     text        NOT NULL DEFAULT '',
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_ins_person ON sign_ins (person_id, at DESC);
