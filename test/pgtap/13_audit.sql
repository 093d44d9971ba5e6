-- paycore.audit_log: one row per state change of an order or a refund, with
-- who (the session user), what (entity, id) and the move (from, to); none for
-- a change that is rolled back; and the table is append-only, for the
-- superuser too.
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS paycore CASCADE;

SELECT plan(38);

SELECT merchant_id AS m1 FROM paycore.create_merchant('Audit Shop', 'https://shop.example/notify') \gset

-- The audit rows written since the last pg_temp.mark(), in a stable order.
CREATE TEMP TABLE audit_mark (id bigint);
INSERT INTO audit_mark VALUES (0);
CREATE FUNCTION pg_temp.mark() RETURNS void LANGUAGE sql AS $$
    UPDATE audit_mark SET id = (SELECT coalesce(max(a.id), 0) FROM paycore.audit_log a);
$$;
CREATE FUNCTION pg_temp.audit_since()
RETURNS TABLE (entity text, entity_id bigint, from_status text, to_status text, by_session_user boolean)
LANGUAGE sql AS $$
    SELECT a.entity, a.entity_id, a.from_status, a.to_status, a.session_user_name = session_user
      FROM paycore.audit_log a
     WHERE a.id > (SELECT id FROM audit_mark)
     ORDER BY a.entity, a.entity_id, a.id;
$$;

SELECT ok((SELECT rolsuper FROM pg_roles WHERE rolname = session_user),
          'this file runs as a superuser, so the append-only checks below apply to superusers');

-- ---------------------------------------------------------------------------
-- One audit row per change, along an order's whole life.

SELECT paycore.create_order(:m1, 'AUD-1', 1000, 'CNY', 'card') AS o1 \gset
SELECT is((SELECT count(*)::int FROM paycore.audit_log WHERE entity = 'order' AND entity_id = :o1), 0,
          'creating an order is not a status change: no audit row');

SELECT pg_temp.mark();
SELECT paycore.start_payment(:o1) \g /dev/null
SELECT results_eq('SELECT * FROM pg_temp.audit_since()',
    format($$VALUES ('order'::text, %s::bigint, 'pending'::text, 'processing'::text, true)$$, :o1),
    'start_payment: one row, order pending -> processing, by the session user');

SELECT pg_temp.mark();
SELECT paycore.confirm_payment(:o1, 'CH-AUD-1', 1000) \g /dev/null
SELECT results_eq('SELECT * FROM pg_temp.audit_since()',
    format($$VALUES ('order'::text, %s::bigint, 'processing'::text, 'paid'::text, true)$$, :o1),
    'confirm_payment: one row, order processing -> paid');
SELECT results_eq(
    format($$SELECT logged_at IS NOT NULL, jsonb_typeof(detail) FROM paycore.audit_log
              WHERE entity = 'order' AND entity_id = %s AND to_status = 'paid'$$, :o1),
    $$VALUES (true, 'object'::text)$$,
    'the row has its time and a detail object');

SELECT pg_temp.mark();
SELECT paycore.confirm_payment(:o1, 'CH-AUD-1', 1000) \g /dev/null
SELECT is_empty('SELECT * FROM pg_temp.audit_since()', 'a resent confirm_payment (no change) writes no row');

SELECT pg_temp.mark();
SELECT paycore.request_refund(:o1, 'AUD-R1', 300, 'customer request') AS r1 \gset
SELECT is_empty('SELECT * FROM pg_temp.audit_since()',
                'request_refund creates a pending refund and changes no status: no row');

SELECT pg_temp.mark();
SELECT paycore.complete_refund(:r1, true) \g /dev/null
SELECT results_eq('SELECT * FROM pg_temp.audit_since()',
    format($$VALUES ('order'::text, %s::bigint, 'paid'::text, 'partially_refunded'::text, true),
                    ('refund', %s, 'pending', 'succeeded', true)$$, :o1, :r1),
    'a first partial refund succeeding: one row for the refund and one for the order (paid -> partially_refunded)');

SELECT pg_temp.mark();
SELECT paycore.complete_refund(:r1, true) \g /dev/null
SELECT is_empty('SELECT * FROM pg_temp.audit_since()', 'completing the refund again (no change) writes no row');

SELECT paycore.request_refund(:o1, 'AUD-R2', 200, 'customer request') AS r2 \gset
SELECT pg_temp.mark();
SELECT paycore.complete_refund(:r2, true) \g /dev/null
SELECT results_eq('SELECT * FROM pg_temp.audit_since()',
    format($$VALUES ('refund'::text, %s::bigint, 'pending'::text, 'succeeded'::text, true)$$, :r2),
    'a further partial refund: a row for the refund only (the order stays partially_refunded)');

