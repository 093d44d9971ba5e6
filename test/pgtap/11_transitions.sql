-- The order state machine: every legal and every illegal move, through the
-- API and through a superuser's direct UPDATE of paycore.orders; then
-- confirm_payment's repeat and mismatch rules and the immutable columns.
--
-- The expected legal set is written out here by hand, from the issue, and is
-- never read back from paycore.order_transitions(): that function is itself
-- checked against it.
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS paycore CASCADE;

SELECT plan(142);

SELECT merchant_id AS m1 FROM paycore.create_merchant('Transition Shop', 'https://shop.example/notify') \gset
SELECT merchant_id AS m2 FROM paycore.create_merchant('Other Shop', 'https://other.example/notify') \gset

-- The legal order moves of the issue and design.  Everything else is PC001.
CREATE TEMP TABLE legal_order_move (from_status paycore.order_status, to_status paycore.order_status);
INSERT INTO legal_order_move VALUES
    ('pending', 'processing'), ('pending', 'paid'), ('pending', 'failed'), ('pending', 'closed'),
    ('processing', 'paid'), ('processing', 'failed'), ('processing', 'closed'),
    ('paid', 'partially_refunded'), ('paid', 'refunded'),
    ('partially_refunded', 'refunded');

-- An order of 1000 CNY brought into the given status through the API only.
\ir helpers.psql

-- The SET list of a direct UPDATE to the given status.  It also supplies
-- whatever else a row in that status needs (a payment for the paid states,
-- a matching refunded_amount), so that an illegal move can only be stopped
-- by the transition rule itself.
CREATE FUNCTION pg_temp.set_list(to_status paycore.order_status) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format('status = %L', to_status)
        || CASE WHEN to_status IN ('paid', 'partially_refunded', 'refunded')
                THEN ', channel_trade_no = coalesce(channel_trade_no, ''CH-direct''), paid_at = coalesce(paid_at, now())'
                ELSE '' END
        || CASE to_status
                WHEN 'partially_refunded' THEN ', refunded_amount = greatest(refunded_amount, 500)'
                WHEN 'refunded' THEN ', refunded_amount = amount'
                ELSE '' END;
$$;

-- ---------------------------------------------------------------------------
-- The compiled-in table equals the hand-written one.

SELECT bag_eq(
    'SELECT from_status, to_status FROM paycore.order_transitions()',
    'SELECT from_status, to_status FROM legal_order_move',
    'paycore.order_transitions() lists exactly the legal order moves, each once');

-- ---------------------------------------------------------------------------
-- Direct UPDATE by the superuser, all 7 x 7 pairs, one fresh order each.

CREATE TEMP TABLE direct_case AS
SELECT f.s AS from_status, t.s AS to_status,
       EXISTS (SELECT FROM legal_order_move l WHERE l.from_status = f.s AND l.to_status = t.s) AS legal,
       0::bigint AS order_id
  FROM unnest(enum_range(NULL::paycore.order_status)) f(s),
       unnest(enum_range(NULL::paycore.order_status)) t(s);
UPDATE direct_case SET order_id = pg_temp.order_in(:m1, from_status);
SELECT coalesce(max(id), 0) AS audit_max FROM paycore.audit_log \gset

SELECT is((SELECT count(*)::int FROM direct_case), 49, 'setup: 49 orders, one per (from, to) pair');

-- 32 illegal pairs: refused by the trigger with PC001.
SELECT throws_ok(format('UPDATE paycore.orders SET %s WHERE id = %s', pg_temp.set_list(to_status), order_id),
                 'PC001', NULL,
                 format('direct UPDATE %s -> %s is PC001', from_status, to_status))
  FROM direct_case
 WHERE NOT legal AND from_status <> to_status
 ORDER BY from_status, to_status;

-- 10 legal pairs: accepted when the row is consistent with the new status.
SELECT lives_ok(format('UPDATE paycore.orders SET %s WHERE id = %s', pg_temp.set_list(to_status), order_id),
                format('direct UPDATE %s -> %s is allowed', from_status, to_status))
  FROM direct_case
 WHERE legal
 ORDER BY from_status, to_status;

