CREATE TABLE paycore.users (
    id              bigserial PRIMARY KEY,
    username        text NOT NULL,
    password_hash   text NOT NULL CHECK (password_hash ~ '^\$2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}$'),
    card_encrypted  bytea NOT NULL,
    card_last4      text NOT NULL CHECK (card_last4 ~ '^[0-9]{4}$'),
    card_brand      text NOT NULL,
    name            text NOT NULL,
    failed_logins   integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);

-- Usernames are unique regardless of case: "Alice" and "alice" are one person.
CREATE UNIQUE INDEX users_username_key ON paycore.users (pg_catalog.lower(username));

SELECT pg_catalog.pg_extension_config_dump('paycore.users', '');
SELECT pg_catalog.pg_extension_config_dump('paycore.users_id_seq', '');