SELECT paycore.request_refund(:o1, 'AUD-R3', 500, 'customer request') AS r3 \gset
SELECT pg_temp.mark();
SELECT paycore.complete_refund(:r3, false) \g /dev/null
SELECT results_eq('SELECT * FROM pg_temp.audit_since()',
    format($$VALUES ('refund'::text, %s::bigint, 'pending'::text, 'failed'::text, true)$$, :r3),
    'a failed refund: a row for the refund only');

SELECT paycore.request_refund(:o1, 'AUD-R4', 500, 'customer request') AS r4 \gset
SELECT pg_temp.mark();
SELECT paycore.complete_refund(:r4, true) \g /dev/null
SELECT results_eq('SELECT * FROM pg_temp.audit_since()',
    format($$VALUES ('order'::text, %s::bigint, 'partially_refunded'::text, 'refunded'::text, true),
                    ('refund', %s, 'pending', 'succeeded', true)$$, :o1, :r4),
    'the last refund: rows for the refund and for the order (partially_refunded -> refunded)');

SELECT results_eq(
    format($$SELECT from_status, to_status FROM paycore.audit_log
              WHERE entity = 'order' AND entity_id = %s ORDER BY id$$, :o1),
    $$VALUES ('pending'::text, 'processing'::text), ('processing', 'paid'),
             ('paid', 'partially_refunded'), ('partially_refunded', 'refunded')$$,
    'the order''s whole history: exactly its four status changes, in order');

-- The other ways out of pending, and a superuser's direct UPDATE.
SELECT paycore.create_order(:m1, 'AUD-fail', 100, 'CNY', 'card') AS o_fail \gset
SELECT paycore.create_order(:m1, 'AUD-close', 100, 'CNY', 'card') AS o_close \gset
SELECT paycore.create_order(:m1, 'AUD-expire', 100, 'CNY', 'card') AS o_expire \gset
SELECT paycore.create_order(:m1, 'AUD-direct', 100, 'CNY', 'card') AS o_direct \gset
UPDATE paycore.orders SET expires_at = now() - interval '1 minute' WHERE id = :o_expire;

SELECT pg_temp.mark();
SELECT paycore.fail_payment(:o_fail, 'insufficient funds') \g /dev/null
SELECT results_eq('SELECT * FROM pg_temp.audit_since()',
    format($$VALUES ('order'::text, %s::bigint, 'pending'::text, 'failed'::text, true)$$, :o_fail),
    'fail_payment: one row, pending -> failed');
SELECT is((SELECT detail->>'failure_reason' FROM paycore.audit_log
            WHERE entity = 'order' AND entity_id = :o_fail),
          'insufficient funds', 'the failure reason is in the detail');

SELECT pg_temp.mark();
SELECT paycore.close_order(:o_close) \g /dev/null
SELECT results_eq('SELECT * FROM pg_temp.audit_since()',
    format($$VALUES ('order'::text, %s::bigint, 'pending'::text, 'closed'::text, true)$$, :o_close),
    'close_order: one row, pending -> closed');

SELECT pg_temp.mark();
SELECT paycore.expire_orders() \g /dev/null
SELECT results_eq('SELECT * FROM pg_temp.audit_since()',
    format($$VALUES ('order'::text, %s::bigint, 'pending'::text, 'closed'::text, true)$$, :o_expire),
    'expire_orders: one row for the overdue order, pending -> closed');

SELECT pg_temp.mark();
UPDATE paycore.orders SET status = 'processing' WHERE id = :o_direct;
SELECT results_eq('SELECT * FROM pg_temp.audit_since()',
    format($$VALUES ('order'::text, %s::bigint, 'pending'::text, 'processing'::text, true)$$, :o_direct),
    'a superuser''s direct UPDATE of the status: one row, too');

SELECT pg_temp.mark();
UPDATE paycore.orders SET subject = 'renamed', expires_at = expires_at + interval '1 minute' WHERE id = :o_direct;
SELECT is_empty('SELECT * FROM pg_temp.audit_since()', 'an UPDATE that changes no status writes no row');

-- ---------------------------------------------------------------------------
-- The session user is recorded, not the owner the API functions run as.

