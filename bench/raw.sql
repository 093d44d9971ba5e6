-- The raw lower bound of scenarios 1 and 2: the same rows paycore writes,
-- in tables with the same columns, types, defaults and indexes, but with
-- no CHECK constraints, no foreign keys, no triggers and no functions.
-- What paycore costs beyond these tables is its validation, its state
-- machines, its locks and its audit trail.
--
-- Unique keys and indexes are kept: a payment table without its
-- idempotency key or its primary key would not be an equivalent table,
-- and every index costs on insert.  The status columns reuse paycore's
-- enum types, so the rows are the same size.

CREATE SCHEMA bench;
-- One sequence makes every out_trade_no / out_refund_no / username unique,
-- for paycore and for the raw tables alike.
CREATE SEQUENCE bench.keys;

CREATE SCHEMA raw;

CREATE TABLE raw.orders (
    id                      bigserial PRIMARY KEY,
    merchant_id             bigint NOT NULL,
    out_trade_no            text NOT NULL,
    user_id                 bigint,
    amount                  bigint NOT NULL,
    currency                text NOT NULL,
    payment_method          text NOT NULL,
    subject                 text,
    status                  paycore.order_status NOT NULL DEFAULT 'pending',
    refunded_amount         bigint NOT NULL DEFAULT 0,
    pending_refund_amount   bigint NOT NULL DEFAULT 0,
    channel_trade_no        text,
    failure_reason          text,
    created_at              timestamptz NOT NULL DEFAULT now(),
    expires_at              timestamptz NOT NULL,
    paid_at                 timestamptz,
    updated_at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, out_trade_no)
);
CREATE INDEX ON raw.orders (expires_at) WHERE status = 'pending';
CREATE INDEX ON raw.orders (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE raw.refunds (
    id                  bigserial PRIMARY KEY,
    order_id            bigint NOT NULL,
    merchant_id         bigint NOT NULL,
    out_refund_no       text NOT NULL,
    amount              bigint NOT NULL,
    reason              text NOT NULL,
    refund_method       text NOT NULL DEFAULT 'original',
    status              paycore.refund_status NOT NULL DEFAULT 'pending',
    channel_refund_no   text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    completed_at        timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, out_refund_no)
);
CREATE INDEX ON raw.refunds (order_id);

CREATE TABLE raw.notifications (
    id                  bigserial PRIMARY KEY,
    event_id            text NOT NULL UNIQUE,
    merchant_id         bigint NOT NULL,
    event_type          text NOT NULL,
    payload             jsonb NOT NULL,
    status              paycore.notification_status NOT NULL DEFAULT 'pending',
    attempts            integer NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    last_status_code    integer,
    last_error          text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    delivered_at        timestamptz
);
CREATE INDEX ON raw.notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX ON raw.notifications (merchant_id, status);
