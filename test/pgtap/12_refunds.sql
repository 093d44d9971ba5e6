-- Refunds: request_refund's preconditions and validation, the refundable
-- amount (pending + succeeded never above the order amount), idempotency on
-- (merchant_id, out_refund_no), complete_refund's outcomes, and the refund
-- rules enforced on a superuser's direct UPDATE and INSERT.
--
-- Every order here is for 1000 CNY.  orders.pending_refund_amount is checked
-- along the way: it is the sum of the order's pending refunds.
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS paycore CASCADE;

SELECT plan(109);

SELECT merchant_id AS m1 FROM paycore.create_merchant('Refund Shop', 'https://shop.example/notify') \gset
SELECT merchant_id AS m2 FROM paycore.create_merchant('Other Shop', 'https://other.example/notify') \gset

-- An order of 1000 CNY brought into the given status through the API only.
\ir helpers.psql

-- The order's money in one comparable line: status, refunded_amount and
-- pending_refund_amount.
CREATE FUNCTION pg_temp.money(order_id bigint) RETURNS text
LANGUAGE sql AS $$
    SELECT format('%s, refunded %s, pending %s', o.status, o.refunded_amount, o.pending_refund_amount)
      FROM paycore.orders o WHERE o.id = order_id;
$$;

-- ---------------------------------------------------------------------------
-- The refund state machine, written out by hand.

SELECT bag_eq(
    'SELECT from_status, to_status FROM paycore.refund_transitions()',
    $$VALUES ('pending'::paycore.refund_status, 'succeeded'::paycore.refund_status),
             ('pending', 'failed')$$,
    'paycore.refund_transitions() is exactly pending -> succeeded and pending -> failed');

-- ---------------------------------------------------------------------------
-- Only paid and partially refunded orders can be refunded.

SELECT pg_temp.order_in(:m1, 'pending') AS o_pending \gset
SELECT pg_temp.order_in(:m1, 'processing') AS o_processing \gset
SELECT pg_temp.order_in(:m1, 'failed') AS o_failed \gset
SELECT pg_temp.order_in(:m1, 'closed') AS o_closed \gset
SELECT pg_temp.order_in(:m1, 'refunded') AS o_refunded \gset
SELECT pg_temp.order_in(:m1, 'paid') AS o_paid \gset
SELECT pg_temp.order_in(:m1, 'partially_refunded') AS o_partial \gset

SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'ST-pending', 100, 'r')$$, :o_pending),
                 'PC001', NULL, 'refunding a pending order is PC001');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'ST-processing', 100, 'r')$$, :o_processing),
                 'PC001', NULL, 'refunding a processing order is PC001');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'ST-failed', 100, 'r')$$, :o_failed),
                 'PC001', NULL, 'refunding a failed order is PC001');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'ST-closed', 100, 'r')$$, :o_closed),
                 'PC001', NULL, 'refunding a closed order is PC001');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'ST-refunded', 1, 'r')$$, :o_refunded),
                 'PC001', NULL, 'refunding a refunded order is PC001');
SELECT is((SELECT count(*)::int FROM paycore.refunds WHERE out_refund_no LIKE 'ST-%'), 0,
          'the refused requests wrote no refund row');
SELECT ok(paycore.request_refund(:o_paid, 'ST-paid', 100, 'r') > 0, 'a paid order can be refunded');
SELECT ok(paycore.request_refund(:o_partial, 'ST-partial', 100, 'r') > 0, 'a partially refunded order can be refunded');
SELECT is(pg_temp.money(:o_paid), 'paid, refunded 0, pending 100',
          'a pending refund leaves the order paid, with its amount in pending_refund_amount');
SELECT is(pg_temp.money(:o_partial), 'partially_refunded, refunded 400, pending 100',
          'a pending refund of a partially refunded order adds to pending_refund_amount only');

-- ---------------------------------------------------------------------------
-- Argument validation (on a fresh paid order).

SELECT pg_temp.order_in(:m1, 'paid') AS o_val \gset

