-- paycore.create_order, get_order and expire_orders: argument validation,
-- idempotency on (merchant_id, out_trade_no), expiry.
--
-- Every invalid call must fail with its exact SQLSTATE and leave no row
-- behind; every idempotent repeat must return the first id and write nothing.
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS paycore CASCADE;
-- Users are only needed as order owners: keep bcrypt cheap.
SET LOCAL paycore.bcrypt_cost = 4;

SELECT plan(88);

SELECT merchant_id AS m1 FROM paycore.create_merchant('Order Shop', 'https://shop.example/notify') \gset
SELECT merchant_id AS m2 FROM paycore.create_merchant('Other Shop', 'https://other.example/notify') \gset
SELECT paycore.register_user('order_alice', 'alice1234', '4111 1111 1111 1111', 'Alice') AS u1 \gset
SELECT paycore.register_user('order_bob', 'bob12345', '5555 5555 5555 4444', 'Bob') AS u2 \gset

-- ---------------------------------------------------------------------------
-- Valid boundary values: each call returns a new id and stores what it was given.

SELECT ok(paycore.create_order(:m1, 'a', 100, 'CNY', 'card') > 0,
          'out_trade_no of 1 character is accepted');
SELECT ok(paycore.create_order(:m1, repeat('x', 64), 100, 'CNY', 'card') > 0,
          'out_trade_no of 64 characters is accepted');
SELECT ok(paycore.create_order(:m1, 'AZaz09_-', 100, 'CNY', 'card') > 0,
          'out_trade_no may use letters, digits, _ and -');
SELECT ok(paycore.create_order(:m1, 'amount-min', 1, 'CNY', 'card') > 0,
          'amount 1 (the minimum) is accepted');
SELECT ok(paycore.create_order(:m1, 'amount-max', 100000000000, 'CNY', 'card') > 0,
          'amount 100000000000 (the maximum) is accepted');
SELECT ok(paycore.create_order(:m1, 'cur-jpy', 500, 'JPY', 'card') > 0,
          'a currency with exponent 0 (JPY) is accepted');
SELECT ok(paycore.create_order(:m1, 'cur-kwd', 500, 'KWD', 'card') > 0,
          'a currency with exponent 3 (KWD) is accepted');
SELECT ok(paycore.create_order(:m1, 'pm-alipay', 100, 'CNY', 'alipay') > 0,
          'payment_method alipay is accepted');
SELECT ok(paycore.create_order(:m1, 'pm-wechat', 100, 'CNY', 'wechat_pay') > 0,
          'payment_method wechat_pay is accepted');
SELECT ok(paycore.create_order(:m1, 'pm-bank', 100, 'CNY', 'bank_transfer') > 0,
          'payment_method bank_transfer is accepted');
SELECT paycore.create_order(:m1, 'exp-min', 100, 'CNY', 'card', NULL, NULL, '1 minute') AS o_exp_min \gset
SELECT paycore.create_order(:m1, 'exp-max', 100, 'CNY', 'card', NULL, NULL, '15 days') AS o_exp_max \gset
SELECT paycore.create_order(:m1, 'exp-default', 100, 'CNY', 'card') AS o_exp_default \gset
SELECT paycore.create_order(:m1, 'with-user', 100, 'CNY', 'card', :u1, 'A subject') AS o_user \gset

SELECT is((SELECT count(*)::int FROM paycore.orders), 14,
          'fourteen valid create_order calls wrote fourteen rows');
