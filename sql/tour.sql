--
-- A tour of paycore: one user, one merchant, one order from creation to a
-- full refund, and the errors an application meets on the way.  The expected
-- output (expected/tour.out) doubles as documentation.
--
-- Secrets, bcrypt hashes and timestamps differ on every run, so only their
-- shape is shown.
--
CREATE EXTENSION paycore CASCADE;
-- Errors show their message, DETAIL and HINT, but not the PL/pgSQL call
-- stack; \echo :LAST_ERROR_SQLSTATE prints the code applications match on.
\set SHOW_CONTEXT never
-- bcrypt at its smallest cost keeps the test fast; the default is 10.
SET paycore.bcrypt_cost = 4;

--
-- Users
--
-- Register: username, password, bank card, name.  Returns the user id.
SELECT paycore.register_user('alice', 'correct-horse-42', '4111 1111 1111 1111', 'Alice Liddell');
SELECT paycore.register_user('zhang_san', 'mima2024mima', '6212-3456-7890-1265', '张三');
-- Only a bcrypt hash of the password and the last four digits of the card
-- are readable; the card itself is stored encrypted.
SELECT id, username, name, card_brand, card_last4,
       password_hash ~ '^\$2[abxy]\$04\$' AS bcrypt_cost_4,
       position('correct-horse-42' IN password_hash) = 0 AS password_not_stored,
       position('4111111111111111' IN encode(card_encrypted, 'escape')) = 0 AS card_not_stored
  FROM paycore.users ORDER BY id;
-- Authentication returns the user id, or NULL (never an error).
SELECT paycore.authenticate('alice', 'correct-horse-42') AS alice;
SELECT paycore.authenticate('ALICE', 'correct-horse-42') AS usernames_ignore_case;
SELECT paycore.authenticate('alice', 'wrong-password-1') AS wrong_password;
SELECT paycore.authenticate('nobody', 'correct-horse-42') AS unknown_user;
-- Usernames are unique regardless of case.
SELECT paycore.register_user('Alice', 'another-pass-9', '5555 5555 5555 4444', 'Alice Two');
\echo :LAST_ERROR_SQLSTATE
-- Invalid input is 22023, and the message names the argument, never the
-- value: the card number does not appear.
SELECT paycore.register_user('bob', 'password-77', '4111 1111 1111 1112', 'Bob');
\echo :LAST_ERROR_SQLSTATE
SELECT paycore.register_user('bob', 'short1', '4111 1111 1111 1111', 'Bob');
\echo :LAST_ERROR_SQLSTATE
SELECT paycore.register_user('bob', 'password-77', '4111 1111 1111 1111', NULL);
\echo :LAST_ERROR_SQLSTATE

-- After paycore.max_failed_logins consecutive failures the account is locked:
-- even the right password returns NULL until paycore.lockout_duration passes.
SET paycore.max_failed_logins = 3;
SELECT paycore.authenticate('zhang_san', 'wrong-1') AS try1,
       paycore.authenticate('zhang_san', 'wrong-2') AS try2,
       paycore.authenticate('zhang_san', 'wrong-3') AS try3;
SELECT paycore.authenticate('zhang_san', 'mima2024mima') AS right_password_while_locked;
SELECT username, failed_logins, coalesce(locked_until > now(), false) AS locked
  FROM paycore.users ORDER BY id;
RESET paycore.max_failed_logins;
-- A successful login resets the count of failures.
SELECT paycore.authenticate('alice', 'correct-horse-42') AS alice;
SELECT username, failed_logins FROM paycore.users WHERE username = 'alice';

--
-- Merchants
--
-- The signing secret is returned once and stored only encrypted.
SELECT merchant_id, signing_secret IS NOT NULL AND length(signing_secret) >= 43 AS got_secret
  FROM paycore.create_merchant('Tea House', 'https://tea.example/paycore/notify');
SELECT id, name, notify_url FROM paycore.merchants;
SELECT paycore.set_notify_url(1, 'https://tea.example/v2/notify');
SELECT paycore.create_merchant('Bad URL', 'ftp://tea.example/notify');
\echo :LAST_ERROR_SQLSTATE

--
-- An order's life
--
-- merchant 1, out_trade_no, amount in minor units (fen), currency, method,
-- user: 88.00 CNY by card for alice.
SELECT paycore.create_order(1, 'T-20240101-0001', 8800, 'CNY', 'card', 1, 'Oolong, 250 g');
-- Two more, for later: 5.00 USD by Alipay, and 1200 JPY (a currency without
-- minor unit) by WeChat Pay, expiring in 15 minutes instead of 30.
SELECT paycore.create_order(1, 'T-20240101-0002', 500, 'USD', 'alipay');
SELECT paycore.create_order(1, 'T-20240101-0003', 1200, 'JPY', 'wechat_pay', NULL, NULL, '15 minutes');
-- The same request again (a client retry) returns the same order ...
SELECT paycore.create_order(1, 'T-20240101-0001', 8800, 'CNY', 'card', 1, 'Oolong, 250 g');
-- ... but the same out_trade_no for something else is PC002.
SELECT paycore.create_order(1, 'T-20240101-0001', 9900, 'CNY', 'card', 1);
\echo :LAST_ERROR_SQLSTATE
-- Applications find their orders by their own out_trade_no.
SELECT id, out_trade_no, amount, currency, payment_method, subject, status, refunded_amount,
       expires_at - created_at = interval '30 minutes' AS expires_in_30_minutes
  FROM paycore.get_order(1, 'T-20240101-0001');