-- reason: 1-256 characters, not blank
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'V-1', 10, '')$$, :o_val),
                 '22023', 'invalid reason', 'empty reason is 22023');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'V-1', 10, '   ')$$, :o_val),
                 '22023', 'invalid reason', 'blank reason is 22023');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'V-1', 10, %L)$$, :o_val, repeat('r', 257)),
                 '22023', 'invalid reason', 'reason of 257 characters is 22023');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'V-1', 10, NULL)$$, :o_val),
                 '22004', NULL, 'NULL reason is 22004');
SELECT ok(paycore.request_refund(:o_val, 'V-reason-1', 10, 'x') > 0, 'reason of 1 character is accepted');
SELECT ok(paycore.request_refund(:o_val, 'V-reason-256', 10, repeat('é', 256)) > 0,
          'reason of 256 (multibyte) characters is accepted');

-- refund_method: original or balance
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'V-1', 10, 'r', 'cash')$$, :o_val),
                 '22023', 'invalid refund_method', 'refund_method cash is 22023');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'V-1', 10, 'r', 'Original')$$, :o_val),
                 '22023', 'invalid refund_method', 'refund_method is case-sensitive (Original is 22023)');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'V-1', 10, 'r', '')$$, :o_val),
                 '22023', 'invalid refund_method', 'empty refund_method is 22023');
SELECT ok(paycore.request_refund(:o_val, 'V-balance', 10, 'r', 'balance') > 0, 'refund_method balance is accepted');
SELECT ok(paycore.request_refund(:o_val, 'V-original', 10, 'r', 'original') > 0, 'refund_method original is accepted');
SELECT ok(paycore.request_refund(:o_val, 'V-default', 10, 'r') > 0, 'refund_method may be left out');
SELECT results_eq(
    $$SELECT out_refund_no, refund_method FROM paycore.refunds
       WHERE out_refund_no IN ('V-balance', 'V-original', 'V-default') ORDER BY 1$$,
    $$VALUES ('V-balance'::text, 'balance'::text), ('V-default', 'original'), ('V-original', 'original')$$,
    'refund_method is stored; it defaults to original');

-- amount: 1 .. 100000000000
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'V-1', 0, 'r')$$, :o_val),
                 '22023', 'invalid amount', 'refund amount 0 is 22023');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'V-1', -1, 'r')$$, :o_val),
                 '22023', 'invalid amount', 'refund amount -1 is 22023');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'V-1', 100000000001, 'r')$$, :o_val),
                 '22023', 'invalid amount', 'refund amount 100000000001 is 22023');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'V-1', NULL, 'r')$$, :o_val),
                 '22004', NULL, 'NULL refund amount is 22004');

-- out_refund_no: 1-64 of [A-Za-z0-9_-]
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, '', 10, 'r')$$, :o_val),
                 '22023', 'invalid out_refund_no', 'empty out_refund_no is 22023');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, %L, 10, 'r')$$, :o_val, repeat('x', 65)),
                 '22023', 'invalid out_refund_no', 'out_refund_no of 65 characters is 22023');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'a b', 10, 'r')$$, :o_val),
                 '22023', 'invalid out_refund_no', 'out_refund_no with a space is 22023');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, NULL, 10, 'r')$$, :o_val),
                 '22004', NULL, 'NULL out_refund_no is 22004');

-- the order
SELECT throws_ok($$SELECT paycore.request_refund(-1, 'V-1', 10, 'r')$$,
                 'P0002', NULL, 'refunding an unknown order is P0002');
SELECT throws_ok($$SELECT paycore.request_refund(NULL, 'V-1', 10, 'r')$$,
                 '22004', NULL, 'refunding a NULL order is 22004');

SELECT is((SELECT count(*)::int FROM paycore.refunds WHERE order_id = :o_val), 5,
          'only the five valid requests wrote refund rows');
SELECT is(pg_temp.money(:o_val), 'paid, refunded 0, pending 50',
          'pending_refund_amount is the sum of the five pending refunds of 10');

-- ---------------------------------------------------------------------------
-- The refundable amount: pending + succeeded + new <= order amount.

