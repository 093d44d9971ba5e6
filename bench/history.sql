-- Scenario 6: a payment history loaded in bulk: :n paid orders and, for each,
-- its order.paid notification, delivered.  Variables (psql -v): n, merchants.
--
-- The load bypasses paycore's functions, which is fine for filling tables
-- and would be wrong for anything else: session_replication_role = replica
-- skips every trigger of this transaction, paycore's C triggers and the
-- foreign-key checks alike (the rows are valid: merchants 1..:merchants
-- exist, CNY and alipay are reference rows).  CHECK constraints, unique keys
-- and every index are still maintained, so the tables and indexes end up as
-- an application that paid :n orders through paycore would leave them
-- (without their audit rows and delivery attempts, which the order path
-- only appends to).

\set ON_ERROR_STOP on
SELECT coalesce(max(id), 0) AS before FROM paycore.orders \gset

BEGIN;
SET LOCAL session_replication_role = replica;

-- One order a second, ending now: about three weeks of history for 2 M.
INSERT INTO paycore.orders (merchant_id, out_trade_no, amount, currency, payment_method, status,
                            channel_trade_no, created_at, expires_at, paid_at, updated_at)
SELECT 1 + g % :merchants, 'H' || g, 1000 + g % 99000, 'CNY', 'alipay', 'paid',
       'CHH-' || g, t, t + interval '30 minutes', t, t
  FROM generate_series(1, :n) g,
       LATERAL (SELECT now() - make_interval(secs => :n - g)) AS x(t);

-- The same body paycore's trigger writes (src/transition_log.c), delivered 2 ms later.
INSERT INTO paycore.notifications (event_id, merchant_id, event_type, payload, status, attempts,
                                   next_attempt_at, last_status_code, created_at, delivered_at)
SELECT e.id, o.merchant_id, 'order.paid',
       jsonb_build_object('id', e.id, 'type', 'order.paid',
                          'created', floor(date_part('epoch', o.paid_at))::bigint,
                          'data', jsonb_build_object('order', jsonb_build_object(
                              'id', o.id, 'out_trade_no', o.out_trade_no, 'amount', o.amount,
                              'currency', o.currency, 'status', o.status,
                              'refunded_amount', o.refunded_amount,
                              'channel_trade_no', o.channel_trade_no, 'paid_at', o.paid_at))),
       'delivered', 1, o.paid_at, 200, o.paid_at, o.paid_at + interval '2 ms'
  FROM paycore.orders o,
       LATERAL (SELECT 'evt_' || md5('history-' || o.id)) AS e(id)
 WHERE o.id > :before
 ORDER BY o.id;
COMMIT;

-- What autovacuum and the checkpointer would have done long since on a live
-- system: visibility map and statistics up to date, and the pages the load
-- dirtied written out, so that the measurement that follows is disturbed
-- neither by an autovacuum of 2 M fresh rows nor by writes of the load's
-- gigabyte competing with its commits' WAL flushes.
VACUUM (ANALYZE) paycore.orders;
VACUUM (ANALYZE) paycore.notifications;
CHECKPOINT;
