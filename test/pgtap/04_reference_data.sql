-- Reference data and packaging facts of issue 2: the seeded currencies and
-- payment methods, the status enums, the control file, the API's signatures,
-- that every API function is SECURITY DEFINER with a pinned search_path and
-- granted to nobody by default, and that the encryption key and the
-- credential settings are out of reach of ordinary roles.
BEGIN;
CREATE EXTENSION IF NOT EXISTS paycore CASCADE;

-- The API of issue 2: name, input arguments (names matter: callers may use
-- named notation), return type and how many arguments have defaults.
-- create_merchant's result is a row, checked on its own below.
CREATE TEMP TABLE api (name text, args text, rettype text, ndefaults int);
INSERT INTO api VALUES
    ('register_user', 'username text, password text, bank_card text, name text', 'bigint', 0),
    ('authenticate', 'username text, password text', 'bigint', 0),
    ('create_merchant', 'name text, notify_url text', NULL, 0),
    ('set_notify_url', 'merchant_id bigint, notify_url text', 'void', 0),
    ('rotate_signing_secret', 'merchant_id bigint', 'text', 0),
    ('create_order', 'merchant_id bigint, out_trade_no text, amount bigint, currency text, payment_method text, '
                     'user_id bigint, subject text, expires_in interval', 'bigint', 3),
    ('start_payment', 'order_id bigint', 'paycore.order_status', 0),
    ('confirm_payment', 'order_id bigint, channel_trade_no text, paid_amount bigint', 'paycore.order_status', 0),
    ('fail_payment', 'order_id bigint, reason text', 'paycore.order_status', 0),
    ('close_order', 'order_id bigint', 'paycore.order_status', 0),
    ('expire_orders', '', 'integer', 0),
    ('get_order', 'merchant_id bigint, out_trade_no text', 'paycore.orders', 0),
    ('request_refund', 'order_id bigint, out_refund_no text, amount bigint, reason text, refund_method text', 'bigint', 1),
    ('complete_refund', 'refund_id bigint, succeeded boolean, channel_refund_no text', 'paycore.refund_status', 1),
    ('get_refund', 'merchant_id bigint, out_refund_no text', 'paycore.refunds', 0);

-- Does PUBLIC hold EXECUTE on the function?  A NULL proacl is the default,
-- which grants EXECUTE to PUBLIC.
CREATE FUNCTION pg_temp.public_can_execute(f oid) RETURNS boolean
LANGUAGE sql AS $$
    SELECT EXISTS (
        SELECT 1 FROM pg_catalog.pg_proc p,
               aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
         WHERE p.oid = f AND a.grantee = 0 AND a.privilege_type = 'EXECUTE')
$$;

-- "name type, ..." of the input arguments only (OUT columns left out).
CREATE FUNCTION pg_temp.input_args(f oid) RETURNS text
LANGUAGE sql AS $$
    SELECT coalesce(string_agg(n || ' ' || format_type(t, NULL), ', ' ORDER BY i), '')
      FROM pg_catalog.pg_proc p,
           unnest(p.proargnames,
                  coalesce(p.proargmodes::text[], array_fill('i'::text, ARRAY[p.pronargs::int])),
                  coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY u(n, m, t, i)
     WHERE p.oid = f AND m IN ('i', 'b', 'v')
$$;

SELECT plan(133);

-- ---------------------------------------------------------------------------
-- Currencies: ISO 4217 codes with their minor-unit exponents.
SELECT is((SELECT minor_unit::int FROM paycore.currencies WHERE code = c), e,
          format('currency %s has exponent %s', c, e))
  FROM (VALUES ('CNY', 2), ('USD', 2), ('EUR', 2), ('GBP', 2), ('HKD', 2),
               ('JPY', 0), ('KRW', 0), ('KWD', 3)) v(c, e);
SELECT is_empty($$SELECT code FROM paycore.currencies WHERE code !~ '^[A-Z]{3}$'$$,
    'every currency code is three capital letters');

-- Payment methods: the four of the issue, enabled.
SELECT set_has($$SELECT code FROM paycore.payment_methods WHERE enabled$$,
    $$VALUES ('card'), ('alipay'), ('wechat_pay'), ('bank_transfer')$$,
    'card, alipay, wechat_pay and bank_transfer are seeded and enabled');
SELECT is((SELECT enabled FROM paycore.payment_methods WHERE code = m), true, format('payment method %s is enabled', m))
  FROM unnest(ARRAY['card', 'alipay', 'wechat_pay', 'bank_transfer']) m;

-- ---------------------------------------------------------------------------
-- Status enums, labels and order exactly as the issue lists them.
SELECT is(enum_range(NULL::paycore.order_status)::text[],
    ARRAY['pending', 'processing', 'paid', 'failed', 'closed', 'partially_refunded', 'refunded'],
    'paycore.order_status has exactly the seven labels of the issue');
SELECT is(enum_range(NULL::paycore.refund_status)::text[],
    ARRAY['pending', 'succeeded', 'failed'],
    'paycore.refund_status has exactly pending, succeeded, failed');

-- ---------------------------------------------------------------------------
-- The control file.
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'paycore'), '1.3', 'installed version is 1.3');
SELECT is((SELECT default_version FROM pg_available_extensions WHERE name = 'paycore'), '1.3', 'default_version is 1.3');
SELECT is((SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'paycore'), 'paycore',
    'the extension lives in schema paycore');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'paycore'), false, 'the extension is not relocatable');
