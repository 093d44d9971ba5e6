--
-- pg_dump round trip: every row of every paycore table, and the sequences,
-- survive pg_dump and a restore into a fresh database, and the restored
-- database enforces the same rules.
--
-- The restore is the interesting part: pg_dump's COPY of paycore.refunds goes
-- through the C insert trigger (refunds_reserve), which must accept refunds
-- that already exist in the dump, pending, succeeded and failed alike,
-- without refusing them or changing the orders they belong to.  Reference
-- rows shipped by paycore are re-created by CREATE EXTENSION and must not be
-- duplicated; rows a DBA added or changed must come back.
--
-- The restored database is paycore_dump_restore, made and dropped here with
-- the client programs; they reach the same server through PGHOST/PGPORT.
--
CREATE EXTENSION IF NOT EXISTS paycore CASCADE;
\set SHOW_CONTEXT never
SET paycore.bcrypt_cost = 4;

--
-- Data in every table
--
-- Reference data a DBA added or changed: a currency, a payment method, a
-- built-in payment method switched off.
INSERT INTO paycore.currencies (code, minor_unit, name) VALUES ('MOP', 2, 'Macanese pataca');
INSERT INTO paycore.payment_methods (code, description) VALUES ('paypal', 'PayPal');
UPDATE paycore.payment_methods SET enabled = false WHERE code = 'bank_transfer';

-- Users: one plain, one with a failed login behind it, one locked out.
SELECT paycore.register_user('alice', 'correct-horse-42', '4111 1111 1111 1111', 'Alice Liddell') AS alice,
       paycore.register_user('zhang_san', 'mima2024mima', '6212-3456-7890-1265', '张三') AS zhang_san,
       paycore.register_user('mary-jane', 'pass-word-5', '5555 5555 5555 4444', 'Mary-Jane O''Neil') AS mary_jane;
SELECT paycore.authenticate('zhang_san', 'not-the-password-1') AS failed_login;
SET paycore.max_failed_logins = 2;
SELECT paycore.authenticate('mary-jane', 'wrong-1') AS failed_1, paycore.authenticate('mary-jane', 'wrong-2') AS failed_2;
RESET paycore.max_failed_logins;
SELECT id, username, failed_logins, locked_until IS NOT NULL AS locked FROM paycore.users ORDER BY id;

-- Merchants: one with a rotated signing secret (so a previous one too).
SELECT merchant_id FROM paycore.create_merchant('Tea House', 'https://tea.example/notify');
SELECT merchant_id FROM paycore.create_merchant('Noodle Bar', 'https://noodles.example/notify');
SELECT length(paycore.rotate_signing_secret(2)) > 0 AS rotated;

-- Orders in every status.  Refunds pending, succeeded and failed.
SELECT paycore.create_order(1, 'pending-1', 1000, 'CNY', 'card', 1, 'green tea') AS pending,
       paycore.create_order(1, 'processing-1', 2000, 'CNY', 'alipay') AS processing,
       paycore.create_order(1, 'paid-1', 3000, 'USD', 'wechat_pay', 2) AS paid,
       paycore.create_order(1, 'failed-1', 4000, 'JPY', 'card') AS failed,
       paycore.create_order(2, 'closed-1', 5000, 'KWD', 'card', NULL, NULL, '15 days') AS closed,
       paycore.create_order(2, 'partial-1', 1000, 'CNY', 'card', 1) AS partially_refunded,
       paycore.create_order(2, 'refunded-1', 500, 'HKD', 'alipay', 3) AS refunded,
       paycore.create_order(2, 'mop-1', 800, 'MOP', 'paypal', 2, '点心') AS paid_in_mop;
SELECT paycore.start_payment(2);
SELECT paycore.confirm_payment(3, 'CH-3', 3000);
SELECT paycore.fail_payment(4, 'card declined');
SELECT paycore.close_order(5);
SELECT paycore.confirm_payment(6, 'CH-6', 1000);
SELECT paycore.request_refund(6, 'RF-6a', 300, 'dented tin') AS refund_succeeded,
       paycore.request_refund(6, 'RF-6b', 200, 'wrong colour') AS refund_failed,
       paycore.request_refund(6, 'RF-6c', 400, 'late delivery', 'balance') AS refund_pending;