-- The payment starts, and the channel confirms it.
SELECT paycore.start_payment(1);
-- A callback reporting another amount is refused and changes nothing.
SELECT paycore.confirm_payment(1, 'CH-778899', 8000);
\echo :LAST_ERROR_SQLSTATE
SELECT paycore.confirm_payment(1, 'CH-778899', 8800);
-- Channels resend callbacks: the same one again is a no-op.
SELECT paycore.confirm_payment(1, 'CH-778899', 8800);
SELECT status, channel_trade_no, paid_at IS NOT NULL AS has_paid_at
  FROM paycore.get_order(1, 'T-20240101-0001');

-- A paid order cannot be closed: the transition is illegal (PC001).
SELECT paycore.close_order(1);
\echo :LAST_ERROR_SQLSTATE
-- The legal moves, as compiled into paycore.
SELECT * FROM paycore.order_transitions();

--
-- Refunds
--
-- A partial refund of 20.00: pending until the channel reports back.
SELECT paycore.request_refund(1, 'R-0001', 2000, 'one tin arrived dented');
SELECT status, refunded_amount, pending_refund_amount FROM paycore.orders WHERE id = 1;
SELECT paycore.complete_refund(1, true, 'CH-R-1');
SELECT status, refunded_amount, pending_refund_amount FROM paycore.orders WHERE id = 1;
-- Once completed, the other outcome is illegal.
SELECT paycore.complete_refund(1, false);
\echo :LAST_ERROR_SQLSTATE
-- A refund that fails frees its amount again.  (Like orders, refunds are
-- found by the merchant's own out_refund_no.)
SELECT paycore.request_refund(1, 'R-0002', 6800, 'rest of the order', 'balance');
SELECT status, refunded_amount, pending_refund_amount FROM paycore.orders WHERE id = 1;
SELECT paycore.complete_refund(r.id, false) FROM paycore.get_refund(1, 'R-0002') r;
SELECT status, refunded_amount, pending_refund_amount FROM paycore.orders WHERE id = 1;
-- The rest, refunded.
SELECT paycore.request_refund(1, 'R-0003', 6800, 'rest of the order');
-- While it is pending, nothing is left to refund: pending and succeeded
-- refunds together never exceed the order (PC003).
SELECT paycore.request_refund(1, 'R-0004', 100, 'customer changed mind');
\echo :LAST_ERROR_SQLSTATE
-- The channel reports success: the order is now fully refunded.
SELECT paycore.complete_refund(r.id, true, 'CH-R-3') FROM paycore.get_refund(1, 'R-0003') r;
-- The channel's answer arriving twice changes nothing.
SELECT paycore.complete_refund(r.id, true, 'CH-R-3') FROM paycore.get_refund(1, 'R-0003') r;
SELECT status, refunded_amount, pending_refund_amount FROM paycore.orders WHERE id = 1;
SELECT id, out_refund_no, amount, refund_method, status, channel_refund_no
  FROM paycore.refunds ORDER BY id;
SELECT out_refund_no, amount, status FROM paycore.get_refund(1, 'R-0003');
-- A refunded order cannot be refunded again.
SELECT paycore.request_refund(1, 'R-0004', 1, 'one more fen');
\echo :LAST_ERROR_SQLSTATE

--
-- Other endings of an order
--
-- The USD order is declined; the merchant closes the JPY order.
SELECT paycore.fail_payment(o.id, 'card declined') FROM paycore.get_order(1, 'T-20240101-0002') o;
SELECT paycore.close_order(o.id) FROM paycore.get_order(1, 'T-20240101-0003') o;
SELECT id, out_trade_no, amount, currency, status, failure_reason,
       (extract(epoch FROM expires_at - created_at) / 60)::int AS expires_in_minutes
  FROM paycore.orders ORDER BY id;
-- A failed order stays failed.
SELECT paycore.confirm_payment(o.id, 'CH-late', 500) FROM paycore.get_order(1, 'T-20240101-0002') o;
\echo :LAST_ERROR_SQLSTATE
SELECT paycore.create_order(1, 'T-20240101-0004', 100, 'ZZZ', 'card');
\echo :LAST_ERROR_SQLSTATE
SELECT paycore.create_order(1, 'T-20240101-0004', 0, 'CNY', 'card');
\echo :LAST_ERROR_SQLSTATE
SELECT paycore.start_payment(999);
\echo :LAST_ERROR_SQLSTATE

--
-- The rules hold for everyone, superusers included
--
UPDATE paycore.orders SET status = 'pending' WHERE out_trade_no = 'T-20240101-0003';
\echo :LAST_ERROR_SQLSTATE
UPDATE paycore.orders SET amount = 1 WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM paycore.audit_log;
\echo :LAST_ERROR_SQLSTATE

-- Every state change is in the audit log.
SELECT entity, entity_id, from_status, to_status, detail
  FROM paycore.audit_log ORDER BY id;

DROP EXTENSION paycore CASCADE;
DROP EXTENSION pgcrypto;
