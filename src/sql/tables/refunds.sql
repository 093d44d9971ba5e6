CREATE TABLE paycore.refunds (
    id                  bigserial PRIMARY KEY,
    order_id            bigint NOT NULL REFERENCES paycore.orders (id),
    -- Copied from the order by the insert trigger; the idempotency key is per merchant.
    merchant_id         bigint NOT NULL REFERENCES paycore.merchants (id),
    out_refund_no       text NOT NULL CHECK (out_refund_no ~ '^[A-Za-z0-9_-]{1,64}$'),
    amount              bigint NOT NULL CHECK (amount BETWEEN 1 AND 100000000000),
    reason              text NOT NULL CHECK (pg_catalog.length(reason) BETWEEN 1 AND 256
                                             AND pg_catalog.btrim(reason) <> ''),
    refund_method       text NOT NULL DEFAULT 'original' CHECK (refund_method IN ('original', 'balance')),
    status              paycore.refund_status NOT NULL DEFAULT 'pending',
    channel_refund_no   text CHECK (pg_catalog.length(channel_refund_no) BETWEEN 1 AND 128),
    created_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    completed_at        timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT refunds_out_refund_no_key UNIQUE (merchant_id, out_refund_no),
    CONSTRAINT refunds_completed CHECK ((status = 'pending') = (completed_at IS NULL))
);

CREATE INDEX refunds_order_idx ON paycore.refunds (order_id);

SELECT pg_catalog.pg_extension_config_dump('paycore.refunds', '');
SELECT pg_catalog.pg_extension_config_dump('paycore.refunds_id_seq', '');
