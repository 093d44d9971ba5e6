-- create_order and confirm_payment, the calls every payment makes, are in C
-- (src/order_api.c): one statement each when the request is in order.
CREATE FUNCTION paycore.create_order(merchant_id bigint, out_trade_no text, amount bigint,
    currency text, payment_method text, user_id bigint DEFAULT NULL, subject text DEFAULT NULL,
    expires_in interval DEFAULT '30 minutes')
RETURNS bigint
AS 'MODULE_PATHNAME', 'paycore_create_order'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

-- Locks the order for a state change; the caller's UPDATE is then checked
-- by the C trigger on paycore.orders.
CREATE FUNCTION paycore._lock_order(order_id bigint) RETURNS paycore.orders
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_order paycore.orders;
BEGIN
    IF order_id IS NULL THEN
        RAISE EXCEPTION 'order_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO v_order FROM paycore.orders o WHERE o.id = _lock_order.order_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'order % not found', order_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN v_order;
END;
$$;

CREATE FUNCTION paycore.start_payment(order_id bigint) RETURNS paycore.order_status
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_order paycore.orders := paycore._lock_order(order_id);
BEGIN
    PERFORM paycore._check_order_transition(v_order.id, v_order.status, 'processing');
    UPDATE paycore.orders o SET status = 'processing' WHERE o.id = v_order.id;
    RETURN 'processing';
END;
$$;

CREATE FUNCTION paycore.confirm_payment(order_id bigint, channel_trade_no text, paid_amount bigint)
RETURNS paycore.order_status
AS 'MODULE_PATHNAME', 'paycore_confirm_payment'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION paycore.fail_payment(order_id bigint, reason text) RETURNS paycore.order_status
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_reason    text := paycore._check_text('reason', reason, 256);
    v_order     paycore.orders;
BEGIN
    IF v_reason IS NULL THEN
        RAISE EXCEPTION 'reason must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    v_order := paycore._lock_order(order_id);
    PERFORM paycore._check_order_transition(v_order.id, v_order.status, 'failed');
    UPDATE paycore.orders o SET status = 'failed', failure_reason = v_reason WHERE o.id = v_order.id;
    RETURN 'failed';
END;
$$;

CREATE FUNCTION paycore.close_order(order_id bigint) RETURNS paycore.order_status
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_order paycore.orders := paycore._lock_order(order_id);
BEGIN
    PERFORM paycore._check_order_transition(v_order.id, v_order.status, 'closed');
    UPDATE paycore.orders o SET status = 'closed' WHERE o.id = v_order.id;
    RETURN 'closed';
END;
$$;

-- Orders being paid right now are skipped, not waited for: the next run
-- closes them if they are still pending then.
CREATE FUNCTION paycore.expire_orders() RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH expired AS (
        UPDATE paycore.orders o SET status = 'closed'
         WHERE o.id IN (SELECT e.id FROM paycore.orders e
                         WHERE e.status = 'pending' AND e.expires_at <= now()
                         FOR UPDATE SKIP LOCKED)
           AND o.status = 'pending'
        RETURNING 1)
    SELECT count(*)::integer FROM expired;
$$;

CREATE FUNCTION paycore.get_order(merchant_id bigint, out_trade_no text) RETURNS paycore.orders
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_order paycore.orders;
BEGIN
    IF merchant_id IS NULL OR out_trade_no IS NULL THEN
        RAISE EXCEPTION '% must not be null', CASE WHEN merchant_id IS NULL THEN 'merchant_id' ELSE 'out_trade_no' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO v_order FROM paycore.orders o
     WHERE o.merchant_id = get_order.merchant_id AND o.out_trade_no = get_order.out_trade_no;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'order % of merchant % not found', out_trade_no, merchant_id
            USING ERRCODE = 'no_data_found';
    END IF;
    RETURN v_order;
END;
$$;
