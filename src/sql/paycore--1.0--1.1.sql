\echo Use "ALTER EXTENSION paycore UPDATE TO '1.1'" to load this file. \quit
-- paycore 1.0 -> 1.1.  Carries only what changed from 1.0 to 1.1; shipped
-- scripts are never edited.  test/t/004_upgrade.pl checks that 1.0 updated
-- by this script has the same objects as a fresh 1.1.

-- create_order and confirm_payment, the calls every payment makes, move to C
-- (src/order_api.c): one statement each when the request is in order.
CREATE OR REPLACE FUNCTION paycore.create_order(merchant_id bigint, out_trade_no text, amount bigint,
    currency text, payment_method text, user_id bigint DEFAULT NULL, subject text DEFAULT NULL,
    expires_in interval DEFAULT '30 minutes')
RETURNS bigint
AS 'MODULE_PATHNAME', 'paycore_create_order'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION paycore.confirm_payment(order_id bigint, channel_trade_no text, paid_amount bigint)
RETURNS paycore.order_status
AS 'MODULE_PATHNAME', 'paycore_confirm_payment'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

DROP FUNCTION paycore._existing_order(bigint, text, bigint, text, text, bigint);

-- request_refund and complete_refund move to C (src/refund_api.c).
CREATE OR REPLACE FUNCTION paycore.request_refund(order_id bigint, out_refund_no text, amount bigint,
    reason text, refund_method text DEFAULT 'original')
RETURNS bigint
AS 'MODULE_PATHNAME', 'paycore_request_refund'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION paycore.complete_refund(refund_id bigint, succeeded boolean, channel_refund_no text DEFAULT NULL)
RETURNS paycore.refund_status
AS 'MODULE_PATHNAME', 'paycore_complete_refund'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

-- The refundable-amount reservation becomes an AFTER INSERT trigger, so that
-- request_refund's INSERT ... ON CONFLICT DO NOTHING reserves nothing for a
-- key already taken; a BEFORE INSERT trigger still fills in the merchant.
CREATE FUNCTION paycore._refunds_merchant() RETURNS trigger
    AS 'MODULE_PATHNAME', 'paycore_refunds_merchant' LANGUAGE C;
REVOKE ALL ON FUNCTION paycore._refunds_merchant() FROM PUBLIC;
DROP TRIGGER refunds_reserve ON paycore.refunds;
CREATE TRIGGER refunds_merchant BEFORE INSERT ON paycore.refunds
    FOR EACH ROW EXECUTE FUNCTION paycore._refunds_merchant();
CREATE TRIGGER refunds_reserve AFTER INSERT ON paycore.refunds
    FOR EACH ROW EXECUTE FUNCTION paycore._refunds_reserve();

-- The three table-level CHECKs of paycore.orders become one C function,
-- which PostgreSQL no longer rebuilds from three expression trees for every
-- statement that writes an order.  The rules are the same.
CREATE FUNCTION paycore._order_consistent(status paycore.order_status, amount bigint,
        refunded_amount bigint, pending_refund_amount bigint, paid_at timestamptz,
        channel_trade_no text)
    RETURNS boolean AS 'MODULE_PATHNAME', 'paycore_order_consistent' LANGUAGE C IMMUTABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION paycore._order_consistent(paycore.order_status, bigint, bigint, bigint,
    timestamptz, text) FROM PUBLIC;
ALTER TABLE paycore.orders
    DROP CONSTRAINT orders_refund_within_amount,
    DROP CONSTRAINT orders_refunded_status,
    DROP CONSTRAINT orders_paid_has_payment,
    ADD CONSTRAINT orders_consistent CHECK (paycore._order_consistent(
        status, amount, refunded_amount, pending_refund_amount, paid_at, channel_trade_no));

-- Likewise the CHECKs of paycore.refunds (reason, refund_method,
-- channel_refund_no, refunds_completed) and of paycore.notifications
-- (event_type, attempts, notifications_delivered): same rules, one C call
-- each.
CREATE FUNCTION paycore._refund_consistent(status paycore.refund_status, completed_at timestamptz,
        refund_method text, reason text, channel_refund_no text)
    RETURNS boolean AS 'MODULE_PATHNAME', 'paycore_refund_consistent' LANGUAGE C IMMUTABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION paycore._refund_consistent(paycore.refund_status, timestamptz, text, text, text)
    FROM PUBLIC;
ALTER TABLE paycore.refunds
    DROP CONSTRAINT refunds_reason_check,
    DROP CONSTRAINT refunds_refund_method_check,
    DROP CONSTRAINT refunds_channel_refund_no_check,
    DROP CONSTRAINT refunds_completed,
    ADD CONSTRAINT refunds_consistent CHECK (paycore._refund_consistent(
        status, completed_at, refund_method, reason, channel_refund_no));

CREATE FUNCTION paycore._notification_consistent(event_type text,
        status paycore.notification_status, attempts integer, delivered_at timestamptz)
    RETURNS boolean AS 'MODULE_PATHNAME', 'paycore_notification_consistent' LANGUAGE C IMMUTABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION paycore._notification_consistent(text, paycore.notification_status, integer,
    timestamptz) FROM PUBLIC;
ALTER TABLE paycore.notifications
    DROP CONSTRAINT notifications_event_type_check,
    DROP CONSTRAINT notifications_attempts_check,
    DROP CONSTRAINT notifications_delivered,
    ADD CONSTRAINT notifications_consistent CHECK (paycore._notification_consistent(
        event_type, status, attempts, delivered_at));

-- The due index gets the id as a second key column, so that the worker's
-- claims can start where the last one stopped (src/queue.h).
DROP INDEX paycore.notifications_due_idx;
CREATE INDEX notifications_due_idx ON paycore.notifications (next_attempt_at, id) WHERE status = 'pending';

-- Argument and transition checks that only the PL/pgSQL versions of the
-- functions above called.
DROP FUNCTION paycore._check_reference(text, text);
DROP FUNCTION paycore._check_amount(text, bigint);
DROP FUNCTION paycore._check_refund_transition(bigint, paycore.refund_status, paycore.refund_status);
