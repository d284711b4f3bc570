-- Back-office identity: password (argon2id) plus mandatory TOTP, one-time recovery codes, back-off and lockout
-- after repeated failures, disabled accounts, one-time passwords that must be changed at first use.
ALTER TABLE staff_users
    -- base32 of a 20-byte secret; set when enrolment starts, confirmed by one valid code
    ADD COLUMN totp_secret          text CHECK (totp_secret ~ '^[A-Z2-7]{32}$'),
    ADD COLUMN totp_confirmed_at    timestamptz,
    -- the last accepted time step (unix time / 30): a code of that step or an earlier one is never accepted again
    ADD COLUMN totp_last_step       bigint      NOT NULL DEFAULT 0 CHECK (totp_last_step >= 0),
    -- failures (wrong password, code or recovery code) in the window that began at failed_window_start; the
    -- portal locks the account long before 100, the hard cap for any hour
    ADD COLUMN failed_count         int         NOT NULL DEFAULT 0 CHECK (failed_count BETWEEN 0 AND 100),
    ADD COLUMN failed_window_start  timestamptz,
    ADD COLUMN failed_last_at       timestamptz,
    ADD COLUMN locked_until         timestamptz,
    ADD COLUMN disabled_at          timestamptz,
    ADD COLUMN must_change_password boolean     NOT NULL DEFAULT false,
    ADD CONSTRAINT staff_users_totp_confirmed_has_secret CHECK (totp_confirmed_at IS NULL OR totp_secret IS NOT NULL),
    ADD CONSTRAINT staff_users_failures_have_window CHECK (
        (failed_count = 0) = (failed_window_start IS NULL) AND (failed_window_start IS NULL) = (failed_last_at IS NULL));

-- Ten per enrolment, shown once; stored as SHA-256 of the account and the code (80 random bits each, so a fast
-- hash is enough and a code is found by its hash).
CREATE TABLE staff_recovery_codes (
    staff_id  bigint      NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    code_hash bytea       NOT NULL CHECK (length(code_hash) = 32),
    used_at   timestamptz,
    PRIMARY KEY (staff_id, code_hash)
);

-- Staff complete the sportelli's contacts; the shapes the form accepts, enforced here too.
ALTER TABLE offices
    ADD CONSTRAINT offices_phone_shape CHECK (phone ~ '^[0-9+ ()./-]{0,30}$'),
    ADD CONSTRAINT offices_email_shape CHECK (email = '' OR (length(email) <= 254 AND email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'));
