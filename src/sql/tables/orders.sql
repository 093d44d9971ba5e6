CREATE TABLE paycore.orders (
    id                      bigserial PRIMARY KEY,
    merchant_id             bigint NOT NULL REFERENCES paycore.merchants (id),
    out_trade_no            text NOT NULL CHECK (out_trade_no ~ '^[A-Za-z0-9_-]{1,64}$'),
    user_id                 bigint REFERENCES paycore.users (id),
    amount                  bigint NOT NULL CHECK (amount BETWEEN 1 AND 100000000000),
    currency                text NOT NULL REFERENCES paycore.currencies (code),
    payment_method          text NOT NULL REFERENCES paycore.payment_methods (code),
    subject                 text CHECK (pg_catalog.length(subject) <= 256),
    status                  paycore.order_status NOT NULL DEFAULT 'pending',
    refunded_amount         bigint NOT NULL DEFAULT 0,
    -- Sum of the order's pending refunds: kept on the order row so that every
    -- refund request must lock and update that row (see src/ledger.c).
    pending_refund_amount   bigint NOT NULL DEFAULT 0,
    channel_trade_no        text CHECK (pg_catalog.length(channel_trade_no) BETWEEN 1 AND 128),
    failure_reason          text,
    created_at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at              timestamptz NOT NULL,
    paid_at                 timestamptz,
    updated_at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT orders_out_trade_no_key UNIQUE (merchant_id, out_trade_no),
    CONSTRAINT orders_refund_within_amount CHECK (
        refunded_amount >= 0 AND pending_refund_amount >= 0
        AND refunded_amount + pending_refund_amount <= amount),
    CONSTRAINT orders_refunded_status CHECK (
        (status = 'refunded') = (refunded_amount = amount)
        AND (status = 'partially_refunded') = (refunded_amount > 0 AND refunded_amount < amount)),
    CONSTRAINT orders_paid_has_payment CHECK (
        (status IN ('paid', 'partially_refunded', 'refunded'))
        = (paid_at IS NOT NULL AND channel_trade_no IS NOT NULL))
);

CREATE INDEX orders_pending_expiry_idx ON paycore.orders (expires_at) WHERE status = 'pending';
CREATE INDEX orders_user_idx ON paycore.orders (user_id) WHERE user_id IS NOT NULL;

SELECT pg_catalog.pg_extension_config_dump('paycore.orders', '');
SELECT pg_catalog.pg_extension_config_dump('paycore.orders_id_seq', '');