SELECT paycore.complete_refund(1, true, 'CH-R-1'), paycore.complete_refund(2, false);
SELECT paycore.confirm_payment(7, 'CH-7', 500);
SELECT paycore.request_refund(7, 'RF-7', 500, 'order cancelled');
SELECT paycore.complete_refund(4, true, 'CH-R-4');
-- Paid, with its whole amount held by one pending refund: the restore must
-- fit this refund back in exactly.
SELECT paycore.confirm_payment(8, 'CH-8', 800);
SELECT paycore.request_refund(8, 'RF-8', 800, 'customer changed mind');

SELECT id, out_trade_no, status, refunded_amount, pending_refund_amount
  FROM paycore.orders ORDER BY id;
SELECT id, order_id, out_refund_no, amount, status FROM paycore.refunds ORDER BY id;
SELECT count(*) AS audit_rows FROM paycore.audit_log;
-- The highest ids, for the checks on the restored database below.
SELECT (SELECT max(id) FROM paycore.users) AS max_user,
       (SELECT max(id) FROM paycore.merchants) AS max_merchant,
       (SELECT max(id) FROM paycore.orders) AS max_order,
       (SELECT max(id) FROM paycore.refunds) AS max_refund,
       (SELECT max(id) FROM paycore.audit_log) AS max_audit \gset
\setenv MAX_USER :max_user
\setenv MAX_MERCHANT :max_merchant
\setenv MAX_ORDER :max_order
\setenv MAX_REFUND :max_refund
\setenv MAX_AUDIT :max_audit

--
-- Dump and restore
--
\setenv PAYCORE_DUMP_SOURCE :DBNAME
\! dropdb --if-exists paycore_dump_restore 2>/dev/null
\! createdb paycore_dump_restore
-- Errors of the restore, if any, are printed here.
\! pg_dump "$PAYCORE_DUMP_SOURCE" | psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -d paycore_dump_restore && echo 'restore: ok'

--
-- Compare the two databases table by table
--
-- One line per table: its row count and an md5 of all its rows in key order,
-- then each sequence's position.  The same query runs against both databases
-- through psql, so both sides are rendered alike (on one line: psql passes
-- no newlines to a shell command).
SELECT regexp_replace($digest$
SELECT 'currencies', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.code), '')) FROM paycore.currencies t
UNION ALL
SELECT 'payment_methods', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.code), '')) FROM paycore.payment_methods t
UNION ALL
SELECT 'users', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM paycore.users t
UNION ALL
SELECT 'merchants', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM paycore.merchants t
UNION ALL
SELECT 'orders', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM paycore.orders t
UNION ALL
SELECT 'refunds', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM paycore.refunds t
UNION ALL
SELECT 'audit_log', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM paycore.audit_log t
UNION ALL
SELECT 'notifications', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM paycore.notifications t
UNION ALL
SELECT 'delivery_attempts', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM paycore.delivery_attempts t
UNION ALL
SELECT 'users_id_seq', last_value, is_called::text FROM paycore.users_id_seq
UNION ALL
SELECT 'merchants_id_seq', last_value, is_called::text FROM paycore.merchants_id_seq
UNION ALL
SELECT 'orders_id_seq', last_value, is_called::text FROM paycore.orders_id_seq
UNION ALL
SELECT 'refunds_id_seq', last_value, is_called::text FROM paycore.refunds_id_seq
UNION ALL
SELECT 'audit_log_id_seq', last_value, is_called::text FROM paycore.audit_log_id_seq
UNION ALL
SELECT 'notifications_id_seq', last_value, is_called::text FROM paycore.notifications_id_seq
UNION ALL
SELECT 'delivery_attempts_id_seq', last_value, is_called::text FROM paycore.delivery_attempts_id_seq
$digest$, '\s+', ' ', 'g') AS digest_query \gset
\set source_digest `psql -X -At -d :'DBNAME' -c :'digest_query'`
\set restored_digest `psql -X -At -d paycore_dump_restore -c :'digest_query'`
-- rows: the row count (for a sequence its last value) in the source and the
-- restored database; same_data: every row identical.
WITH source AS (
    SELECT split_part(line, '|', 1) AS name, split_part(line, '|', 2)::bigint AS n,
           split_part(line, '|', 3) AS digest, pos
      FROM regexp_split_to_table(:'source_digest', '\n') WITH ORDINALITY AS l(line, pos)
), restored AS (
    SELECT split_part(line, '|', 1) AS name, split_part(line, '|', 2)::bigint AS n,
           split_part(line, '|', 3) AS digest
      FROM regexp_split_to_table(:'restored_digest', '\n') AS l(line)
)
SELECT name, s.n AS source_rows, r.n AS restored_rows, s.digest = r.digest AS same_data
  FROM source s FULL JOIN restored r USING (name)
 ORDER BY s.pos;

