-- The paycore tour, run by scripts/demo.sh.  Every run makes new users,
-- merchants and orders, so it can be run again.
\pset footer off
\set SHOW_CONTEXT never
\set QUIET on
DROP EXTENSION IF EXISTS paycore CASCADE;
CREATE EXTENSION IF NOT EXISTS paycore CASCADE;
-- A new database: give the worker (which retries every 2 s) a moment to connect.
DO $$ BEGIN
    FOR i IN 1..100 LOOP
        EXIT WHEN (SELECT running FROM paycore.worker_status);
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
\set QUIET off
\setenv RECEIVER_PORT :receiver_port
\setenv RECEIVER_LOG :receiver_log
\echo
\echo '== 1. A user registers: the password is kept as a bcrypt hash, the card only encrypted'
SELECT paycore.register_user('alice', 'correct horse 42', '4111 1111 1111 1111', '张三') AS user_id \gset
SELECT id, username, name, card_brand, card_last4, left(password_hash, 7) || '...' AS password_hash
  FROM paycore.users WHERE id = :user_id;
SELECT paycore.authenticate('ALICE', 'correct horse 42') AS login_ok,
       paycore.authenticate('alice', 'wrong password 1') AS login_wrong;

\echo
\echo '== 2. A merchant joins the open platform; its signing secret is shown once'
SELECT merchant_id, signing_secret
  FROM paycore.create_merchant('Tea House', 'http://127.0.0.1:' || :'receiver_port' || '/ok/teahouse') \gset
SELECT :merchant_id AS merchant_id, left(:'signing_secret', 12) || '...' AS signing_secret_shown_once;
-- The merchant keeps the secret to verify webhooks; our demo receiver is told it here.
\setenv SIGNING_SECRET :signing_secret
\! python3 -c 'import json, sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], json.dumps({"secrets": [sys.argv[2]]}).encode(), {"Content-Type": "application/json"}))' http://127.0.0.1:$RECEIVER_PORT/_secrets "$SIGNING_SECRET"

\echo
\echo '== 3. An order is created, paid, and the merchant is notified'
SELECT paycore.create_order(:merchant_id, 'TEA-0001', 3850, 'CNY', 'alipay', :user_id, 'Two pots of oolong') AS order_id \gset
SELECT paycore.create_order(:merchant_id, 'TEA-0001', 3850, 'CNY', 'alipay', :user_id) AS same_order_again;
SELECT paycore.start_payment(:order_id);
SELECT paycore.confirm_payment(:order_id, 'ALIPAY-2026-778899', 3850);
SELECT pg_sleep(0.3);
SELECT event_type, status, attempts, last_status_code FROM paycore.notifications ORDER BY id;

\echo
\echo '== 4. Refunds: never more than was paid'
SELECT paycore.request_refund(:order_id, 'TEA-0001-R1', 1000, 'one pot arrived cold') AS refund_id \gset
SELECT paycore.complete_refund(:refund_id, true, 'ALIPAY-R-1');
\set ON_ERROR_STOP off
SELECT paycore.request_refund(:order_id, 'TEA-0001-R2', 3000, 'asks for too much');
\set ON_ERROR_STOP on
SELECT out_trade_no, amount, refunded_amount, status FROM paycore.get_order(:merchant_id, 'TEA-0001');

\echo
\echo '== 5. Not even a superuser can bend the state machine'
\set ON_ERROR_STOP off
UPDATE paycore.orders SET status = 'pending' WHERE id = :order_id;
UPDATE paycore.orders SET amount = 1 WHERE id = :order_id;
\set ON_ERROR_STOP on

\echo
\echo '== 6. The audit trail, and what the merchant received'
SELECT entity, entity_id, from_status, to_status, session_user_name FROM paycore.audit_log ORDER BY id;
SELECT pg_sleep(0.3);
SELECT * FROM paycore.worker_status;
SELECT merchant_id, pending, delivered, dead, success_rate FROM paycore.notification_stats;
\echo 'Webhooks received (':receiver_log'):'
\! tail -n 3 "$RECEIVER_LOG" | python3 -c 'import sys, json; [print(" ", j["headers"].get("Paycore-Event-Id"), json.loads(j["body"])["type"], "signature valid" if j.get("signature_valid") else "signature NOT valid") for j in map(json.loads, sys.stdin)]'
