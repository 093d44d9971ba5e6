CREATE FUNCTION paycore._order_consistent(status paycore.order_status, amount bigint,
        refunded_amount bigint, pending_refund_amount bigint, paid_at timestamptz,
        channel_trade_no text, out_trade_no text, subject text)
    RETURNS boolean AS 'MODULE_PATHNAME', 'paycore_order_consistent' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The foreign keys are checked at COMMIT on this side and at once on the
-- referenced side (RESTRICT: a merchant, user, currency or payment method
-- still referenced cannot be deleted or renumbered, and the DELETE itself
-- fails).  An order created and paid in one transaction is then checked
-- once, against its final row, instead of once for the INSERT and again for
-- the UPDATE, which PostgreSQL must do for a row inserted by the same
-- transaction.  create_order reports an unknown reference itself, at once.
CREATE TABLE paycore.orders (
    id                      bigserial PRIMARY KEY,
    merchant_id             bigint NOT NULL REFERENCES paycore.merchants (id)
                                ON UPDATE RESTRICT ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED,
    out_trade_no            text NOT NULL,
    user_id                 bigint REFERENCES paycore.users (id)
                                ON UPDATE RESTRICT ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED,
    amount                  bigint NOT NULL,
    currency                text NOT NULL REFERENCES paycore.currencies (code)
                                ON UPDATE RESTRICT ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED,
    payment_method          text NOT NULL REFERENCES paycore.payment_methods (code)
                                ON UPDATE RESTRICT ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED,
    subject                 text,
    status                  paycore.order_status NOT NULL DEFAULT 'pending',
    refunded_amount         bigint NOT NULL DEFAULT 0,
    -- Sum of the order's pending refunds: kept on the order row so that every
    -- refund request must lock and update that row (see src/ledger.c).
    pending_refund_amount   bigint NOT NULL DEFAULT 0,
    channel_trade_no        text,
    failure_reason          text,
    created_at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at              timestamptz NOT NULL,
    paid_at                 timestamptz,
    updated_at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT orders_out_trade_no_key UNIQUE (merchant_id, out_trade_no),
    -- The refunds fit in the amount, the status agrees with what was
    -- refunded, exactly the paid statuses carry the payment's facts, and
    -- the columns keep the API's forms: out_trade_no of 1 to 64 letters,
    -- digits, _ or -; amount from 1 to 100,000,000,000; subject of at most
    -- 256 characters; channel_trade_no of 1 to 128: see
    -- paycore._order_consistent (src/order_rules.c).
    CONSTRAINT orders_consistent CHECK (paycore._order_consistent(
        status, amount, refunded_amount, pending_refund_amount, paid_at, channel_trade_no,
        out_trade_no, subject))
);

CREATE INDEX orders_pending_expiry_idx ON paycore.orders (expires_at) WHERE status = 'pending';
CREATE INDEX orders_user_idx ON paycore.orders (user_id) WHERE user_id IS NOT NULL;

SELECT pg_catalog.pg_extension_config_dump('paycore.orders', '');
SELECT pg_catalog.pg_extension_config_dump('paycore.orders_id_seq', '');