-- The same facts, readable: the money of every restored order and the
-- reference rows (built-in ones exactly once, the DBA's changes kept).
\! psql -X -d paycore_dump_restore -c "SELECT id, out_trade_no, status, refunded_amount, pending_refund_amount FROM paycore.orders ORDER BY id"
\! psql -X -d paycore_dump_restore -c "SELECT code, enabled, builtin FROM paycore.payment_methods ORDER BY code"
\! psql -X -d paycore_dump_restore -c "SELECT count(*) AS currencies, count(*) FILTER (WHERE builtin) AS builtin, string_agg(code, ',') FILTER (WHERE NOT builtin) AS added FROM paycore.currencies"

--
-- The restored database works and keeps the rules
--
-- Illegal moves are still refused, by the C triggers of the new database.
\! psql -X -v SHOW_CONTEXT=never -d paycore_dump_restore -c "UPDATE paycore.orders SET status = 'paid', channel_trade_no = 'forged' WHERE out_trade_no = 'closed-1'" -c '\echo :LAST_ERROR_SQLSTATE'
\! psql -X -v SHOW_CONTEXT=never -d paycore_dump_restore -c "SELECT paycore.request_refund(8, 'RF-8b', 1, 'one more')" -c '\echo :LAST_ERROR_SQLSTATE'
\! psql -X -v SHOW_CONTEXT=never -d paycore_dump_restore -c "SELECT paycore.complete_refund(2, true)" -c '\echo :LAST_ERROR_SQLSTATE'
-- Sequences continue after the restored ids: new rows get larger ids.
\! psql -X -d paycore_dump_restore -c "SELECT paycore.create_order(1, 'after-restore', 100, 'MOP', 'paypal') > $MAX_ORDER AS new_order_id_is_new"
\! psql -X -d paycore_dump_restore -c "SELECT paycore.request_refund(3, 'RF-after', 100, 'after restore') > $MAX_REFUND AS new_refund_id_is_new"
\! psql -X -d paycore_dump_restore -c "SELECT paycore.complete_refund(r.id, true) FROM paycore.get_refund(1, 'RF-after') r" -c "SELECT count(*) FILTER (WHERE id > $MAX_AUDIT) AS new_audit_rows, count(*) AS audit_rows FROM paycore.audit_log"
\! psql -X -d paycore_dump_restore -c "SELECT paycore.register_user('bob', 'password-77', '378282246310005', 'Bob') > $MAX_USER AS new_user_id_is_new" -c "SELECT merchant_id > $MAX_MERCHANT AS new_merchant_id_is_new FROM paycore.create_merchant('Third', 'https://third.example/n')"
-- Passwords still check against the restored hashes; the lockout survived.
\! psql -X -d paycore_dump_restore -c "SELECT paycore.authenticate('alice', 'correct-horse-42') AS alice, paycore.authenticate('mary-jane', 'pass-word-5') AS locked_mary_jane"
-- The pending refund restored on order 8 can still complete.
\! psql -X -d paycore_dump_restore -c "SELECT paycore.complete_refund(r.id, true) FROM paycore.get_refund(2, 'RF-8') r" -c "SELECT status, refunded_amount, pending_refund_amount FROM paycore.orders WHERE id = 8"

\! dropdb paycore_dump_restore
DROP EXTENSION paycore CASCADE;
DROP EXTENSION pgcrypto;
