-- paycore 1.2: built by the Makefile from src/sql/; edit the pieces, not this file.
\echo Use "CREATE EXTENSION paycore CASCADE" to load this file. \quit
CREATE TYPE paycore.order_status AS ENUM (
    'pending', 'processing', 'paid', 'failed', 'closed',
    'partially_refunded', 'refunded'
);

CREATE TYPE paycore.refund_status AS ENUM ('pending', 'succeeded', 'failed');

CREATE TYPE paycore.notification_status AS ENUM ('pending', 'delivered', 'dead');
-- Reference data.  Rows shipped by the extension are marked builtin.  pg_dump
-- carries every row, so that a DBA's change to a built-in row (a payment
-- method switched off) survives a restore; see _restore_builtin below.
CREATE TABLE paycore.currencies (
    code        text PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
    minor_unit  smallint NOT NULL CHECK (minor_unit BETWEEN 0 AND 4),
    name        text NOT NULL,
    builtin     boolean NOT NULL DEFAULT false
);

INSERT INTO paycore.currencies (code, minor_unit, name, builtin) VALUES
    ('CNY', 2, 'Chinese yuan', true),
    ('USD', 2, 'US dollar', true),
    ('EUR', 2, 'Euro', true),
    ('GBP', 2, 'Pound sterling', true),
    ('HKD', 2, 'Hong Kong dollar', true),
    ('SGD', 2, 'Singapore dollar', true),
    ('AUD', 2, 'Australian dollar', true),
    ('CAD', 2, 'Canadian dollar', true),
    ('CHF', 2, 'Swiss franc', true),
    ('TWD', 2, 'New Taiwan dollar', true),
    ('JPY', 0, 'Japanese yen', true),
    ('KRW', 0, 'South Korean won', true),
    ('KWD', 3, 'Kuwaiti dinar', true),
    ('BHD', 3, 'Bahraini dinar', true);

SELECT pg_catalog.pg_extension_config_dump('paycore.currencies', '');

CREATE TABLE paycore.payment_methods (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
    description text NOT NULL,
    enabled     boolean NOT NULL DEFAULT true,
    builtin     boolean NOT NULL DEFAULT false
);

INSERT INTO paycore.payment_methods (code, description, builtin) VALUES
    ('card', 'Bank card', true),
    ('alipay', 'Alipay', true),
    ('wechat_pay', 'WeChat Pay', true),
    ('bank_transfer', 'Bank transfer', true);

SELECT pg_catalog.pg_extension_config_dump('paycore.payment_methods', '');

-- A restore meets the built-in rows that CREATE EXTENSION has just seeded: a
-- built-in row arriving again overwrites its seeded twin instead of failing
-- on the primary key.
CREATE FUNCTION paycore._restore_builtin() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_set text;
BEGIN
    IF NOT NEW.builtin THEN
        RETURN NEW;
    END IF;
    SELECT string_agg(format('%I = n.%I', a.attname, a.attname), ', ') INTO v_set
      FROM pg_attribute a
     WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'code';
    EXECUTE format('UPDATE %s t SET %s FROM (SELECT ($1::%s).*) n WHERE t.code = n.code AND t.builtin',
                   TG_RELID::regclass, v_set, TG_RELID::regclass)
        USING NEW;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER currencies_restore_builtin BEFORE INSERT ON paycore.currencies
    FOR EACH ROW EXECUTE FUNCTION paycore._restore_builtin();
CREATE TRIGGER payment_methods_restore_builtin BEFORE INSERT ON paycore.payment_methods
    FOR EACH ROW EXECUTE FUNCTION paycore._restore_builtin();
CREATE TABLE paycore.users (
    id              bigserial PRIMARY KEY,
    username        text NOT NULL,
    password_hash   text NOT NULL CHECK (password_hash ~ '^\$2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}$'),
    card_encrypted  bytea NOT NULL,
    card_last4      text NOT NULL CHECK (card_last4 ~ '^[0-9]{4}$'),
    card_brand      text NOT NULL,
    name            text NOT NULL,
    failed_logins   integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);

-- Usernames are unique regardless of case: "Alice" and "alice" are one person.
CREATE UNIQUE INDEX users_username_key ON paycore.users (pg_catalog.lower(username));

