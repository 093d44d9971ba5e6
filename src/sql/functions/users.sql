CREATE FUNCTION paycore.register_user(username text, password text, bank_card text, name text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_username  text := paycore._check_username(username);
    v_name      text := paycore._check_person_name(name);
    v_card      record := paycore._protect_card(bank_card);
    -- bcrypt last: it is the slow step, so bad input fails fast.
    v_hash      text := paycore._hash_password(password);
    v_id        bigint;
BEGIN
    INSERT INTO paycore.users (username, password_hash, card_encrypted, card_last4, card_brand, name)
    VALUES (v_username, v_hash, v_card.card_encrypted, v_card.card_last4, v_card.card_brand, v_name)
    RETURNING id INTO v_id;
    RETURN v_id;
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'username is already taken'
        USING ERRCODE = 'unique_violation',
              DETAIL = format('A user named %L exists (usernames are compared case-insensitively).', v_username),
              HINT = 'Choose another username.';
END;
$$;

CREATE FUNCTION paycore.authenticate(username text, password text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'paycore_authenticate'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