SELECT results_eq(
    format('SELECT merchant_id, out_trade_no, user_id, amount, currency, payment_method, subject,
                   status::text, refunded_amount, channel_trade_no, paid_at
              FROM paycore.orders WHERE id = %s', :o_user),
    format($$VALUES (%s::bigint, 'with-user'::text, %s::bigint, 100::bigint, 'CNY'::text, 'card'::text,
                     'A subject'::text, 'pending'::text, 0::bigint, NULL::text, NULL::timestamptz)$$,
           :m1, :u1),
    'a new order stores its arguments, is pending, has nothing refunded and no payment yet');

-- expires_at is computed from the order's own created_at.
SELECT is((SELECT expires_at - created_at FROM paycore.orders WHERE id = :o_exp_min),
          interval '1 minute', 'expires_at = created_at + expires_in (1 minute)');
SELECT is((SELECT expires_at - created_at FROM paycore.orders WHERE id = :o_exp_max),
          interval '15 days', 'expires_at = created_at + expires_in (15 days)');
SELECT is((SELECT expires_at - created_at FROM paycore.orders WHERE id = :o_exp_default),
          interval '30 minutes', 'expires_in defaults to 30 minutes');

-- ---------------------------------------------------------------------------
-- Invalid arguments: exact SQLSTATE, the message names the argument.

-- out_trade_no: 1-64 characters of [A-Za-z0-9_-]
SELECT throws_ok(format($$SELECT paycore.create_order(%s, '', 100, 'CNY', 'card')$$, :m1),
                 '22023', 'invalid out_trade_no', 'empty out_trade_no is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, %L, 100, 'CNY', 'card')$$, :m1, repeat('x', 65)),
                 '22023', 'invalid out_trade_no', 'out_trade_no of 65 characters is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'a b', 100, 'CNY', 'card')$$, :m1),
                 '22023', 'invalid out_trade_no', 'out_trade_no with a space is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'a.b', 100, 'CNY', 'card')$$, :m1),
                 '22023', 'invalid out_trade_no', 'out_trade_no with a dot is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'a/b', 100, 'CNY', 'card')$$, :m1),
                 '22023', 'invalid out_trade_no', 'out_trade_no with a slash is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'abé', 100, 'CNY', 'card')$$, :m1),
                 '22023', 'invalid out_trade_no', 'out_trade_no with a non-ASCII letter is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, E'ab\n', 100, 'CNY', 'card')$$, :m1),
                 '22023', 'invalid out_trade_no', 'out_trade_no with a trailing newline is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, NULL, 100, 'CNY', 'card')$$, :m1),
                 '22004', NULL, 'NULL out_trade_no is 22004');

-- amount: 1 .. 100000000000
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-amount', 0, 'CNY', 'card')$$, :m1),
                 '22023', 'invalid amount', 'amount 0 is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-amount', -1, 'CNY', 'card')$$, :m1),
                 '22023', 'invalid amount', 'amount -1 is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-amount', 100000000001, 'CNY', 'card')$$, :m1),
                 '22023', 'invalid amount', 'amount 100000000001 is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-amount', NULL, 'CNY', 'card')$$, :m1),
                 '22004', NULL, 'NULL amount is 22004');

-- currency: a code of paycore.currencies
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-cur', 100, 'ZZZ', 'card')$$, :m1),
                 '22023', 'invalid currency', 'unknown currency ZZZ is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-cur', 100, 'usd', 'card')$$, :m1),
                 '22023', 'invalid currency', 'lower-case usd is not a listed code: 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-cur', 100, '', 'card')$$, :m1),
                 '22023', 'invalid currency', 'empty currency is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-cur', 100, NULL, 'card')$$, :m1),
                 '22004', NULL, 'NULL currency is 22004');

-- A currency added by the DBA becomes usable: the rule is "exists in the table".
INSERT INTO paycore.currencies (code, minor_unit, name) VALUES ('XTS', 2, 'Testing code');
SELECT ok(paycore.create_order(:m1, 'cur-added', 100, 'XTS', 'card') > 0,
          'a currency row added to paycore.currencies is accepted');

-- payment_method: an enabled row of paycore.payment_methods
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-pm', 100, 'CNY', 'paypal')$$, :m1),
                 '22023', 'invalid payment_method', 'unknown payment_method is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-pm', 100, 'CNY', 'CARD')$$, :m1),
                 '22023', 'invalid payment_method', 'payment_method codes are exact (CARD is 22023)');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-pm', 100, 'CNY', NULL)$$, :m1),
                 '22004', NULL, 'NULL payment_method is 22004');
UPDATE paycore.payment_methods SET enabled = false WHERE code = 'bank_transfer';
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'disabled-pm', 100, 'CNY', 'bank_transfer')$$, :m1),
                 '22023', 'invalid payment_method', 'a disabled payment_method is 22023');
UPDATE paycore.payment_methods SET enabled = true WHERE code = 'bank_transfer';
SELECT ok(paycore.create_order(:m1, 'reenabled-pm', 100, 'CNY', 'bank_transfer') > 0,
          'the same payment_method is accepted again once re-enabled');

