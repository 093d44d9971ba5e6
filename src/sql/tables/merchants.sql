CREATE TABLE paycore.merchants (
    id                          bigserial PRIMARY KEY,
    name                        text NOT NULL,
    notify_url                  text NOT NULL,
    -- Secrets are kept only as pgcrypto ciphertext under paycore.encryption_key.
    signing_secret_encrypted    bytea NOT NULL,
    previous_secret_encrypted   bytea,
    secret_rotated_at           timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at                  timestamptz NOT NULL DEFAULT pg_catalog.now()
);

SELECT pg_catalog.pg_extension_config_dump('paycore.merchants', '');
SELECT pg_catalog.pg_extension_config_dump('paycore.merchants_id_seq', '');