SELECT is((SELECT schema::text FROM pg_available_extension_versions WHERE name = 'paycore' AND version = '1.0'),
    'paycore', 'the control file fixes schema = paycore');
SELECT is((SELECT requires::text[] FROM pg_available_extension_versions WHERE name = 'paycore' AND version = '1.0'),
    ARRAY['pgcrypto'], 'the control file requires pgcrypto (and nothing else)');
SELECT ok(EXISTS (SELECT 1 FROM pg_depend d
                   WHERE d.classid = 'pg_extension'::regclass
                     AND d.objid = (SELECT oid FROM pg_extension WHERE extname = 'paycore')
                     AND d.refclassid = 'pg_extension'::regclass
                     AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pgcrypto')),
    'the installed extension depends on pgcrypto');
SELECT is((SELECT array_agg(DISTINCT probin) FROM pg_proc
            WHERE pronamespace = 'paycore'::regnamespace AND prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')),
    ARRAY['$libdir/paycore'], 'every C function is loaded from $libdir/paycore (module_pathname)');

-- ---------------------------------------------------------------------------
-- The API's signatures.
SELECT is((SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'paycore'::regnamespace AND p.proname = a.name),
          1::bigint, format('paycore.%s exists once', a.name))
  FROM api a ORDER BY a.name;
SELECT is((SELECT pg_temp.input_args(p.oid) FROM pg_proc p
            WHERE p.pronamespace = 'paycore'::regnamespace AND p.proname = a.name),
          a.args, format('paycore.%s(%s)', a.name, a.args))
  FROM api a ORDER BY a.name;
SELECT is((SELECT p.prorettype FROM pg_proc p WHERE p.pronamespace = 'paycore'::regnamespace AND p.proname = a.name),
          a.rettype::regtype::oid, format('paycore.%s returns %s', a.name, a.rettype))
  FROM api a WHERE a.rettype IS NOT NULL ORDER BY a.name;
SELECT is((SELECT p.pronargdefaults::int FROM pg_proc p WHERE p.pronamespace = 'paycore'::regnamespace AND p.proname = a.name),
          a.ndefaults, format('paycore.%s has %s defaulted arguments', a.name, a.ndefaults))
  FROM api a WHERE a.ndefaults > 0 ORDER BY a.name;
SELECT is((SELECT array_agg(n || ' ' || format_type(t, NULL) ORDER BY i)
             FROM pg_proc p,
                  unnest(p.proargnames, p.proargmodes::text[], p.proallargtypes) WITH ORDINALITY u(n, m, t, i)
            WHERE p.oid = 'paycore.create_merchant(text, text)'::regprocedure AND m IN ('o', 't', 'b')),
    ARRAY['merchant_id bigint', 'signing_secret text'],
    'paycore.create_merchant returns the columns merchant_id bigint, signing_secret text');

-- ---------------------------------------------------------------------------
-- Every API function runs as the owner with a search_path that cannot be
-- hijacked, and nobody may call it until the DBA grants it.
SELECT ok((SELECT p.prosecdef FROM pg_proc p WHERE p.pronamespace = 'paycore'::regnamespace AND p.proname = a.name),
          format('paycore.%s is SECURITY DEFINER', a.name))
  FROM api a ORDER BY a.name;
SELECT ok((SELECT EXISTS (SELECT 1 FROM unnest(p.proconfig) c
                           WHERE c LIKE 'search_path=%' AND c ~ 'pg_temp\s*$')
             FROM pg_proc p WHERE p.pronamespace = 'paycore'::regnamespace AND p.proname = a.name),
          format('paycore.%s pins search_path, with pg_temp last', a.name))
  FROM api a ORDER BY a.name;
SELECT ok((SELECT NOT pg_temp.public_can_execute(p.oid)
             FROM pg_proc p WHERE p.pronamespace = 'paycore'::regnamespace AND p.proname = a.name),
          format('PUBLIC may not execute paycore.%s', a.name))
  FROM api a ORDER BY a.name;

-- The C entry points and helpers behind the API.
SELECT cmp_ok((SELECT count(*) FROM pg_proc WHERE pronamespace = 'paycore'::regnamespace AND proname LIKE '\_%'),
    '>', 0::bigint, 'there are internal paycore._* functions');
SELECT is_empty($$SELECT oid::regprocedure FROM pg_proc
                   WHERE pronamespace = 'paycore'::regnamespace AND proname LIKE '\_%'
                     AND pg_temp.public_can_execute(oid)$$,
    'PUBLIC may execute no internal paycore._* function');

-- ---------------------------------------------------------------------------
-- What an ordinary role sees.
CREATE ROLE paycore_tap_guest NOLOGIN;

SELECT ok(NOT has_function_privilege('paycore_tap_guest', 'paycore.register_user(text, text, text, text)', 'EXECUTE'),
    'an ordinary role may not execute paycore.register_user');
SELECT ok(NOT has_function_privilege('paycore_tap_guest', 'paycore.authenticate(text, text)', 'EXECUTE'),
    'an ordinary role may not execute paycore.authenticate');
SELECT ok(NOT has_function_privilege('paycore_tap_guest', 'paycore._protect_card(text)', 'EXECUTE'),
    'an ordinary role may not execute paycore._protect_card');
SELECT ok(NOT has_table_privilege('paycore_tap_guest', 'paycore.users', 'SELECT'),
    'an ordinary role may not read paycore.users');
SELECT ok(NOT has_table_privilege('paycore_tap_guest', 'paycore.merchants', 'SELECT'),
    'an ordinary role may not read paycore.merchants');

SET ROLE paycore_tap_guest;

-- The key: not readable, not listed, not settable.
SELECT throws_ok($$SELECT current_setting('paycore.encryption_key')$$, '42501', NULL,
    'current_setting(paycore.encryption_key) is 42501 for an ordinary role');
SELECT throws_ok($$SELECT current_setting('paycore.encryption_key', true)$$, '42501', NULL,
    'current_setting(paycore.encryption_key, missing_ok) is 42501 as well');
SELECT throws_ok($$SHOW paycore.encryption_key$$, '42501', NULL,
    'SHOW paycore.encryption_key is 42501 for an ordinary role');
SELECT is_empty($$SELECT name FROM pg_settings WHERE name = 'paycore.encryption_key'$$,
    'pg_settings does not list paycore.encryption_key to an ordinary role');
SELECT throws_ok($$SET paycore.encryption_key = 'guessed'$$, '42501', NULL,
    'an ordinary role may not set paycore.encryption_key');
-- Nor weaken credentials for its own session.
SELECT throws_ok($$SET paycore.bcrypt_cost = 4$$, '42501', NULL,
    'an ordinary role may not lower paycore.bcrypt_cost');
SELECT throws_ok($$SET paycore.max_failed_logins = 1000$$, '42501', NULL,
    'an ordinary role may not raise paycore.max_failed_logins');
SELECT throws_ok($$SET paycore.lockout_duration = 1$$, '42501', NULL,
    'an ordinary role may not shorten paycore.lockout_duration');

RESET ROLE;
SELECT isnt(current_setting('paycore.encryption_key'), NULL, 'a superuser can read the key (the tests rely on it)');

SELECT * FROM finish();
ROLLBACK;