SELECT pg_catalog.pg_extension_config_dump('paycore.users', '');
SELECT pg_catalog.pg_extension_config_dump('paycore.users_id_seq', '');
CREATE TABLE paycore.merchants (
    id                          bigserial PRIMARY KEY,
    name                        text NOT NULL,
    notify_url                  text NOT NULL,
    -- Secrets are kept only as pgcrypto ciphertext under paycore.encryption_key.
    signing_secret_encrypted    bytea NOT NULL,
    previous_secret_encrypted   bytea,
    secret_rotated_at           timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at                  timestamptz NOT NULL DEFAULT pg_catalog.now()
);

SELECT pg_catalog.pg_extension_config_dump('paycore.merchants', '');
SELECT pg_catalog.pg_extension_config_dump('paycore.merchants_id_seq', '');
CREATE FUNCTION paycore._order_consistent(status paycore.order_status, amount bigint,
        refunded_amount bigint, pending_refund_amount bigint, paid_at timestamptz,
        channel_trade_no text, out_trade_no text, subject text)
    RETURNS boolean AS 'MODULE_PATHNAME', 'paycore_order_consistent' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE TABLE paycore.orders (
    id                      bigserial PRIMARY KEY,
    merchant_id             bigint NOT NULL REFERENCES paycore.merchants (id),
    out_trade_no            text NOT NULL,
    user_id                 bigint REFERENCES paycore.users (id),
    amount                  bigint NOT NULL,
    currency                text NOT NULL REFERENCES paycore.currencies (code),
    payment_method          text NOT NULL REFERENCES paycore.payment_methods (code),
    subject                 text,
    status                  paycore.order_status NOT NULL DEFAULT 'pending',
    refunded_amount         bigint NOT NULL DEFAULT 0,
    -- Sum of the order's pending refunds: kept on the order row so that every
    -- refund request must lock and update that row (see src/ledger.c).
    pending_refund_amount   bigint NOT NULL DEFAULT 0,
    channel_trade_no        text,
    failure_reason          text,
    created_at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at              timestamptz NOT NULL,
    paid_at                 timestamptz,
    updated_at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT orders_out_trade_no_key UNIQUE (merchant_id, out_trade_no),
    -- The refunds fit in the amount, the status agrees with what was
    -- refunded, exactly the paid statuses carry the payment's facts, and
    -- the columns keep the API's forms: out_trade_no of 1 to 64 letters,
    -- digits, _ or -; amount from 1 to 100,000,000,000; subject of at most
    -- 256 characters; channel_trade_no of 1 to 128: see
    -- paycore._order_consistent (src/order_rules.c).
    CONSTRAINT orders_consistent CHECK (paycore._order_consistent(
        status, amount, refunded_amount, pending_refund_amount, paid_at, channel_trade_no,
        out_trade_no, subject))
);

CREATE INDEX orders_pending_expiry_idx ON paycore.orders (expires_at) WHERE status = 'pending';
CREATE INDEX orders_user_idx ON paycore.orders (user_id) WHERE user_id IS NOT NULL;

SELECT pg_catalog.pg_extension_config_dump('paycore.orders', '');
SELECT pg_catalog.pg_extension_config_dump('paycore.orders_id_seq', '');
CREATE FUNCTION paycore._refund_consistent(status paycore.refund_status, completed_at timestamptz,
        refund_method text, reason text, channel_refund_no text, out_refund_no text, amount bigint)
    RETURNS boolean AS 'MODULE_PATHNAME', 'paycore_refund_consistent' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE TABLE paycore.refunds (
    id                  bigserial PRIMARY KEY,
    order_id            bigint NOT NULL REFERENCES paycore.orders (id),
    -- Copied from the order by the insert trigger; the idempotency key is per merchant.
    merchant_id         bigint NOT NULL REFERENCES paycore.merchants (id),
    out_refund_no       text NOT NULL,
    amount              bigint NOT NULL,
    reason              text NOT NULL,
    refund_method       text NOT NULL DEFAULT 'original',
    status              paycore.refund_status NOT NULL DEFAULT 'pending',
    channel_refund_no   text,
    created_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    completed_at        timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT refunds_out_refund_no_key UNIQUE (merchant_id, out_refund_no),
    -- A reason of 1 to 256 characters, not only spaces; refund_method
    -- 'original' or 'balance'; channel_refund_no of 1 to 128 characters if
    -- any; completed_at set exactly when no longer pending; out_refund_no
    -- of 1 to 64 letters, digits, _ or -; amount from 1 to 100,000,000,000:
    -- see paycore._refund_consistent (src/refund_rules.c).
    CONSTRAINT refunds_consistent CHECK (paycore._refund_consistent(
        status, completed_at, refund_method, reason, channel_refund_no, out_refund_no, amount))
);