-- 7 same-status UPDATEs: not a transition at all (the status does not
-- change), so they are allowed and leave no trace.
SELECT lives_ok(format('UPDATE paycore.orders SET status = %L WHERE id = %s', to_status, order_id),
                format('direct UPDATE %s -> %s (no change) is allowed', from_status, to_status))
  FROM direct_case
 WHERE from_status = to_status
 ORDER BY from_status;

SELECT results_eq(
    $$SELECT c.from_status, c.to_status, o.status FROM direct_case c JOIN paycore.orders o ON o.id = c.order_id
       ORDER BY 1, 2$$,
    $$SELECT from_status, to_status, CASE WHEN legal THEN to_status ELSE from_status END
        FROM direct_case ORDER BY 1, 2$$,
    'legal direct UPDATEs reached their status; refused ones kept theirs');
SELECT results_eq(
    format($$SELECT a.entity_id, a.from_status, a.to_status FROM paycore.audit_log a
              WHERE a.id > %s AND a.entity = 'order' ORDER BY a.entity_id$$, :audit_max),
    $$SELECT order_id, from_status::text, to_status::text FROM direct_case WHERE legal ORDER BY order_id$$,
    'each legal direct UPDATE wrote one audit row; refused and same-status UPDATEs wrote none');
SELECT results_eq(
    $$SELECT c.to_status, o.refunded_amount, o.channel_trade_no IS NOT NULL, o.paid_at IS NOT NULL
        FROM direct_case c JOIN paycore.orders o ON o.id = c.order_id
       WHERE c.legal AND c.to_status IN ('paid', 'partially_refunded', 'refunded')
       ORDER BY c.from_status, c.to_status$$,
    $$VALUES ('paid'::paycore.order_status, 0::bigint, true, true),
             ('paid', 0, true, true),
             ('partially_refunded', 500, true, true),
             ('refunded', 1000, true, true),
             ('refunded', 1000, true, true)$$,
    'legal direct moves into the paid states kept the payment facts and the refunded amount given');

-- A direct move into a paid state must still produce a consistent row.
SELECT pg_temp.order_in(:m1, 'pending') AS o_nochan \gset
SELECT pg_temp.order_in(:m1, 'paid') AS o_noref \gset
SELECT throws_ok(format($$UPDATE paycore.orders SET status = 'paid' WHERE id = %s$$, :o_nochan),
                 NULL, NULL, 'direct UPDATE pending -> paid without channel_trade_no is refused');
SELECT throws_ok(format($$UPDATE paycore.orders SET status = 'refunded' WHERE id = %s$$, :o_noref),
                 'PC001', NULL, 'direct UPDATE paid -> refunded without refunded_amount = amount is PC001');
SELECT throws_ok(format($$UPDATE paycore.orders SET status = 'partially_refunded' WHERE id = %s$$, :o_noref),
                 'PC001', NULL, 'direct UPDATE paid -> partially_refunded with nothing refunded is PC001');
SELECT throws_ok(format($$UPDATE paycore.orders SET refunded_amount = 100 WHERE id = %s$$, :o_noref),
                 'PC001', NULL, 'refunded_amount that does not match the status (paid with 100 refunded) is PC001');
SELECT results_eq(
    format($$SELECT id, status::text, refunded_amount FROM paycore.orders WHERE id IN (%s, %s) ORDER BY id$$,
           :o_nochan, :o_noref),
    format($$VALUES (%s::bigint, 'pending'::text, 0::bigint), (%s, 'paid', 0)$$, :o_nochan, :o_noref),
    'the refused direct UPDATEs changed nothing');

-- ---------------------------------------------------------------------------
-- The API: each of start_payment, confirm_payment, fail_payment, close_order
-- from each of the 7 statuses.

CREATE TEMP TABLE api_case AS
SELECT fn, f.s AS from_status, NULL::bigint AS order_id,
       CASE fn WHEN 'start_payment' THEN 'processing' WHEN 'confirm_payment' THEN 'paid'
               WHEN 'fail_payment' THEN 'failed' ELSE 'closed' END::paycore.order_status AS to_status,
       (fn = 'start_payment' AND f.s = 'pending')
       OR (fn <> 'start_payment' AND f.s IN ('pending', 'processing')) AS legal
  FROM unnest(ARRAY['start_payment', 'confirm_payment', 'fail_payment', 'close_order']) fn,
       unnest(enum_range(NULL::paycore.order_status)) f(s);