SELECT pg_temp.order_in(:m1, 'paid') AS o_lim \gset
SELECT paycore.request_refund(:o_lim, 'L-600', 600, 'r') AS r600 \gset
SELECT is(pg_temp.money(:o_lim), 'paid, refunded 0, pending 600', '600 pending on a 1000 order');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'L-500', 500, 'r')$$, :o_lim),
                 'PC003', NULL, '600 pending + 500 is over 1000: PC003');
SELECT paycore.request_refund(:o_lim, 'L-400', 400, 'r') AS r400 \gset
SELECT is(pg_temp.money(:o_lim), 'paid, refunded 0, pending 1000', '600 + 400 pending fill the order exactly');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'L-1', 1, 'r')$$, :o_lim),
                 'PC003', NULL, 'with 1000 of 1000 pending, a refund of 1 is PC003');
SELECT is((SELECT count(*)::int FROM paycore.refunds WHERE order_id = :o_lim), 2,
          'the refused requests wrote no refund row');

-- A failed refund frees its amount.
SELECT is(paycore.complete_refund(:r600, false), 'failed'::paycore.refund_status,
          'complete_refund(false) returns failed');
SELECT is(pg_temp.money(:o_lim), 'paid, refunded 0, pending 400',
          'the failed 600 is no longer pending (400 left); the order is still paid');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'L-601', 601, 'r')$$, :o_lim),
                 'PC003', NULL, 'with 400 pending, 601 is still too much: PC003');
SELECT paycore.request_refund(:o_lim, 'L-600b', 600, 'r') AS r600b \gset
SELECT is(pg_temp.money(:o_lim), 'paid, refunded 0, pending 1000', 'the freed 600 could be requested again');

-- Success moves the amount from pending to refunded.
SELECT is(paycore.complete_refund(:r400, true, 'CRN-400'), 'succeeded'::paycore.refund_status,
          'complete_refund(true) returns succeeded');
SELECT is(pg_temp.money(:o_lim), 'partially_refunded, refunded 400, pending 600',
          'after 400 succeeded: partially_refunded, 400 refunded, 600 pending');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'L-1b', 1, 'r')$$, :o_lim),
                 'PC003', NULL, '400 succeeded + 600 pending + 1 is PC003');
SELECT is(paycore.complete_refund(:r600b, true), 'succeeded'::paycore.refund_status,
          'the second refund succeeds');
SELECT is(pg_temp.money(:o_lim), 'refunded, refunded 1000, pending 0',
          'after 400 + 600 succeeded: refunded, 1000 refunded, nothing pending');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'L-1c', 1, 'r')$$, :o_lim),
                 'PC001', NULL, 'a fully refunded order takes no further refund: PC001');
SELECT is(paycore.request_refund(:o_lim, 'L-600b', 600, 'r'), :r600b::bigint,
          'a retry of an earlier request still returns its id once the order is refunded');
SELECT results_eq(
    format($$SELECT out_refund_no, status::text, channel_refund_no, completed_at IS NOT NULL
               FROM paycore.refunds WHERE order_id = %s ORDER BY id$$, :o_lim),
    $$VALUES ('L-600'::text, 'failed'::text, NULL::text, true),
             ('L-400', 'succeeded', 'CRN-400', true),
             ('L-600b', 'succeeded', NULL, true)$$,
    'the refunds of the order: statuses, channel_refund_no and completed_at');

-- ---------------------------------------------------------------------------
-- complete_refund: repeats and conflicts.

SELECT count(*) AS audit_count FROM paycore.audit_log \gset
SELECT is(paycore.complete_refund(:r400, true), 'succeeded'::paycore.refund_status,
          'complete_refund(true) again on a succeeded refund returns succeeded');
SELECT is(paycore.complete_refund(:r600, false), 'failed'::paycore.refund_status,
          'complete_refund(false) again on a failed refund returns failed');
SELECT is((SELECT count(*) FROM paycore.audit_log), :audit_count::bigint, 'the repeats wrote no audit row');
SELECT is(pg_temp.money(:o_lim), 'refunded, refunded 1000, pending 0', 'the repeats moved no money');
SELECT is((SELECT channel_refund_no FROM paycore.refunds WHERE id = :r400), 'CRN-400',
          'the repeat kept the channel_refund_no');
