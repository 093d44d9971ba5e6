CREATE FUNCTION paycore._refund_consistent(status paycore.refund_status, completed_at timestamptz,
        refund_method text, reason text, channel_refund_no text, out_refund_no text, amount bigint)
    RETURNS boolean AS 'MODULE_PATHNAME', 'paycore_refund_consistent' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Foreign keys checked at COMMIT here, at once on the referenced side, as on
-- paycore.orders: a refund requested and completed in one transaction is
-- checked once.  request_refund reports an unknown order itself, at once.
CREATE TABLE paycore.refunds (
    id                  bigserial PRIMARY KEY,
    order_id            bigint NOT NULL REFERENCES paycore.orders (id)
                            ON UPDATE RESTRICT ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED,
    -- Copied from the order by the insert trigger; the idempotency key is per merchant.
    merchant_id         bigint NOT NULL REFERENCES paycore.merchants (id)
                            ON UPDATE RESTRICT ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED,
    out_refund_no       text NOT NULL,
    amount              bigint NOT NULL,
    reason              text NOT NULL,
    refund_method       text NOT NULL DEFAULT 'original',
    status              paycore.refund_status NOT NULL DEFAULT 'pending',
    channel_refund_no   text,
    created_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    completed_at        timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT refunds_out_refund_no_key UNIQUE (merchant_id, out_refund_no),
    -- A reason of 1 to 256 characters, not only spaces; refund_method
    -- 'original' or 'balance'; channel_refund_no of 1 to 128 characters if
    -- any; completed_at set exactly when no longer pending; out_refund_no
    -- of 1 to 64 letters, digits, _ or -; amount from 1 to 100,000,000,000:
    -- see paycore._refund_consistent (src/refund_rules.c).
    CONSTRAINT refunds_consistent CHECK (paycore._refund_consistent(
        status, completed_at, refund_method, reason, channel_refund_no, out_refund_no, amount))
);

CREATE INDEX refunds_order_idx ON paycore.refunds (order_id);

SELECT pg_catalog.pg_extension_config_dump('paycore.refunds', '');
SELECT pg_catalog.pg_extension_config_dump('paycore.refunds_id_seq', '');
