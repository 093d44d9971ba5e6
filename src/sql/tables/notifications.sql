-- The transactional outbox: rows are written by the C transition triggers in
-- the same transaction as the change, and drained by paycore's background
-- worker (src/worker.c).  A logged table: a crash never loses a committed event.
-- A row stays pending until the result of its attempt is recorded, so a row
-- whose request was in flight when the server stopped is sent again: delivery
-- is at least once.
CREATE FUNCTION paycore._notification_consistent(event_type text,
        status paycore.notification_status, attempts integer, delivered_at timestamptz)
    RETURNS boolean AS 'MODULE_PATHNAME', 'paycore_notification_consistent' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Delivering a row updates it, and that update cannot be HOT (status is in
-- the due index's predicate): each of the two unique indexes gets a second
-- entry for every row.  Their leaf pages keep room for it, so that the
-- deliveries of a backlog land without a page split or a deletion pass each.
CREATE TABLE paycore.notifications (
    id                  bigserial PRIMARY KEY WITH (fillfactor = 70),
    event_id            text NOT NULL UNIQUE WITH (fillfactor = 70),
    -- Copied by the trigger from the order, whose own foreign key vouches for
    -- it; a second check here would lock the merchant row again on every payment.
    merchant_id         bigint NOT NULL,
    event_type          text NOT NULL,
    -- The whole webhook body; its text form is what is signed and sent.
    payload             jsonb NOT NULL,
    status              paycore.notification_status NOT NULL DEFAULT 'pending',
    attempts            integer NOT NULL DEFAULT 0,
    -- For a pending row: when it is due.
    next_attempt_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    last_status_code    integer,
    last_error          text,
    created_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    delivered_at        timestamptz,
    -- event_type one of order.paid, order.failed, order.closed,
    -- refund.succeeded, refund.failed; attempts never below zero;
    -- delivered_at set exactly for delivered rows: see
    -- paycore._notification_consistent (src/transition_log.c).
    CONSTRAINT notifications_consistent CHECK (paycore._notification_consistent(
        event_type, status, attempts, delivered_at))
);

-- With the id, every entry has a key of its own: the worker's claims walk
-- it from where the last one stopped (src/queue.h, ClaimCursor).
CREATE INDEX notifications_due_idx ON paycore.notifications (next_attempt_at, id) WHERE status = 'pending';

SELECT pg_catalog.pg_extension_config_dump('paycore.notifications', '');
SELECT pg_catalog.pg_extension_config_dump('paycore.notifications_id_seq', '');

-- A log written only by the worker, in the transaction that records the
-- attempt on its notification.  No foreign key: its check would lock each
-- notification row once more on the webhook path, and notifications are
-- never deleted.
CREATE TABLE paycore.delivery_attempts (
    id                  bigserial PRIMARY KEY,
    notification_id     bigint NOT NULL,
    attempted_at        timestamptz NOT NULL,
    status_code         integer,
    error               text,
    duration_ms         double precision NOT NULL CHECK (duration_ms >= 0),
    CONSTRAINT delivery_attempts_outcome CHECK (status_code IS NOT NULL OR error IS NOT NULL)
);

CREATE INDEX delivery_attempts_notification_idx ON paycore.delivery_attempts (notification_id);

SELECT pg_catalog.pg_extension_config_dump('paycore.delivery_attempts', '');
SELECT pg_catalog.pg_extension_config_dump('paycore.delivery_attempts_id_seq', '');