-- expires_in: 1 minute .. 15 days
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-exp', 100, 'CNY', 'card', NULL, NULL, '59 seconds')$$, :m1),
                 '22023', 'invalid expires_in', 'expires_in 59 seconds is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-exp', 100, 'CNY', 'card', NULL, NULL, '15 days 1 second')$$, :m1),
                 '22023', 'invalid expires_in', 'expires_in 15 days 1 second is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-exp', 100, 'CNY', 'card', NULL, NULL, '0')$$, :m1),
                 '22023', 'invalid expires_in', 'expires_in 0 is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-exp', 100, 'CNY', 'card', NULL, NULL, '-10 minutes')$$, :m1),
                 '22023', 'invalid expires_in', 'a negative expires_in is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-exp', 100, 'CNY', 'card', NULL, NULL, '1 month')$$, :m1),
                 '22023', 'invalid expires_in', 'expires_in 1 month is 22023');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'bad-exp', 100, 'CNY', 'card', NULL, NULL, NULL)$$, :m1),
                 '22004', NULL, 'NULL expires_in is 22004');

-- unknown merchant and user; NULL merchant
SELECT throws_ok($$SELECT paycore.create_order(-1, 'no-merchant', 100, 'CNY', 'card')$$,
                 'P0002', NULL, 'an unknown merchant is P0002');
SELECT throws_ok($$SELECT paycore.create_order(NULL, 'no-merchant', 100, 'CNY', 'card')$$,
                 '22004', NULL, 'NULL merchant_id is 22004');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'no-user', 100, 'CNY', 'card', -1)$$, :m1),
                 'P0002', NULL, 'an unknown user is P0002');

SELECT is((SELECT count(*)::int FROM paycore.orders), 16,
          'no invalid create_order call wrote a row (14 earlier + 2 valid ones in between)');
SELECT is((SELECT count(*)::int FROM paycore.orders
            WHERE out_trade_no IN ('bad-amount', 'bad-cur', 'bad-pm', 'disabled-pm', 'bad-exp',
                                   'no-merchant', 'no-user', 'a b', 'a.b', 'a/b')),
          0, 'none of the rejected out_trade_no values is stored');

-- ---------------------------------------------------------------------------
-- Idempotency on (merchant_id, out_trade_no).

SELECT paycore.create_order(:m1, 'IDEM-1', 1000, 'CNY', 'card', :u1, 'first subject') AS o_idem \gset
SELECT paycore.create_order(:m1, 'IDEM-2', 500, 'USD', 'alipay') AS o_idem2 \gset
SELECT count(*) AS n_orders FROM paycore.orders \gset
SELECT max(updated_at) AS idem_updated FROM paycore.orders WHERE id = :o_idem \gset

SELECT is(paycore.create_order(:m1, 'IDEM-1', 1000, 'CNY', 'card', :u1, 'first subject'), :o_idem::bigint,
          'an identical repeat returns the existing id');
SELECT is(paycore.create_order(:m1, 'IDEM-1', 1000, 'CNY', 'card', :u1), :o_idem::bigint,
          'a repeat without the subject returns the existing id');
SELECT is(paycore.create_order(:m1, 'IDEM-1', 1000, 'CNY', 'card', :u1, 'other subject', '2 hours'), :o_idem::bigint,
          'a repeat that differs only in subject and expires_in returns the existing id');
SELECT is(paycore.create_order(:m1, 'IDEM-2', 500, 'USD', 'alipay', NULL), :o_idem2::bigint,
          'a repeat of an order without user (user_id NULL both times) returns the existing id');
SELECT is((SELECT count(*) FROM paycore.orders), :n_orders::bigint,
          'idempotent repeats wrote no row');
SELECT results_eq(
    format('SELECT subject, expires_at - created_at, updated_at FROM paycore.orders WHERE id = %s', :o_idem),
    format($$VALUES ('first subject'::text, interval '30 minutes', %L::timestamptz)$$, :'idem_updated'),
    'idempotent repeats did not change the stored order');

SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'IDEM-1', 1001, 'CNY', 'card', %s)$$, :m1, :u1),
                 'PC002', NULL, 'a repeat with a different amount is PC002');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'IDEM-1', 1000, 'USD', 'card', %s)$$, :m1, :u1),
                 'PC002', NULL, 'a repeat with a different currency is PC002');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'IDEM-1', 1000, 'CNY', 'alipay', %s)$$, :m1, :u1),
                 'PC002', NULL, 'a repeat with a different payment_method is PC002');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'IDEM-1', 1000, 'CNY', 'card', %s)$$, :m1, :u2),
                 'PC002', NULL, 'a repeat with a different user_id is PC002');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'IDEM-1', 1000, 'CNY', 'card')$$, :m1),
                 'PC002', NULL, 'a repeat without the user_id of the original is PC002');
