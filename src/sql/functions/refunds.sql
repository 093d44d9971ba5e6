-- request_refund and complete_refund are in C (src/refund_api.c): one
-- statement each when the request is in order.
CREATE FUNCTION paycore.request_refund(order_id bigint, out_refund_no text, amount bigint,
    reason text, refund_method text DEFAULT 'original')
RETURNS bigint
AS 'MODULE_PATHNAME', 'paycore_request_refund'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION paycore.complete_refund(refund_id bigint, succeeded boolean, channel_refund_no text DEFAULT NULL)
RETURNS paycore.refund_status
AS 'MODULE_PATHNAME', 'paycore_complete_refund'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

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