SELECT throws_ok(format('SELECT paycore.complete_refund(%s, false)', :r400),
                 'PC001', NULL, 'failing a succeeded refund is PC001');
SELECT throws_ok(format('SELECT paycore.complete_refund(%s, true)', :r600),
                 'PC001', NULL, 'succeeding a failed refund is PC001');
SELECT results_eq(
    format('SELECT id, status::text FROM paycore.refunds WHERE id IN (%s, %s) ORDER BY id', :r600, :r400),
    format($$VALUES (%s::bigint, 'failed'::text), (%s, 'succeeded')$$, :r600, :r400),
    'the refused outcomes left both refunds as they were');
SELECT is(pg_temp.money(:o_lim), 'refunded, refunded 1000, pending 0', 'the refused outcomes moved no money');
SELECT throws_ok('SELECT paycore.complete_refund(-1, true)', 'P0002', NULL, 'completing an unknown refund is P0002');
SELECT throws_ok(format('SELECT paycore.complete_refund(%s, NULL)', :r400),
                 '22004', NULL, 'complete_refund with NULL succeeded is 22004');
SELECT throws_ok('SELECT paycore.complete_refund(NULL, true)', '22004', NULL, 'complete_refund(NULL, ...) is 22004');

-- ---------------------------------------------------------------------------
-- Idempotency on (merchant_id, out_refund_no).

SELECT pg_temp.order_in(:m1, 'paid') AS o_idem \gset
SELECT pg_temp.order_in(:m1, 'paid') AS o_idem_other \gset
SELECT pg_temp.order_in(:m2, 'paid') AS o_idem_m2 \gset
SELECT paycore.request_refund(:o_idem, 'RF-1', 100, 'duplicate test') AS rf1 \gset
SELECT count(*) AS n_refunds FROM paycore.refunds \gset

SELECT is(paycore.request_refund(:o_idem, 'RF-1', 100, 'duplicate test'), :rf1::bigint,
          'an identical repeat returns the existing refund id');
SELECT is(paycore.request_refund(:o_idem, 'RF-1', 100, 'duplicate test', 'original'), :rf1::bigint,
          'a repeat naming the default refund_method returns the existing refund id');
SELECT is((SELECT count(*) FROM paycore.refunds), :n_refunds::bigint, 'the repeats wrote no refund row');
SELECT is(pg_temp.money(:o_idem), 'paid, refunded 0, pending 100', 'the repeats did not reserve the amount again');

SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'RF-1', 101, 'duplicate test')$$, :o_idem),
                 'PC002', NULL, 'a repeat with a different amount is PC002');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'RF-1', 100, 'duplicate test')$$, :o_idem_other),
                 'PC002', NULL, 'a repeat for a different order of the same merchant is PC002');
SELECT throws_ok(format($$SELECT paycore.request_refund(%s, 'RF-1', 100, 'duplicate test', 'balance')$$, :o_idem),
                 'PC002', NULL, 'a repeat with a different refund_method is PC002');
SELECT is((SELECT count(*) FROM paycore.refunds), :n_refunds::bigint, 'the conflicts wrote no refund row');
SELECT results_eq(
    format('SELECT id, status::text, refunded_amount, pending_refund_amount FROM paycore.orders WHERE id IN (%s, %s) ORDER BY id',
           :o_idem, :o_idem_other),
    format($$VALUES (%s::bigint, 'paid'::text, 0::bigint, 100::bigint), (%s, 'paid', 0, 0)$$, :o_idem, :o_idem_other),
    'the conflicts reserved nothing on either order');

-- The key is per merchant.
SELECT paycore.request_refund(:o_idem_m2, 'RF-1', 100, 'duplicate test') AS rf1_m2 \gset
SELECT isnt(:rf1_m2::bigint, :rf1::bigint, 'the same out_refund_no under another merchant is a new refund');

-- A retry after the refund succeeded still gets the same answer.
SELECT paycore.complete_refund(:rf1, true) \g /dev/null
SELECT is(paycore.request_refund(:o_idem, 'RF-1', 100, 'duplicate test'), :rf1::bigint,
          'a repeat after the refund succeeded returns the same id');
