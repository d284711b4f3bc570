-- The district: six sub-ambiti, 48 comuni, the offices (sportelli) where residents are received.
CREATE TABLE sub_ambiti (
    code     text PRIMARY KEY CHECK (code ~ '^[a-z-]{2,40}$'),
    name     text NOT NULL UNIQUE,
    position int  NOT NULL
);

CREATE TABLE comuni (
    code       text PRIMARY KEY CHECK (code ~ '^[a-z0-9-]{2,60}$'),
    name       text NOT NULL UNIQUE,
    sub_ambito text NOT NULL REFERENCES sub_ambiti (code)
);
CREATE INDEX comuni_sub_ambito ON comuni (sub_ambito);

-- hours: [{"days":[1,2,3,4,5],"from":"09:00","to":"12:30"}], ISO weekdays (1 = Monday).
CREATE TABLE offices (
    code    text PRIMARY KEY CHECK (code ~ '^[a-z0-9-]{2,60}$'),
    name    text  NOT NULL,
    comune  text  NOT NULL REFERENCES comuni (code),
    address text  NOT NULL,
    phone   text  NOT NULL DEFAULT '',
    email   text  NOT NULL DEFAULT '',
    hours   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(hours) = 'array')
);

-- The measures are fixed (forms.Measures); their calls change every year and are data.
CREATE TABLE measures (
    code text PRIMARY KEY CHECK (code IN ('fna-b2', 'caregiver', 'misura-unica'))
);

CREATE TABLE calls (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    measure   text        NOT NULL REFERENCES measures (code),
    year      int         NOT NULL CHECK (year BETWEEN 2020 AND 2100),
    opens_at  timestamptz NOT NULL,
    closes_at timestamptz NOT NULL,
    CHECK (closes_at > opens_at),
    UNIQUE (measure, year)
);

-- Back-office accounts. Sign-in (password + mandatory TOTP) arrives with the identity work; the scope of an
-- operatore is a set of sub-ambiti, enforced in queries.
CREATE TABLE staff_users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text        NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._-]{3,64}$'),
    full_name     text        NOT NULL CHECK (full_name <> ''),
    role          text        NOT NULL CHECK (role IN ('operatore', 'coordinatore', 'admin')),
    password_hash text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE staff_scopes (
    staff_id   bigint NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    sub_ambito text   NOT NULL REFERENCES sub_ambiti (code),
    PRIMARY KEY (staff_id, sub_ambito)
);
