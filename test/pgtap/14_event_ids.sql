-- Event ids of paycore.notifications: "evt_" and 32 lowercase hex digits,
-- the first 12 the wall-clock time in milliseconds when the event was made
-- and the other 20 random, so that ids are distinct and come in the order
-- their events were made (the unique index on event_id then grows at its
-- right edge).
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS paycore CASCADE;

SELECT plan(6);

SELECT merchant_id AS m1 FROM paycore.create_merchant('Event Shop', 'https://shop.example/notify') \gset

CREATE FUNCTION pg_temp.event_millis(event_id text) RETURNS bigint LANGUAGE sql AS $$
    SELECT ('x' || substr(event_id, 5, 12))::bit(48)::bigint;
$$;
CREATE FUNCTION pg_temp.now_millis() RETURNS bigint LANGUAGE sql AS $$
    SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
$$;

-- 200 payments in one statement: within one millisecond or a few, so the
-- random part is what keeps them apart.
SELECT pg_temp.now_millis() AS before_bulk \gset
SELECT count(paycore.confirm_payment(paycore.create_order(:m1, 'E-' || g, 100, 'CNY', 'card'), 'CH-E-' || g, 100))
  FROM generate_series(1, 200) g \g /dev/null
SELECT pg_temp.now_millis() AS after_bulk \gset

SELECT is((SELECT count(*)::int FROM paycore.notifications WHERE event_id !~ '^evt_[0-9a-f]{32}$'), 0,
          'every event id is evt_ and 32 lowercase hex digits');
SELECT is((SELECT count(DISTINCT event_id)::int FROM paycore.notifications), 200,
          '200 events made in one statement have 200 distinct ids');
SELECT is((SELECT count(DISTINCT substr(event_id, 17))::int FROM paycore.notifications), 200,
          'and their random parts differ too');
SELECT ok((SELECT bool_and(pg_temp.event_millis(event_id) BETWEEN :before_bulk AND :after_bulk)
             FROM paycore.notifications),
          'the first 12 hex digits are the time the event was made, in milliseconds');

-- Events made a few milliseconds apart come in that order.
SELECT paycore.confirm_payment(paycore.create_order(:m1, 'E-seq-' || g, 100, 'CNY', 'card'), 'CH-E-seq-' || g, 100),
       pg_sleep(0.003)
  FROM generate_series(1, 5) g \g /dev/null
SELECT is((SELECT array_agg(n.event_id ORDER BY n.id) = array_agg(n.event_id ORDER BY n.event_id)
             FROM paycore.notifications n JOIN paycore.orders o ON o.id = (n.payload #>> '{data,order,id}')::bigint
            WHERE o.out_trade_no LIKE 'E-seq-%'),
          true, 'ids of events made 3 ms apart sort in the order the events were made');
SELECT cmp_ok((SELECT max(event_id) FROM paycore.notifications n
                WHERE (n.payload #>> '{data,order,out_trade_no}') LIKE 'E-seq-%'),
              '>', (SELECT max(event_id) FROM paycore.notifications n
                     WHERE (n.payload #>> '{data,order,out_trade_no}') NOT LIKE 'E-seq-%'),
              'and after every id made before them');

SELECT * FROM finish();
ROLLBACK;