SELECT is(pg_temp.money(:o_idem), 'partially_refunded, refunded 100, pending 0',
          'and reserves nothing: 100 refunded, nothing pending');

-- ---------------------------------------------------------------------------
-- get_refund

SELECT is(paycore.get_refund(:m1, 'RF-1'), (SELECT r FROM paycore.refunds r WHERE r.id = :rf1),
          'get_refund returns the stored row');
SELECT is((paycore.get_refund(:m2, 'RF-1')).id, :rf1_m2::bigint, 'get_refund looks the key up under the given merchant');
SELECT results_eq(
    format($$SELECT order_id, merchant_id, out_refund_no, amount, reason, refund_method, status::text
               FROM paycore.get_refund(%s, 'RF-1')$$, :m1),
    format($$VALUES (%s::bigint, %s::bigint, 'RF-1'::text, 100::bigint, 'duplicate test'::text, 'original'::text, 'succeeded'::text)$$,
           :o_idem, :m1),
    'get_refund shows what was requested and the outcome');
SELECT throws_ok(format($$SELECT paycore.get_refund(%s, 'no-such-refund')$$, :m1),
                 'P0002', NULL, 'get_refund of an unknown out_refund_no is P0002');
SELECT throws_ok(format($$SELECT paycore.get_refund(%s, 'V-default')$$, :m2),
                 'P0002', NULL, 'get_refund of another merchant''s out_refund_no is P0002');
SELECT throws_ok(format($$SELECT paycore.get_refund(%s, NULL)$$, :m1),
                 '22004', NULL, 'get_refund with NULL out_refund_no is 22004');

-- ---------------------------------------------------------------------------
-- Direct UPDATE of paycore.refunds by the superuser.

-- Illegal moves, on the completed refunds of o_lim.
SELECT throws_ok(format($$UPDATE paycore.refunds SET status = 'succeeded' WHERE id = %s$$, :r600),
                 'PC001', NULL, 'direct UPDATE refund failed -> succeeded is PC001');
SELECT throws_ok(format($$UPDATE paycore.refunds SET status = 'pending', completed_at = NULL WHERE id = %s$$, :r600),
                 'PC001', NULL, 'direct UPDATE refund failed -> pending is PC001');
SELECT throws_ok(format($$UPDATE paycore.refunds SET status = 'pending', completed_at = NULL WHERE id = %s$$, :r400),
                 'PC001', NULL, 'direct UPDATE refund succeeded -> pending is PC001');
SELECT throws_ok(format($$UPDATE paycore.refunds SET status = 'failed' WHERE id = %s$$, :r400),
                 'PC001', NULL, 'direct UPDATE refund succeeded -> failed is PC001');
SELECT results_eq(
    format('SELECT id, status::text FROM paycore.refunds WHERE id IN (%s, %s) ORDER BY id', :r600, :r400),
    format($$VALUES (%s::bigint, 'failed'::text), (%s, 'succeeded')$$, :r600, :r400),
    'the refused direct UPDATEs left the refunds as they were');
SELECT is(pg_temp.money(:o_lim), 'refunded, refunded 1000, pending 0', 'and moved no money');

-- Immutable columns, on a pending refund.
SELECT pg_temp.order_in(:m1, 'paid') AS o_dir \gset
SELECT pg_temp.order_in(:m1, 'paid') AS o_dir_other \gset
SELECT paycore.request_refund(:o_dir, 'D-300', 300, 'r') AS rd300 \gset
SELECT paycore.request_refund(:o_dir, 'D-200', 200, 'r') AS rd200 \gset
SELECT throws_ok(format('UPDATE paycore.refunds SET order_id = %s WHERE id = %s', :o_dir_other, :rd300),
                 'PC005', NULL, 'changing a refund''s order_id is PC005');
SELECT throws_ok(format('UPDATE paycore.refunds SET amount = 301 WHERE id = %s', :rd300),
                 'PC005', NULL, 'changing a refund''s amount (up) is PC005');
SELECT throws_ok(format('UPDATE paycore.refunds SET amount = 1 WHERE id = %s', :rd300),
                 'PC005', NULL, 'changing a refund''s amount (down) is PC005');