CREATE ROLE paycore_tap_audit_clerk NOLOGIN;
GRANT USAGE ON SCHEMA paycore TO paycore_tap_audit_clerk;
GRANT EXECUTE ON FUNCTION paycore.close_order(bigint) TO paycore_tap_audit_clerk;
SELECT paycore.create_order(:m1, 'AUD-clerk', 100, 'CNY', 'card') AS o_clerk \gset
SET SESSION AUTHORIZATION paycore_tap_audit_clerk;
SELECT paycore.close_order(:o_clerk) \g /dev/null
RESET SESSION AUTHORIZATION;
SELECT results_eq(
    format($$SELECT session_user_name, from_status, to_status FROM paycore.audit_log
              WHERE entity = 'order' AND entity_id = %s$$, :o_clerk),
    $$VALUES ('paycore_tap_audit_clerk'::text, 'pending'::text, 'closed'::text)$$,
    'a change made in another role''s session records that session user');

-- ---------------------------------------------------------------------------
-- A change that does not commit leaves no audit row.

SELECT paycore.create_order(:m1, 'AUD-rollback', 100, 'CNY', 'card') AS o_rb \gset
SELECT pg_temp.mark();

SELECT throws_ok(format('SELECT paycore.start_payment(%s)', :o1), 'PC001', NULL,
                 'an illegal API move fails (start_payment on a refunded order)');
SELECT throws_ok(format($$UPDATE paycore.orders SET status = 'pending' WHERE id = %s$$, :o_close), 'PC001', NULL,
                 'an illegal direct UPDATE fails (closed -> pending)');
SELECT throws_ok(format('SELECT paycore.complete_refund(%s, false)', :r1), 'PC001', NULL,
                 'a conflicting refund outcome fails');
-- The close succeeds and writes its row, then the block fails: all of it is undone.
SELECT throws_ok(format($sql$DO $do$ BEGIN PERFORM paycore.close_order(%s); PERFORM 1 / 0; END $do$$sql$, :o_rb),
                 '22012', NULL, 'a close followed by an error in the same statement fails');
SAVEPOINT before_close;
SELECT paycore.close_order(:o_rb) \g /dev/null
SELECT is((SELECT count(*)::int FROM paycore.audit_log WHERE entity = 'order' AND entity_id = :o_rb), 1,
          'inside the savepoint the close has its audit row');
ROLLBACK TO SAVEPOINT before_close;
SELECT is_empty('SELECT * FROM pg_temp.audit_since()', 'none of the failed or rolled-back changes left an audit row');
SELECT is((SELECT status::text FROM paycore.orders WHERE id = :o_rb), 'pending',
          'and the order whose close was rolled back is still pending');

-- ---------------------------------------------------------------------------
-- Append-only, also for the superuser.

SELECT count(*) AS audit_count, min(id) AS audit_first FROM paycore.audit_log \gset
SELECT (SELECT a FROM paycore.audit_log a WHERE a.id = :audit_first)::text AS audit_first_row \gset

SELECT throws_ok(format($$UPDATE paycore.audit_log SET to_status = 'tampered' WHERE id = %s$$, :audit_first),
                 '42501', NULL, 'UPDATE of an audit row is 42501');
SELECT throws_ok(format($$UPDATE paycore.audit_log SET session_user_name = 'someone_else' WHERE id = %s$$, :audit_first),
                 '42501', NULL, 'rewriting who made a change is 42501');
SELECT throws_ok('UPDATE paycore.audit_log SET detail = NULL', '42501', NULL,
                 'an UPDATE of every audit row is 42501');
SELECT throws_ok(format('DELETE FROM paycore.audit_log WHERE id = %s', :audit_first),
                 '42501', NULL, 'DELETE of an audit row is 42501');
SELECT throws_ok('DELETE FROM paycore.audit_log', '42501', NULL, 'DELETE of all audit rows is 42501');
SELECT throws_ok('TRUNCATE paycore.audit_log', '42501', NULL, 'TRUNCATE of the audit log is 42501');
SELECT is((SELECT count(*) FROM paycore.audit_log), :audit_count::bigint, 'every audit row is still there');
SELECT is((SELECT a::text FROM paycore.audit_log a WHERE a.id = :audit_first), :'audit_first_row',
          'and the first row is unchanged');

SELECT lives_ok(format($$INSERT INTO paycore.audit_log (entity, entity_id, from_status, to_status, detail)
                         VALUES ('order', %s, 'refunded', 'refunded', '{"note": "reviewed by finance"}')$$, :o1),
                'INSERT into the audit log is allowed');
SELECT results_eq(
    format($$SELECT session_user_name = session_user, logged_at IS NOT NULL, detail->>'note'
               FROM paycore.audit_log WHERE id > %s$$, (SELECT max(id) FROM paycore.audit_log) - 1),
    $$VALUES (true, true, 'reviewed by finance'::text)$$,
    'the inserted row got the session user and the time by default');
SELECT is((SELECT count(*) FROM paycore.audit_log), :audit_count::bigint + 1, 'the log grew by one row');

SELECT * FROM finish();
ROLLBACK;
