-- The transition tables compiled into paycore, for people and tools to read.
CREATE FUNCTION paycore.order_transitions(OUT from_status paycore.order_status, OUT to_status paycore.order_status)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'paycore_order_transitions' LANGUAGE C STABLE;
CREATE FUNCTION paycore.refund_transitions(OUT from_status paycore.refund_status, OUT to_status paycore.refund_status)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'paycore_refund_transitions' LANGUAGE C STABLE;