CREATE INDEX refunds_order_idx ON paycore.refunds (order_id);

SELECT pg_catalog.pg_extension_config_dump('paycore.refunds', '');
SELECT pg_catalog.pg_extension_config_dump('paycore.refunds_id_seq', '');
-- Append-only: triggers refuse UPDATE, DELETE and TRUNCATE, for superusers too.
CREATE TABLE paycore.audit_log (
    id                  bigserial PRIMARY KEY,
    logged_at           timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    session_user_name   text NOT NULL DEFAULT session_user,
    entity              text NOT NULL CHECK (entity IN ('order', 'refund')),
    entity_id           bigint NOT NULL,
    from_status         text NOT NULL,
    to_status           text NOT NULL,
    detail              jsonb
);

CREATE INDEX audit_log_entity_idx ON paycore.audit_log (entity, entity_id);

SELECT pg_catalog.pg_extension_config_dump('paycore.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('paycore.audit_log_id_seq', '');
-- The transactional outbox: rows are written by the C transition triggers in
-- the same transaction as the change, and drained by paycore's background
-- worker (src/worker.c).  A logged table: a crash never loses a committed event.
-- A row stays pending until the result of its attempt is recorded, so a row
-- whose request was in flight when the server stopped is sent again: delivery
-- is at least once.
CREATE FUNCTION paycore._notification_consistent(event_type text,
        status paycore.notification_status, attempts integer, delivered_at timestamptz)
    RETURNS boolean AS 'MODULE_PATHNAME', 'paycore_notification_consistent' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Delivering a row updates it, and that update cannot be HOT (status is in
-- the due index's predicate): each of the two unique indexes gets a second
-- entry for every row.  Their leaf pages keep room for it, so that the
-- deliveries of a backlog land without a page split or a deletion pass each.
CREATE TABLE paycore.notifications (
    id                  bigserial PRIMARY KEY WITH (fillfactor = 70),
    event_id            text NOT NULL UNIQUE WITH (fillfactor = 70),
    -- Copied by the trigger from the order, whose own foreign key vouches for
    -- it; a second check here would lock the merchant row again on every payment.
    merchant_id         bigint NOT NULL,
    event_type          text NOT NULL,
    -- The whole webhook body; its text form is what is signed and sent.
    payload             jsonb NOT NULL,
    status              paycore.notification_status NOT NULL DEFAULT 'pending',
    attempts            integer NOT NULL DEFAULT 0,
    -- For a pending row: when it is due.
    next_attempt_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    last_status_code    integer,
    last_error          text,
    created_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    delivered_at        timestamptz,
    -- event_type one of order.paid, order.failed, order.closed,
    -- refund.succeeded, refund.failed; attempts never below zero;
    -- delivered_at set exactly for delivered rows: see
    -- paycore._notification_consistent (src/transition_log.c).
    CONSTRAINT notifications_consistent CHECK (paycore._notification_consistent(
        event_type, status, attempts, delivered_at))
);

-- With the id, every entry has a key of its own: the worker's claims walk
-- it from where the last one stopped (src/queue.h, ClaimCursor).
CREATE INDEX notifications_due_idx ON paycore.notifications (next_attempt_at, id) WHERE status = 'pending';

SELECT pg_catalog.pg_extension_config_dump('paycore.notifications', '');
SELECT pg_catalog.pg_extension_config_dump('paycore.notifications_id_seq', '');

-- A log written only by the worker, in the transaction that records the
-- attempt on its notification.  No foreign key: its check would lock each
-- notification row once more on the webhook path, and notifications are
-- never deleted.
CREATE TABLE paycore.delivery_attempts (
    id                  bigserial PRIMARY KEY,
    notification_id     bigint NOT NULL,
    attempted_at        timestamptz NOT NULL,
    status_code         integer,
    error               text,
    duration_ms         double precision NOT NULL CHECK (duration_ms >= 0),
    CONSTRAINT delivery_attempts_outcome CHECK (status_code IS NOT NULL OR error IS NOT NULL)
);

CREATE INDEX delivery_attempts_notification_idx ON paycore.delivery_attempts (notification_id);

SELECT pg_catalog.pg_extension_config_dump('paycore.delivery_attempts', '');
SELECT pg_catalog.pg_extension_config_dump('paycore.delivery_attempts_id_seq', '');
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
-- The transition tables compiled into paycore, for people and tools to read.
CREATE FUNCTION paycore.order_transitions(OUT from_status paycore.order_status, OUT to_status paycore.order_status)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'paycore_order_transitions' LANGUAGE C STABLE;
CREATE FUNCTION paycore.refund_transitions(OUT from_status paycore.refund_status, OUT to_status paycore.refund_status)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'paycore_refund_transitions' LANGUAGE C STABLE;
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
CREATE FUNCTION paycore._worker_status(OUT running boolean, OUT pid integer, OUT in_flight integer)
    AS 'MODULE_PATHNAME', 'paycore_worker_status' LANGUAGE C VOLATILE;
CREATE FUNCTION paycore._worker_preloaded() RETURNS boolean
    AS 'MODULE_PATHNAME', 'paycore_worker_preloaded' LANGUAGE C STABLE;

CREATE VIEW paycore.worker_status AS
SELECT w.running, w.pid, w.in_flight,
       (SELECT pg_catalog.count(*) FROM paycore.notifications n WHERE n.status = 'pending') AS queue_depth
  FROM paycore._worker_status() w;

CREATE VIEW paycore.notification_stats AS
SELECT m.id AS merchant_id,
       pg_catalog.count(*) FILTER (WHERE n.status = 'pending') AS pending,
       pg_catalog.count(*) FILTER (WHERE n.status = 'delivered') AS delivered,
       pg_catalog.count(*) FILTER (WHERE n.status = 'dead') AS dead,
       pg_catalog.now() - pg_catalog.min(n.created_at) FILTER (WHERE n.status = 'pending') AS oldest_pending_age,
       (SELECT pg_catalog.round(pg_catalog.avg(CASE WHEN a.error IS NULL THEN 1.0 ELSE 0.0 END), 4)
          FROM paycore.delivery_attempts a JOIN paycore.notifications an ON an.id = a.notification_id
         WHERE an.merchant_id = m.id) AS success_rate
  FROM paycore.merchants m
  LEFT JOIN paycore.notifications n ON n.merchant_id = m.id
 GROUP BY m.id;

-- Puts a dead or delivered notification back in the queue, due now, with a
-- fresh retry schedule.
CREATE FUNCTION paycore.redeliver(notification_id bigint) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_status paycore.notification_status;
BEGIN
    IF notification_id IS NULL THEN
        RAISE EXCEPTION 'notification_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT n.status INTO v_status FROM paycore.notifications n
     WHERE n.id = redeliver.notification_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'notification % not found', notification_id USING ERRCODE = 'no_data_found';
    ELSIF v_status = 'pending' THEN
        RAISE EXCEPTION 'notification % is already pending', notification_id
            USING ERRCODE = 'PC001',
                  HINT = 'Only delivered or dead notifications can be sent again.';
    END IF;
    UPDATE paycore.notifications n
       SET status = 'pending', attempts = 0, next_attempt_at = now(), delivered_at = NULL
     WHERE n.id = redeliver.notification_id;
END;
$$;

DO $$
BEGIN
    IF NOT paycore._worker_preloaded() THEN
        RAISE WARNING 'paycore is not in shared_preload_libraries: no worker will deliver webhooks'
            USING DETAIL = 'Notifications are still queued in paycore.notifications.',
                  HINT = 'Add paycore to shared_preload_libraries and restart the server.';
    END IF;
END;
$$;
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
-- Applications reach the data only through the API functions, which the DBA
-- grants to their roles (README, "Privileges").
REVOKE ALL ON ALL TABLES IN SCHEMA paycore FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA paycore FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA paycore FROM PUBLIC;
GRANT EXECUTE ON FUNCTION paycore.order_transitions(), paycore.refund_transitions() TO PUBLIC;
