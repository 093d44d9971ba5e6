CREATE FUNCTION paycore.request_refund(order_id bigint, out_refund_no text, amount bigint,
    reason text, refund_method text DEFAULT 'original')
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_out_refund_no text := paycore._check_reference('out_refund_no', out_refund_no);
    v_amount        bigint := paycore._check_amount('amount', amount);
    v_reason        text := paycore._check_text('reason', reason, 256);
    v_order         paycore.orders;
    v_refund        paycore.refunds;
BEGIN
    IF v_reason IS NULL THEN
        RAISE EXCEPTION 'reason must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF refund_method IS NULL THEN
        RAISE EXCEPTION 'refund_method must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF refund_method NOT IN ('original', 'balance') THEN
        RAISE EXCEPTION 'invalid refund_method'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('refund_method is %L.', refund_method),
                  HINT = 'Use ''original'' or ''balance''.';
    END IF;
    -- The order lock serialises refunds of one order, so that a retry of a
    -- request is recognised below rather than counted a second time.
    v_order := paycore._lock_order(order_id);
    LOOP
        SELECT * INTO v_refund FROM paycore.refunds r
         WHERE r.merchant_id = v_order.merchant_id AND r.out_refund_no = v_out_refund_no;
        IF FOUND THEN
            IF v_refund.order_id <> v_order.id OR v_refund.amount <> v_amount
               OR v_refund.refund_method <> request_refund.refund_method THEN
                RAISE EXCEPTION 'out_refund_no % was already used with different parameters', v_out_refund_no
                    USING ERRCODE = 'PC002',
                          DETAIL = format('Refund %s is for order %s, amount %s, method %s.',
                                          v_refund.id, v_refund.order_id, v_refund.amount,
                                          v_refund.refund_method),
                          HINT = 'Use a new out_refund_no for a different refund.';
            END IF;
            RETURN v_refund.id;
        END IF;
        BEGIN
            -- The C insert trigger checks the order's state and the refundable amount.
            INSERT INTO paycore.refunds AS r (order_id, merchant_id, out_refund_no, amount, reason, refund_method)
            VALUES (v_order.id, v_order.merchant_id, v_out_refund_no, v_amount, v_reason,
                    request_refund.refund_method)
            RETURNING r.id INTO v_refund.id;
            RETURN v_refund.id;
        EXCEPTION WHEN unique_violation THEN
            -- The same key was just used for another order of this merchant: compare again.
            NULL;
        END;
    END LOOP;
END;
$$;

CREATE FUNCTION paycore.complete_refund(refund_id bigint, succeeded boolean, channel_refund_no text DEFAULT NULL)
RETURNS paycore.refund_status
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_channel_no    text := paycore._check_text('channel_refund_no', channel_refund_no, 128);
    v_target        paycore.refund_status;
    v_refund        paycore.refunds;
BEGIN
    IF refund_id IS NULL THEN
        RAISE EXCEPTION 'refund_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF succeeded IS NULL THEN
        RAISE EXCEPTION 'succeeded must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    v_target := CASE WHEN succeeded THEN 'succeeded' ELSE 'failed' END;
    SELECT * INTO v_refund FROM paycore.refunds r WHERE r.id = complete_refund.refund_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'refund % not found', refund_id USING ERRCODE = 'no_data_found';
    END IF;
    -- The channel's result arrives again: nothing more to do.
    IF v_refund.status = v_target THEN
        RETURN v_target;
    END IF;
    PERFORM paycore._check_refund_transition(v_refund.id, v_refund.status, v_target);
    -- The C triggers move the money on the order and write the audit rows.
    UPDATE paycore.refunds r SET status = v_target,
           channel_refund_no = coalesce(v_channel_no, r.channel_refund_no)
     WHERE r.id = v_refund.id;
    RETURN v_target;
END;
$$;

CREATE FUNCTION paycore.get_refund(merchant_id bigint, out_refund_no text) RETURNS paycore.refunds
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_refund paycore.refunds;
BEGIN
    IF merchant_id IS NULL OR out_refund_no IS NULL THEN
        RAISE EXCEPTION '% must not be null', CASE WHEN merchant_id IS NULL THEN 'merchant_id' ELSE 'out_refund_no' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO v_refund FROM paycore.refunds r
     WHERE r.merchant_id = get_refund.merchant_id AND r.out_refund_no = get_refund.out_refund_no;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'refund % of merchant % not found', out_refund_no, merchant_id
            USING ERRCODE = 'no_data_found';
    END IF;
    RETURN v_refund;
END;
$$;
