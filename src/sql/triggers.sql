-- The state machines and money invariants, enforced in C for every writer,
-- superusers included.
CREATE FUNCTION paycore._orders_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'paycore_orders_guard' LANGUAGE C;
CREATE FUNCTION paycore._orders_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'paycore_orders_changed' LANGUAGE C;
CREATE FUNCTION paycore._refunds_merchant() RETURNS trigger
    AS 'MODULE_PATHNAME', 'paycore_refunds_merchant' LANGUAGE C;
CREATE FUNCTION paycore._refunds_reserve() RETURNS trigger
    AS 'MODULE_PATHNAME', 'paycore_refunds_reserve' LANGUAGE C;
CREATE FUNCTION paycore._refunds_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'paycore_refunds_guard' LANGUAGE C;
CREATE FUNCTION paycore._refunds_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'paycore_refunds_changed' LANGUAGE C;
CREATE FUNCTION paycore._append_only() RETURNS trigger
    AS 'MODULE_PATHNAME', 'paycore_append_only' LANGUAGE C;

CREATE TRIGGER orders_guard BEFORE UPDATE ON paycore.orders
    FOR EACH ROW EXECUTE FUNCTION paycore._orders_guard();
-- No WHEN clause: the functions compare the statuses themselves, which is
-- cheaper than a qual the executor prepares anew for every statement.
CREATE TRIGGER orders_changed AFTER UPDATE ON paycore.orders
    FOR EACH ROW EXECUTE FUNCTION paycore._orders_changed();

CREATE TRIGGER refunds_merchant BEFORE INSERT ON paycore.refunds
    FOR EACH ROW EXECUTE FUNCTION paycore._refunds_merchant();
-- AFTER: an INSERT ... ON CONFLICT DO NOTHING that skips its row must
-- reserve nothing.
CREATE TRIGGER refunds_reserve AFTER INSERT ON paycore.refunds
    FOR EACH ROW EXECUTE FUNCTION paycore._refunds_reserve();
CREATE TRIGGER refunds_guard BEFORE UPDATE ON paycore.refunds
    FOR EACH ROW EXECUTE FUNCTION paycore._refunds_guard();
CREATE TRIGGER refunds_changed AFTER UPDATE ON paycore.refunds
    FOR EACH ROW EXECUTE FUNCTION paycore._refunds_changed();

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON paycore.audit_log
    FOR EACH ROW EXECUTE FUNCTION paycore._append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON paycore.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION paycore._append_only();
