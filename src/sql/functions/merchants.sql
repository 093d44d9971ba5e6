CREATE FUNCTION paycore.create_merchant(name text, notify_url text)
RETURNS TABLE (merchant_id bigint, signing_secret text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_name      text := paycore._check_text('name', name, 128);
    v_url       text := paycore._check_notify_url(notify_url);
    v_secret    record;
BEGIN
    IF v_name IS NULL THEN
        RAISE EXCEPTION 'name must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    v_secret := paycore._new_signing_secret();
    INSERT INTO paycore.merchants (name, notify_url, signing_secret_encrypted)
    VALUES (v_name, v_url, v_secret.signing_secret_encrypted)
    RETURNING id INTO merchant_id;
    signing_secret := v_secret.signing_secret;
    RETURN NEXT;
END;
$$;

CREATE FUNCTION paycore.set_notify_url(merchant_id bigint, notify_url text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_url text := paycore._check_notify_url(notify_url);
BEGIN
    IF merchant_id IS NULL THEN
        RAISE EXCEPTION 'merchant_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE paycore.merchants m SET notify_url = v_url, updated_at = now()
     WHERE m.id = set_notify_url.merchant_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'merchant % not found', merchant_id USING ERRCODE = 'no_data_found';
    END IF;
END;
$$;

-- The old secret is kept for paycore.secret_rotation_grace so that webhooks
-- signed during the switch carry both signatures.
CREATE FUNCTION paycore.rotate_signing_secret(merchant_id bigint) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_secret record;
BEGIN
    IF merchant_id IS NULL THEN
        RAISE EXCEPTION 'merchant_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    v_secret := paycore._new_signing_secret();
    UPDATE paycore.merchants m
       SET previous_secret_encrypted = m.signing_secret_encrypted,
           signing_secret_encrypted = v_secret.signing_secret_encrypted,
           secret_rotated_at = now(),
           updated_at = now()
     WHERE m.id = rotate_signing_secret.merchant_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'merchant % not found', merchant_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN v_secret.signing_secret;
END;
$$;