UPDATE api_case SET order_id = pg_temp.order_in(:m1, from_status);

-- The call; confirm_payment carries a channel number no order has yet, so on
-- an already paid order it is a different payment, not a resent callback.
CREATE FUNCTION pg_temp.api_sql(fn text, order_id bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE fn
        WHEN 'start_payment' THEN format('SELECT paycore.start_payment(%s)', order_id)
        WHEN 'confirm_payment' THEN format('SELECT paycore.confirm_payment(%s, %L, 1000)', order_id, 'CH-api-' || order_id)
        WHEN 'fail_payment' THEN format('SELECT paycore.fail_payment(%s, %L)', order_id, 'declined by the bank')
        ELSE format('SELECT paycore.close_order(%s)', order_id) END;
$$;
CREATE FUNCTION pg_temp.api_call(fn text, order_id bigint) RETURNS paycore.order_status
LANGUAGE plpgsql AS $$
DECLARE
    v_result paycore.order_status;
BEGIN
    EXECUTE pg_temp.api_sql(fn, order_id) INTO v_result;
    RETURN v_result;
END;
$$;
SELECT coalesce(max(id), 0) AS audit_max FROM paycore.audit_log \gset

SELECT is((SELECT count(*)::int FROM api_case WHERE legal), 7, 'setup: 7 legal API moves');

-- 7 legal calls: each returns the new status.
SELECT is(pg_temp.api_call(fn, order_id), to_status,
          format('%s on a %s order returns %s', fn, from_status, to_status))
  FROM api_case WHERE legal ORDER BY fn, from_status;

-- 21 illegal calls: PC001.
SELECT throws_ok(pg_temp.api_sql(fn, order_id), 'PC001', NULL,
                 format('%s on a %s order is PC001', fn, from_status))
  FROM api_case WHERE NOT legal ORDER BY fn, from_status;

SELECT results_eq(
    $$SELECT c.fn, c.from_status, o.status FROM api_case c JOIN paycore.orders o ON o.id = c.order_id ORDER BY 1, 2$$,
    $$SELECT fn, from_status, CASE WHEN legal THEN to_status ELSE from_status END FROM api_case ORDER BY 1, 2$$,
    'legal API calls moved their order; refused ones left it in its status');
SELECT results_eq(
    format($$SELECT a.entity_id, a.from_status, a.to_status FROM paycore.audit_log a
              WHERE a.id > %s AND a.entity = 'order' ORDER BY a.entity_id$$, :audit_max),
    $$SELECT order_id, from_status::text, to_status::text FROM api_case WHERE legal ORDER BY order_id$$,
    'each legal API call wrote one audit row; refused calls wrote none');
SELECT results_eq(
    $$SELECT c.fn, c.from_status, o.failure_reason, o.channel_trade_no = 'CH-api-' || o.id, o.paid_at IS NOT NULL
        FROM api_case c JOIN paycore.orders o ON o.id = c.order_id
       WHERE c.legal AND c.fn IN ('fail_payment', 'confirm_payment') ORDER BY 1, 2$$,
    $$VALUES ('confirm_payment'::text, 'pending'::paycore.order_status, NULL::text, true, true),
             ('confirm_payment', 'processing', NULL, true, true),
             ('fail_payment', 'pending', 'declined by the bank', NULL, false),
             ('fail_payment', 'processing', 'declined by the bank', NULL, false)$$,
    'confirm_payment stored the channel number and paid_at; fail_payment stored its reason');

-- Unknown and NULL order ids.
SELECT throws_ok('SELECT paycore.start_payment(-1)', 'P0002', NULL, 'start_payment of an unknown order is P0002');
SELECT throws_ok($$SELECT paycore.confirm_payment(-1, 'CH-x', 1000)$$, 'P0002', NULL,
                 'confirm_payment of an unknown order is P0002');
SELECT throws_ok($$SELECT paycore.fail_payment(-1, 'declined')$$, 'P0002', NULL,
                 'fail_payment of an unknown order is P0002');
SELECT throws_ok('SELECT paycore.close_order(-1)', 'P0002', NULL, 'close_order of an unknown order is P0002');
SELECT throws_ok('SELECT paycore.start_payment(NULL)', '22004', NULL, 'start_payment(NULL) is 22004');
SELECT throws_ok('SELECT paycore.close_order(NULL)', '22004', NULL, 'close_order(NULL) is 22004');

-- ---------------------------------------------------------------------------
-- confirm_payment in detail.

SELECT pg_temp.order_in(:m1, 'pending') AS o_pay \gset
SELECT is(paycore.confirm_payment(:o_pay, 'CH-first', 1000), 'paid'::paycore.order_status,
          'confirm_payment of a pending order returns paid');
SELECT results_eq(
    format($$SELECT status::text, channel_trade_no, paid_at BETWEEN created_at AND clock_timestamp()
               FROM paycore.orders WHERE id = %s$$, :o_pay),
    $$VALUES ('paid'::text, 'CH-first'::text, true)$$,
    'confirm_payment set status paid, channel_trade_no and paid_at');

-- A resent callback: the same channel number again.  To show that paid_at
-- is not rewritten, pay an order directly with a paid_at that now() (the
-- transaction start, which a rewrite would use) cannot equal.
SELECT pg_temp.order_in(:m1, 'pending') AS o_resend \gset
UPDATE paycore.orders SET status = 'paid', channel_trade_no = 'CH-resend', paid_at = clock_timestamp()
 WHERE id = :o_resend;
SELECT paid_at AS resend_paid_at, updated_at AS resend_updated_at FROM paycore.orders WHERE id = :o_resend \gset
SELECT count(*) AS audit_count FROM paycore.audit_log \gset
SELECT is(paycore.confirm_payment(:o_resend, 'CH-resend', 1000), 'paid'::paycore.order_status,
          'confirm_payment repeated with the same channel_trade_no returns paid');
SELECT is(paycore.confirm_payment(:o_pay, 'CH-first', 1000), 'paid'::paycore.order_status,
          'confirm_payment repeated on an API-paid order returns paid');
SELECT results_eq(
    format($$SELECT status::text, channel_trade_no, paid_at FROM paycore.orders WHERE id = %s$$, :o_resend),
    format($$VALUES ('paid'::text, 'CH-resend'::text, %L::timestamptz)$$, :'resend_paid_at'),
    'the repeat left status, channel_trade_no and paid_at unchanged');
SELECT is((SELECT count(*) FROM paycore.audit_log), :audit_count::bigint,
          'the repeats wrote no audit row');

SELECT throws_ok(format($$SELECT paycore.confirm_payment(%s, 'CH-second', 1000)$$, :o_pay),
                 'PC001', NULL, 'confirm_payment with a different channel_trade_no on a paid order is PC001');
SELECT is((SELECT channel_trade_no FROM paycore.orders WHERE id = :o_pay), 'CH-first',
          'the paid order keeps its first channel_trade_no');

-- Amount mismatch: PC004 and nothing changes.
SELECT pg_temp.order_in(:m1, 'pending') AS o_mis_pending \gset
SELECT pg_temp.order_in(:m1, 'processing') AS o_mis_processing \gset
SELECT count(*) AS audit_count FROM paycore.audit_log \gset
SELECT throws_ok(format($$SELECT paycore.confirm_payment(%s, 'CH-mis-1', 999)$$, :o_mis_pending),
                 'PC004', NULL, 'confirm_payment paying less than the amount is PC004');
SELECT throws_ok(format($$SELECT paycore.confirm_payment(%s, 'CH-mis-2', 1001)$$, :o_mis_pending),
                 'PC004', NULL, 'confirm_payment paying more than the amount is PC004');
SELECT throws_ok(format($$SELECT paycore.confirm_payment(%s, 'CH-mis-3', 1)$$, :o_mis_processing),
                 'PC004', NULL, 'confirm_payment with a mismatched amount on a processing order is PC004');
SELECT results_eq(
    format($$SELECT id, status::text, channel_trade_no, paid_at FROM paycore.orders WHERE id IN (%s, %s) ORDER BY id$$,
           :o_mis_pending, :o_mis_processing),
    format($$VALUES (%s::bigint, 'pending'::text, NULL::text, NULL::timestamptz), (%s, 'processing', NULL, NULL)$$,
           :o_mis_pending, :o_mis_processing),
    'after PC004 the orders are unchanged (still pending / processing, no payment recorded)');
SELECT is((SELECT count(*) FROM paycore.audit_log), :audit_count::bigint, 'PC004 wrote no audit row');
SELECT throws_ok(format($$SELECT paycore.confirm_payment(%s, NULL, 1000)$$, :o_mis_pending),
                 '22004', NULL, 'confirm_payment with NULL channel_trade_no is 22004');
SELECT throws_ok(format($$SELECT paycore.confirm_payment(%s, 'CH-null', NULL)$$, :o_mis_pending),
                 '22004', NULL, 'confirm_payment with NULL paid_amount is 22004');

-- ---------------------------------------------------------------------------
-- Immutable columns, changed directly by the superuser.

SELECT pg_temp.order_in(:m1, 'pending') AS o_fixed \gset
SELECT pg_temp.order_in(:m1, 'partially_refunded') AS o_fixed_paid \gset
SELECT throws_ok(format('UPDATE paycore.orders SET merchant_id = %s WHERE id = %s', :m2, :o_fixed),
                 'PC005', NULL, 'changing merchant_id is PC005');
SELECT throws_ok(format($$UPDATE paycore.orders SET out_trade_no = 'renamed' WHERE id = %s$$, :o_fixed),
                 'PC005', NULL, 'changing out_trade_no is PC005');
SELECT throws_ok(format('UPDATE paycore.orders SET amount = 2000 WHERE id = %s', :o_fixed),
                 'PC005', NULL, 'changing amount is PC005');
SELECT throws_ok(format('UPDATE paycore.orders SET amount = 999 WHERE id = %s', :o_fixed_paid),
                 'PC005', NULL, 'changing the amount of a partially refunded order is PC005');
SELECT throws_ok(format($$UPDATE paycore.orders SET currency = 'USD' WHERE id = %s$$, :o_fixed),
                 'PC005', NULL, 'changing currency is PC005');
SELECT throws_ok(format($$UPDATE paycore.orders SET channel_trade_no = 'CH-other' WHERE id = %s$$, :o_fixed_paid),
                 'PC005', NULL, 'changing channel_trade_no once paid is PC005');
SELECT throws_ok(format($$UPDATE paycore.orders SET paid_at = paid_at - interval '1 day' WHERE id = %s$$, :o_fixed_paid),
                 'PC005', NULL, 'changing paid_at once paid is PC005');
SELECT throws_ok(format('UPDATE paycore.orders SET refunded_amount = 300 WHERE id = %s', :o_fixed_paid),
                 'PC005', NULL, 'decreasing refunded_amount (400 -> 300) is PC005');
SELECT throws_ok(format('UPDATE paycore.orders SET refunded_amount = 1001 WHERE id = %s', :o_fixed_paid),
                 'PC003', NULL, 'refunded_amount above the amount (1001 of 1000) is PC003');
SELECT throws_ok(format($$UPDATE paycore.orders SET status = 'refunded', refunded_amount = 1001 WHERE id = %s$$, :o_fixed_paid),
                 'PC003', NULL, 'refunded with refunded_amount above the amount is PC003');
SELECT results_eq(
    format($$SELECT merchant_id, out_trade_no, amount, currency, status::text, refunded_amount
               FROM paycore.orders WHERE id IN (%s, %s) ORDER BY id$$, :o_fixed, :o_fixed_paid),
    format($$VALUES (%s::bigint, %L::text, 1000::bigint, 'CNY'::text, 'pending'::text, 0::bigint),
                    (%s, %L, 1000, 'CNY', 'partially_refunded', 400)$$,
           :m1, (SELECT out_trade_no FROM paycore.orders WHERE id = :o_fixed),
           :m1, (SELECT out_trade_no FROM paycore.orders WHERE id = :o_fixed_paid)),
    'the refused UPDATEs left both orders as they were');
-- Growing refunded_amount within the amount, with the matching status, is allowed.
SELECT lives_ok(format('UPDATE paycore.orders SET refunded_amount = 700 WHERE id = %s', :o_fixed_paid),
                'increasing refunded_amount within the amount (partially_refunded stays) is allowed');

-- ---------------------------------------------------------------------------
-- Direct writes that break a column's form are refused by the table's CHECK
-- (23514), with the same limits the API applies to its arguments.

SELECT throws_ok(format($$INSERT INTO paycore.orders (merchant_id, out_trade_no, amount, currency, payment_method, expires_at)
                         VALUES (%s, %L, 100, 'CNY', 'card', now() + interval '1 hour')$$, :m1, k),
                 '23514', NULL, format('a direct INSERT of an order with out_trade_no %s is refused', d))
  FROM (VALUES ('', 'empty'), ('has space', 'with a space'), ('ünïcode', 'with non-ASCII letters'),
               (repeat('k', 65), 'of 65 characters')) AS bad(k, d);
SELECT throws_ok(format($$INSERT INTO paycore.orders (merchant_id, out_trade_no, amount, currency, payment_method, expires_at)
                         VALUES (%s, 'direct-amount', %s, 'CNY', 'card', now() + interval '1 hour')$$, :m1, a),
                 '23514', NULL, format('a direct INSERT of an order of amount %s is refused', a))
  FROM unnest(ARRAY[0, -1, 100000000001]) AS a;
SELECT throws_ok(format($$INSERT INTO paycore.orders (merchant_id, out_trade_no, amount, currency, payment_method, subject, expires_at)
                         VALUES (%s, 'direct-subject', 100, 'CNY', 'card', repeat('s', 257), now() + interval '1 hour')$$, :m1),
                 '23514', NULL, 'a direct INSERT of an order with a subject of 257 characters is refused');
SELECT throws_ok(format($$INSERT INTO paycore.orders (merchant_id, out_trade_no, amount, currency, payment_method, expires_at,
                                                     status, channel_trade_no, paid_at)
                         VALUES (%s, 'direct-channel', 100, 'CNY', 'card', now() + interval '1 hour', 'paid', %L, now())$$, :m1, c),
                 '23514', NULL, format('a direct INSERT of a paid order with a channel_trade_no of %s characters is refused', length(c)))
  FROM unnest(ARRAY['', repeat('c', 129)]) AS c;
SELECT lives_ok(format($$INSERT INTO paycore.orders (merchant_id, out_trade_no, amount, currency, payment_method, subject, expires_at,
                                                    status, channel_trade_no, paid_at)
                         VALUES (%s, %L, 100000000000, 'CNY', 'card', repeat('s', 256), now() + interval '1 hour',
                                 'paid', repeat('c', 128), now())$$, :m1, repeat('K', 64)),
                'a direct INSERT at every column''s limit is allowed');
SELECT pg_temp.order_in(:m1, 'paid') AS o_forms \gset
SELECT throws_ok(format($$INSERT INTO paycore.refunds (order_id, out_refund_no, amount, reason)
                         VALUES (%s, %L, 1, 'r')$$, :o_forms, k),
                 '23514', NULL, format('a direct INSERT of a refund with out_refund_no %s is refused', d))
  FROM (VALUES ('', 'empty'), ('bad/key', 'with a slash'), (repeat('k', 65), 'of 65 characters')) AS bad(k, d);
SELECT throws_ok(format($$INSERT INTO paycore.refunds (order_id, out_refund_no, amount, reason)
                         VALUES (%s, 'direct-refund', %s, 'r')$$, :o_forms, a),
                 '23514', NULL, format('a direct INSERT of a refund of amount %s is refused', a))
  FROM unnest(ARRAY[0, -5]) AS a;
SELECT is((SELECT count(*)::int FROM paycore.orders WHERE out_trade_no LIKE 'direct-%'), 0,
          'the refused order INSERTs wrote nothing');
SELECT is((SELECT count(*)::int FROM paycore.refunds WHERE order_id = :o_forms), 0,
          'the refused refund INSERTs wrote nothing');

SELECT * FROM finish();
ROLLBACK;