SELECT throws_ok(format($$SELECT paycore.create_order(%s, 'IDEM-2', 500, 'USD', 'alipay', %s)$$, :m1, :u1),
                 'PC002', NULL, 'a repeat adding a user_id to an order without one is PC002');
SELECT is((SELECT count(*) FROM paycore.orders), :n_orders::bigint,
          'idempotency conflicts wrote no row');
SELECT results_eq(
    format('SELECT amount, currency, payment_method, user_id FROM paycore.orders WHERE id = %s', :o_idem),
    format($$VALUES (1000::bigint, 'CNY'::text, 'card'::text, %s::bigint)$$, :u1),
    'idempotency conflicts left the original order unchanged');

-- The key is per merchant: another merchant may use the same out_trade_no.
SELECT paycore.create_order(:m2, 'IDEM-1', 2000, 'USD', 'wechat_pay') AS o_idem_m2 \gset
SELECT isnt(:o_idem_m2::bigint, :o_idem::bigint,
            'the same out_trade_no under another merchant is a new order');
SELECT is((SELECT count(*)::int FROM paycore.orders WHERE out_trade_no = 'IDEM-1'), 2,
          'both merchants now have an order IDEM-1');
SELECT is(paycore.create_order(:m2, 'IDEM-1', 2000, 'USD', 'wechat_pay'), :o_idem_m2::bigint,
          'a repeat under the second merchant returns the second merchant''s order');
SELECT is(paycore.create_order(:m1, 'IDEM-1', 1000, 'CNY', 'card', :u1), :o_idem::bigint,
          'the first merchant still gets its own order back');

-- Nothing in this section changed a status, so no audit row exists.
SELECT is((SELECT count(*)::int FROM paycore.audit_log), 0,
          'creating orders and repeating them wrote no audit row');

-- ---------------------------------------------------------------------------
-- get_order

SELECT is(paycore.get_order(:m1, 'IDEM-1'), (SELECT o FROM paycore.orders o WHERE o.id = :o_idem),
          'get_order returns the stored row');
SELECT is((paycore.get_order(:m2, 'IDEM-1')).id, :o_idem_m2::bigint,
          'get_order looks the key up under the given merchant');
SELECT is((paycore.get_order(:m1, 'IDEM-1')).status, 'pending'::paycore.order_status,
          'get_order shows the status');
SELECT throws_ok(format($$SELECT paycore.get_order(%s, 'no-such-order')$$, :m1),
                 'P0002', NULL, 'get_order of an unknown out_trade_no is P0002');
SELECT throws_ok(format($$SELECT paycore.get_order(%s, 'IDEM-2')$$, :m2),
                 'P0002', NULL, 'get_order of another merchant''s out_trade_no is P0002');
SELECT throws_ok($$SELECT paycore.get_order(-1, 'IDEM-1')$$,
                 'P0002', NULL, 'get_order of an unknown merchant is P0002');
SELECT throws_ok(format($$SELECT paycore.get_order(%s, NULL)$$, :m1),
                 '22004', NULL, 'get_order with NULL out_trade_no is 22004');
SELECT throws_ok($$SELECT paycore.get_order(NULL, 'IDEM-1')$$,
                 '22004', NULL, 'get_order with NULL merchant_id is 22004');

-- ---------------------------------------------------------------------------
-- expire_orders: closes pending orders past expires_at, nothing else.

-- expires_at is not among the immutable columns: moving it into the past is
-- how a test makes an order overdue without waiting.
SELECT paycore.create_order(:m1, 'EXP-past-1', 100, 'CNY', 'card', NULL, NULL, '1 minute') AS e_past1 \gset
SELECT paycore.create_order(:m1, 'EXP-past-2', 100, 'CNY', 'card') AS e_past2 \gset
SELECT paycore.create_order(:m1, 'EXP-processing', 100, 'CNY', 'card') AS e_proc \gset
SELECT paycore.create_order(:m1, 'EXP-failed', 100, 'CNY', 'card') AS e_failed \gset
SELECT paycore.create_order(:m1, 'EXP-future', 100, 'CNY', 'card', NULL, NULL, '1 minute') AS e_future \gset
SELECT paycore.start_payment(:e_proc) \g /dev/null
SELECT paycore.fail_payment(:e_failed, 'declined') \g /dev/null

