-- Append-only: triggers refuse UPDATE, DELETE and TRUNCATE, for superusers too.
CREATE TABLE paycore.audit_log (
    id                  bigserial PRIMARY KEY,
    logged_at           timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    session_user_name   text NOT NULL DEFAULT session_user,
    entity              text NOT NULL CHECK (entity IN ('order', 'refund')),
    entity_id           bigint NOT NULL,
    from_status         text NOT NULL,
    to_status           text NOT NULL,
    detail              jsonb
);

CREATE INDEX audit_log_entity_idx ON paycore.audit_log (entity, entity_id);

SELECT pg_catalog.pg_extension_config_dump('paycore.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('paycore.audit_log_id_seq', '');
