-- The foreign keys of orders and refunds: checked at COMMIT on their own
-- side, so that a row inserted and updated in one transaction is checked
-- once; checked at once on the referenced side (RESTRICT), so that deleting
-- a merchant, user, currency, payment method or order still referenced
-- fails on its own statement.  The API reports unknown references itself,
-- at once (10_orders.sql, 12_refunds.sql), and sees what its transaction
-- has written.
--
-- "SET CONSTRAINTS ALL IMMEDIATE" runs the checks that COMMIT would run,
-- inside a statement that throws_ok can catch.
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS paycore CASCADE;

SELECT plan(16);

\ir helpers.psql

SELECT merchant_id AS m1 FROM paycore.create_merchant('Reference Shop', 'https://shop.example/notify') \gset
SELECT paycore.register_user('ref_user', 'correct horse 42', '4111 1111 1111 1111', 'Ref User') AS u1 \gset
SELECT paycore.create_order(:m1, 'REF-1', 1000, 'JPY', 'wechat_pay', :u1) AS o1 \gset
SELECT paycore.confirm_payment(:o1, 'CH-REF-1', 1000) \g /dev/null
SELECT paycore.request_refund(:o1, 'REF-1-R1', 100, 'one cup short') AS r1 \gset
SELECT pg_temp.order_in(:m1, 'paid') AS o2 \gset

SELECT is((SELECT array_agg(conname::text ORDER BY conname)
             FROM pg_constraint
            WHERE contype = 'f' AND conrelid IN ('paycore.orders'::regclass, 'paycore.refunds'::regclass)
              AND condeferrable AND condeferred AND confupdtype = 'r' AND confdeltype = 'r'),
          ARRAY['orders_currency_fkey', 'orders_merchant_id_fkey', 'orders_payment_method_fkey',
                'orders_user_id_fkey', 'refunds_merchant_id_fkey', 'refunds_order_id_fkey'],
          'all six foreign keys of orders and refunds are deferred on their side and RESTRICT on the other');

-- Statements, then the checks COMMIT would run, then back to deferring
-- them for the rest of this file's transaction.
CREATE FUNCTION pg_temp.then_check(VARIADIC statements text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    statement text;
BEGIN
    FOREACH statement IN ARRAY statements LOOP
        EXECUTE statement;
    END LOOP;
    SET CONSTRAINTS ALL IMMEDIATE;
    SET CONSTRAINTS ALL DEFERRED;
END;
$$;

-- The text of a direct INSERT of an order with these references.
CREATE FUNCTION pg_temp.direct_order(merchant bigint, currency text, method text, user_id bigint)
RETURNS text LANGUAGE sql AS $$
    SELECT format('INSERT INTO paycore.orders (merchant_id, out_trade_no, amount, currency, payment_method,'
                  ' user_id, expires_at) VALUES (%s, %L, 100, %L, %L, %s, now() + interval ''1 hour'')',
                  merchant, 'REF-' || currency || '-' || method, currency, method,
                  coalesce(user_id::text, 'NULL'));
$$;

SELECT lives_ok($$SELECT pg_temp.then_check('SELECT')$$,
    'the orders and refund made through the API above pass the checks COMMIT runs');

-- A direct write naming something that does not exist: the statement is
-- accepted, the check at COMMIT refuses it with 23503.
SELECT throws_ok(
    format($q$DO $do$ BEGIN
        %s;
        RAISE EXCEPTION 'accepted' USING ERRCODE = 'PC999';
    END $do$$q$, pg_temp.direct_order(2147483647, 'CNY', 'card', NULL)),
    'PC999', 'accepted',
    'a direct INSERT of an order of an unknown merchant passes its own statement');

SELECT throws_ok(
    format('SELECT pg_temp.then_check(%L)', pg_temp.direct_order(2147483647, 'CNY', 'card', NULL)),
    '23503', 'insert or update on table "orders" violates foreign key constraint "orders_merchant_id_fkey"',
    '... and is refused by the check COMMIT runs: unknown merchant');

SELECT throws_ok(
    format('SELECT pg_temp.then_check(%L)', pg_temp.direct_order(:m1, 'XTS', 'card', NULL)),
    '23503', 'insert or update on table "orders" violates foreign key constraint "orders_currency_fkey"',
    'unknown currency');

SELECT throws_ok(
    format('SELECT pg_temp.then_check(%L)', pg_temp.direct_order(:m1, 'CNY', 'barter', NULL)),
    '23503', 'insert or update on table "orders" violates foreign key constraint "orders_payment_method_fkey"',
    'unknown payment method');

SELECT throws_ok(
    format('SELECT pg_temp.then_check(%L)', pg_temp.direct_order(:m1, 'CNY', 'card', 2147483647)),
    '23503', 'insert or update on table "orders" violates foreign key constraint "orders_user_id_fkey"',
    'unknown user');

-- Checked as things stand at COMMIT: a reference that exists by then is
-- accepted.
SELECT lives_ok(
    format('SELECT pg_temp.then_check(%L, %L)', pg_temp.direct_order(:m1, 'XTS', 'card', NULL),
           $$INSERT INTO paycore.currencies (code, minor_unit, name) VALUES ('XTS', 2, 'Testing code')$$),
    'an order of a currency added later in the same transaction is accepted');
SELECT lives_ok(format('SELECT paycore.create_order(%s, %L, 100, %L, %L)', :m1, 'REF-API-XTS', 'XTS', 'card'),
    'create_order finds a currency added earlier in its transaction');

-- The referenced side refuses at once, on the DELETE or UPDATE itself.
SELECT throws_ok(format('DELETE FROM paycore.merchants WHERE id = %s', :m1), '23503', NULL,
                 'a merchant with orders and refunds cannot be deleted');
SELECT throws_ok(format('UPDATE paycore.merchants SET id = 2147483647 WHERE id = %s', :m1), '23503', NULL,
                 'nor renumbered');
SELECT throws_ok(format('DELETE FROM paycore.users WHERE id = %s', :u1), '23503',
                 'update or delete on table "users" violates foreign key constraint "orders_user_id_fkey" on table "orders"',
                 'a user with orders cannot be deleted');
SELECT throws_ok($$DELETE FROM paycore.currencies WHERE code = 'JPY'$$, '23503',
                 'update or delete on table "currencies" violates foreign key constraint "orders_currency_fkey" on table "orders"',
                 'a currency in use cannot be deleted');
SELECT throws_ok($$UPDATE paycore.payment_methods SET code = 'wechat' WHERE code = 'wechat_pay'$$, '23503',
                 'update or delete on table "payment_methods" violates foreign key constraint "orders_payment_method_fkey" on table "orders"',
                 'a payment method in use cannot be renamed');
SELECT throws_ok(format('DELETE FROM paycore.orders WHERE id = %s', :o1), '23503',
                 'update or delete on table "orders" violates foreign key constraint "refunds_order_id_fkey" on table "refunds"',
                 'an order with refunds cannot be deleted');
SELECT lives_ok(format('DELETE FROM paycore.orders WHERE id = %s', :o2),
                'sanity: an order without refunds can be');

SELECT * FROM finish();
ROLLBACK;
