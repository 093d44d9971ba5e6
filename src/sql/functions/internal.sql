-- C entry points used by the API functions below.  None of them is granted
-- to PUBLIC (see grants.sql): applications go through the API.

CREATE FUNCTION paycore._check_username(username text) RETURNS text
    AS 'MODULE_PATHNAME', 'paycore_check_username' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION paycore._check_person_name(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'paycore_check_person_name' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION paycore._check_notify_url(notify_url text) RETURNS text
    AS 'MODULE_PATHNAME', 'paycore_check_notify_url' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION paycore._check_text(argname text, value text, max_length integer) RETURNS text
    AS 'MODULE_PATHNAME', 'paycore_check_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION paycore._hash_password(password text) RETURNS text
    AS 'MODULE_PATHNAME', 'paycore_hash_password' LANGUAGE C VOLATILE;
CREATE FUNCTION paycore._protect_card(bank_card text,
        OUT card_encrypted bytea, OUT card_last4 text, OUT card_brand text)
    AS 'MODULE_PATHNAME', 'paycore_protect_card' LANGUAGE C VOLATILE;
CREATE FUNCTION paycore._new_signing_secret(OUT signing_secret text, OUT signing_secret_encrypted bytea)
    AS 'MODULE_PATHNAME', 'paycore_new_signing_secret' LANGUAGE C VOLATILE;

CREATE FUNCTION paycore._check_order_transition(order_id bigint, from_status paycore.order_status, to_status paycore.order_status)
    RETURNS void AS 'MODULE_PATHNAME', 'paycore_check_order_transition' LANGUAGE C STABLE;
