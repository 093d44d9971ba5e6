CREATE FUNCTION paycore.create_order(merchant_id bigint, out_trade_no text, amount bigint,
    currency text, payment_method text, user_id bigint DEFAULT NULL, subject text DEFAULT NULL,
    expires_in interval DEFAULT '30 minutes')
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_out_trade_no  text := paycore._check_reference('out_trade_no', out_trade_no);
    v_amount        bigint := paycore._check_amount('amount', amount);
    v_subject       text := paycore._check_text('subject', subject, 256);
    v_id            bigint;
    v_currency_ok   boolean;
    v_method_ok     boolean;
    v_merchant_ok   boolean;
    v_user_ok       boolean;
BEGIN
    IF merchant_id IS NULL THEN
        RAISE EXCEPTION 'merchant_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF currency IS NULL THEN
        RAISE EXCEPTION 'currency must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF payment_method IS NULL THEN
        RAISE EXCEPTION 'payment_method must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF expires_in IS NULL THEN
        RAISE EXCEPTION 'expires_in must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF expires_in < interval '1 minute' OR expires_in > interval '15 days' THEN
        RAISE EXCEPTION 'invalid expires_in'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('expires_in is %s.', expires_in),
                  HINT = 'Use an interval from 1 minute to 15 days.';
    END IF;

    -- One look at the key and at everything the new order refers to.
    SELECT (SELECT o.id FROM paycore.orders o
             WHERE o.merchant_id = create_order.merchant_id AND o.out_trade_no = v_out_trade_no),
           EXISTS (SELECT FROM paycore.currencies c WHERE c.code = create_order.currency),
           EXISTS (SELECT FROM paycore.payment_methods pm
                    WHERE pm.code = create_order.payment_method AND pm.enabled),
           EXISTS (SELECT FROM paycore.merchants m WHERE m.id = create_order.merchant_id),
           create_order.user_id IS NULL
           OR EXISTS (SELECT FROM paycore.users u WHERE u.id = create_order.user_id)
      INTO v_id, v_currency_ok, v_method_ok, v_merchant_ok, v_user_ok;
    -- A retry of a request we already took gets the same answer, even if
    -- its payment method has been disabled since.
    IF v_id IS NOT NULL THEN
        RETURN paycore._existing_order(merchant_id, v_out_trade_no, v_amount, currency,
                                       payment_method, user_id);
    END IF;
    IF NOT v_currency_ok THEN
        RAISE EXCEPTION 'invalid currency'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('%L is not a currency known to paycore.', currency),
                  HINT = 'Use an ISO 4217 code listed in paycore.currencies.';
    ELSIF NOT v_method_ok THEN
        RAISE EXCEPTION 'invalid payment_method'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('%L is not an enabled payment method.', payment_method),
                  HINT = 'Use a code of an enabled row of paycore.payment_methods.';
    ELSIF NOT v_merchant_ok THEN
        RAISE EXCEPTION 'merchant % not found', merchant_id USING ERRCODE = 'no_data_found';
    ELSIF NOT v_user_ok THEN
        RAISE EXCEPTION 'user % not found', user_id USING ERRCODE = 'no_data_found';
    END IF;

    INSERT INTO paycore.orders AS o (merchant_id, out_trade_no, user_id, amount, currency,
                                     payment_method, subject, expires_at)
    VALUES (create_order.merchant_id, v_out_trade_no, create_order.user_id, v_amount,
            create_order.currency, create_order.payment_method, v_subject, now() + expires_in)
    ON CONFLICT ON CONSTRAINT orders_out_trade_no_key DO NOTHING
    RETURNING o.id INTO v_id;
    -- Nothing inserted: a concurrent request with the same key committed first.
    RETURN coalesce(v_id, paycore._existing_order(merchant_id, v_out_trade_no, v_amount, currency,
                                                  payment_method, user_id));
END;
$$;

-- The id of the order already made under this key, NULL if there is none;
-- PC002 if it was made with different parameters.
CREATE FUNCTION paycore._existing_order(merchant_id bigint, out_trade_no text, amount bigint,
    currency text, payment_method text, user_id bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_order paycore.orders;
BEGIN
    SELECT * INTO v_order FROM paycore.orders o
     WHERE o.merchant_id = _existing_order.merchant_id AND o.out_trade_no = _existing_order.out_trade_no;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF v_order.amount <> amount OR v_order.currency <> currency
       OR v_order.payment_method <> payment_method
       OR v_order.user_id IS DISTINCT FROM user_id THEN
        RAISE EXCEPTION 'out_trade_no % was already used with different parameters', out_trade_no
            USING ERRCODE = 'PC002',
                  DETAIL = format('Order %s has amount %s %s, payment method %s, user %s.',
                                  v_order.id, v_order.amount, v_order.currency,
                                  v_order.payment_method, coalesce(v_order.user_id::text, 'none')),
                  HINT = 'Use a new out_trade_no for a different order.';
    END IF;
    RETURN v_order.id;
END;
$$;

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
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_channel_no    text := paycore._check_text('channel_trade_no', channel_trade_no, 128);
    v_order         paycore.orders;
BEGIN
    IF v_channel_no IS NULL THEN
        RAISE EXCEPTION 'channel_trade_no must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF paid_amount IS NULL THEN
        RAISE EXCEPTION 'paid_amount must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    v_order := paycore._lock_order(order_id);
    IF paid_amount <> v_order.amount THEN
        RAISE EXCEPTION 'paid amount does not match the order amount'
            USING ERRCODE = 'PC004',
                  DETAIL = format('Order %s is for %s %s; the channel reports %s.',
                                  v_order.id, v_order.amount, v_order.currency, paid_amount),
                  HINT = 'Investigate the payment with the channel; the order was not changed.';
    END IF;
    -- Channels resend their callbacks, also after refunds have begun: the
    -- same payment again changes nothing.
    IF v_order.paid_at IS NOT NULL AND v_order.channel_trade_no = v_channel_no THEN
        RETURN v_order.status;
    ELSIF v_order.paid_at IS NOT NULL THEN
        RAISE EXCEPTION 'order % is already paid', v_order.id
            USING ERRCODE = 'PC001',
                  DETAIL = format('Order %s was paid by channel payment %s.', v_order.id, v_order.channel_trade_no),
                  HINT = 'A second payment for one order must be refunded through the channel.';
    END IF;
    PERFORM paycore._check_order_transition(v_order.id, v_order.status, 'paid');
    UPDATE paycore.orders o SET status = 'paid', channel_trade_no = v_channel_no, paid_at = now()
     WHERE o.id = v_order.id;
    RETURN 'paid';
END;
$$;

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