SELECT lives_ok(format($$UPDATE paycore.orders SET expires_at = now() - interval '1 second' WHERE id = %s$$, :e_past1),
                'a direct UPDATE of expires_at is allowed');
SELECT is((SELECT expires_at FROM paycore.orders WHERE id = :e_past1), now() - interval '1 second',
          'the UPDATE of expires_at took effect');
UPDATE paycore.orders SET expires_at = now() - interval '1 day'
 WHERE id IN (:e_past2, :e_proc, :e_failed);
SELECT count(*) AS audit_before, coalesce(max(id), 0) AS audit_max FROM paycore.audit_log \gset

SELECT is(paycore.expire_orders(), 2, 'expire_orders closes the two overdue pending orders and says so');
SELECT results_eq(
    format($$SELECT id, status::text FROM paycore.orders WHERE id IN (%s, %s, %s, %s, %s) ORDER BY id$$,
           :e_past1, :e_past2, :e_proc, :e_failed, :e_future),
    format($$VALUES (%s::bigint, 'closed'::text), (%s, 'closed'), (%s, 'processing'), (%s, 'failed'), (%s, 'pending')$$,
           :e_past1, :e_past2, :e_proc, :e_failed, :e_future),
    'only pending orders past expires_at were closed; processing, failed and not-yet-due orders kept their status');
SELECT is((SELECT count(*)::int FROM paycore.orders WHERE status = 'pending' AND expires_at <= now()), 0,
          'no overdue pending order is left');
SELECT results_eq(
    format($$SELECT entity, entity_id, from_status, to_status, session_user_name = session_user FROM paycore.audit_log
              WHERE id > %s ORDER BY entity_id$$, :audit_max),
    format($$VALUES ('order'::text, %s::bigint, 'pending'::text, 'closed'::text, true),
                    ('order', %s, 'pending', 'closed', true)$$,
           :e_past1, :e_past2),
    'expire_orders wrote exactly one audit row, pending -> closed, per closed order');
SELECT is(paycore.expire_orders(), 0, 'a second run finds nothing to close');
SELECT is((SELECT count(*) FROM paycore.audit_log), :audit_before::bigint + 2,
          'the second run wrote no audit row');

-- ---------------------------------------------------------------------------
-- Retries after the world moved on.

-- A create retried after its payment method was disabled still gets its order.
SELECT paycore.create_order(:m2, 'retry-disabled', 700, 'CNY', 'bank_transfer') AS retry_disabled \gset
UPDATE paycore.payment_methods SET enabled = false WHERE code = 'bank_transfer';
SELECT is(paycore.create_order(:m2, 'retry-disabled', 700, 'CNY', 'bank_transfer'), :retry_disabled::bigint,
          'a repeated create_order returns its order even after the payment method was disabled');
SELECT throws_ok($$SELECT paycore.create_order($$ || :m2 || $$, 'new-disabled', 700, 'CNY', 'bank_transfer')$$,
                 '22023', 'invalid payment_method', 'a new order with the disabled method is refused');
UPDATE paycore.payment_methods SET enabled = true WHERE code = 'bank_transfer';

-- A channel resends its payment callback after a refund already began.
SELECT paycore.create_order(:m2, 'resend-after-refund', 1000, 'CNY', 'card') AS resend_order \gset
SELECT paycore.confirm_payment(:resend_order, 'CH-RESEND', 1000) AS resend_paid \gset
SELECT paycore.complete_refund(paycore.request_refund(:resend_order, 'resend-r1', 100, 'part'), true) AS resend_refunded \gset
SELECT is(paycore.confirm_payment(:resend_order, 'CH-RESEND', 1000), 'partially_refunded'::paycore.order_status,
          'the resent callback is a no-op that answers the current status');
SELECT is((SELECT count(*) FROM paycore.audit_log WHERE entity = 'order' AND entity_id = :resend_order), 2::bigint,
          'the resent callback wrote no audit row (paid and partially_refunded only)');
SELECT throws_ok($$SELECT paycore.confirm_payment($$ || :resend_order || $$, 'CH-OTHER', 1000)$$,
                 'PC001', NULL, 'another channel payment for the same order is refused');

SELECT * FROM finish();
ROLLBACK;