SELECT throws_ok(format($$UPDATE paycore.refunds SET out_refund_no = 'D-renamed' WHERE id = %s$$, :rd300),
                 'PC005', NULL, 'changing a refund''s out_refund_no is PC005');
SELECT throws_ok(format($$UPDATE paycore.refunds SET refund_method = 'balance' WHERE id = %s$$, :rd300),
                 'PC005', NULL, 'changing a refund''s refund_method is PC005');
SELECT throws_ok(format('UPDATE paycore.refunds SET merchant_id = %s WHERE id = %s', :m2, :rd300),
                 'PC005', NULL, 'changing a refund''s merchant_id is PC005');
SELECT results_eq(
    format('SELECT order_id, amount, out_refund_no, refund_method, status::text FROM paycore.refunds WHERE id = %s', :rd300),
    format($$VALUES (%s::bigint, 300::bigint, 'D-300'::text, 'original'::text, 'pending'::text)$$, :o_dir),
    'the refused UPDATEs left the refund unchanged');
SELECT is(pg_temp.money(:o_dir), 'paid, refunded 0, pending 500', 'the order still has 300 + 200 pending');

-- The legal moves, done directly, move the money like complete_refund does.
SELECT lives_ok(format($$UPDATE paycore.refunds SET status = 'succeeded' WHERE id = %s$$, :rd300),
                'direct UPDATE refund pending -> succeeded is allowed');
SELECT is(pg_temp.money(:o_dir), 'partially_refunded, refunded 300, pending 200',
          'the direct success refunded 300 on the order');
SELECT lives_ok(format($$UPDATE paycore.refunds SET status = 'failed' WHERE id = %s$$, :rd200),
                'direct UPDATE refund pending -> failed is allowed');
SELECT is(pg_temp.money(:o_dir), 'partially_refunded, refunded 300, pending 0',
          'the direct failure freed the 200');
SELECT is((SELECT completed_at IS NOT NULL FROM paycore.refunds WHERE id = :rd200), true,
          'the direct failure set completed_at');

-- ---------------------------------------------------------------------------
-- Direct INSERT by the superuser goes through the same refundable-amount check.

SELECT pg_temp.order_in(:m1, 'paid') AS o_ins \gset
SELECT throws_ok(format($$INSERT INTO paycore.refunds (order_id, out_refund_no, amount, reason)
                         VALUES (%s, 'I-1001', 1001, 'r')$$, :o_ins),
                 'PC003', NULL, 'a direct INSERT of a pending refund of 1001 on a 1000 order is PC003');
SELECT paycore.request_refund(:o_ins, 'I-700', 700, 'r') \g /dev/null
SELECT throws_ok(format($$INSERT INTO paycore.refunds (order_id, out_refund_no, amount, reason)
                         VALUES (%s, 'I-301', 301, 'r')$$, :o_ins),
                 'PC003', NULL, 'a direct INSERT of 301 with 700 pending is PC003');
SELECT lives_ok(format($$INSERT INTO paycore.refunds (order_id, out_refund_no, amount, reason)
                        VALUES (%s, 'I-300', 300, 'r')$$, :o_ins),
                'a direct INSERT of 300 with 700 pending is allowed');
SELECT is(pg_temp.money(:o_ins), 'paid, refunded 0, pending 1000',
          'the inserted refund is reserved on the order like a requested one');
SELECT is((SELECT merchant_id FROM paycore.refunds WHERE out_refund_no = 'I-300'), :m1::bigint,
          'the inserted refund got the order''s merchant_id');
SELECT throws_ok(format($$INSERT INTO paycore.refunds (order_id, out_refund_no, amount, reason)
                         VALUES (%s, 'I-pending', 10, 'r')$$, :o_pending),
                 'PC001', NULL, 'a direct INSERT of a refund of a pending order is PC001');
SELECT is((SELECT count(*)::int FROM paycore.refunds WHERE out_refund_no IN ('I-1001', 'I-301', 'I-pending')), 0,
          'the refused INSERTs wrote nothing');

SELECT * FROM finish();
ROLLBACK;
