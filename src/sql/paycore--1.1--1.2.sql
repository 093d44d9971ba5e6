\echo Use "ALTER EXTENSION paycore UPDATE TO '1.2'" to load this file. \quit
-- paycore 1.1 -> 1.2.  Carries only what changed from 1.1 to 1.2; shipped
-- scripts are never edited.

-- The column CHECKs left on paycore.orders (out_trade_no, amount, subject,
-- channel_trade_no) and on paycore.refunds (out_refund_no, amount) join the
-- table's C consistency function, which PostgreSQL no longer rebuilds from
-- that many expression trees for every statement that writes an order or a
-- refund.  The rules are the same.
ALTER TABLE paycore.orders
    DROP CONSTRAINT orders_out_trade_no_check,
    DROP CONSTRAINT orders_amount_check,
    DROP CONSTRAINT orders_subject_check,
    DROP CONSTRAINT orders_channel_trade_no_check,
    DROP CONSTRAINT orders_consistent;
DROP FUNCTION paycore._order_consistent(paycore.order_status, bigint, bigint, bigint, timestamptz, text);
CREATE FUNCTION paycore._order_consistent(status paycore.order_status, amount bigint,
        refunded_amount bigint, pending_refund_amount bigint, paid_at timestamptz,
        channel_trade_no text, out_trade_no text, subject text)
    RETURNS boolean AS 'MODULE_PATHNAME', 'paycore_order_consistent' LANGUAGE C IMMUTABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION paycore._order_consistent(paycore.order_status, bigint, bigint, bigint,
    timestamptz, text, text, text) FROM PUBLIC;
ALTER TABLE paycore.orders
    ADD CONSTRAINT orders_consistent CHECK (paycore._order_consistent(
        status, amount, refunded_amount, pending_refund_amount, paid_at, channel_trade_no,
        out_trade_no, subject));

ALTER TABLE paycore.refunds
    DROP CONSTRAINT refunds_out_refund_no_check,
    DROP CONSTRAINT refunds_amount_check,
    DROP CONSTRAINT refunds_consistent;
DROP FUNCTION paycore._refund_consistent(paycore.refund_status, timestamptz, text, text, text);
CREATE FUNCTION paycore._refund_consistent(status paycore.refund_status, completed_at timestamptz,
        refund_method text, reason text, channel_refund_no text, out_refund_no text, amount bigint)
    RETURNS boolean AS 'MODULE_PATHNAME', 'paycore_refund_consistent' LANGUAGE C IMMUTABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION paycore._refund_consistent(paycore.refund_status, timestamptz, text, text, text,
    text, bigint) FROM PUBLIC;
ALTER TABLE paycore.refunds
    ADD CONSTRAINT refunds_consistent CHECK (paycore._refund_consistent(
        status, completed_at, refund_method, reason, channel_refund_no, out_refund_no, amount));

-- Room on the leaf pages of the outbox's two unique indexes for the second
-- entry each row gets when it is delivered (the update cannot be HOT).
-- Pages written from now on keep it; a REINDEX (CONCURRENTLY) gives it to
-- the pages already there.
ALTER INDEX paycore.notifications_pkey SET (fillfactor = 70);
ALTER INDEX paycore.notifications_event_id_key SET (fillfactor = 70);
