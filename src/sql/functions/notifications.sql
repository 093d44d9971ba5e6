CREATE FUNCTION paycore._worker_status(OUT running boolean, OUT pid integer, OUT in_flight integer)
    AS 'MODULE_PATHNAME', 'paycore_worker_status' LANGUAGE C VOLATILE;
CREATE FUNCTION paycore._worker_preloaded() RETURNS boolean
    AS 'MODULE_PATHNAME', 'paycore_worker_preloaded' LANGUAGE C STABLE;

CREATE VIEW paycore.worker_status AS
SELECT w.running, w.pid, w.in_flight,
       (SELECT pg_catalog.count(*) FROM paycore.notifications n WHERE n.status = 'pending') AS queue_depth
  FROM paycore._worker_status() w;

CREATE VIEW paycore.notification_stats AS
SELECT m.id AS merchant_id,
       pg_catalog.count(*) FILTER (WHERE n.status = 'pending') AS pending,
       pg_catalog.count(*) FILTER (WHERE n.status = 'delivered') AS delivered,
       pg_catalog.count(*) FILTER (WHERE n.status = 'dead') AS dead,
       pg_catalog.now() - pg_catalog.min(n.created_at) FILTER (WHERE n.status = 'pending') AS oldest_pending_age,
       (SELECT pg_catalog.round(pg_catalog.avg(CASE WHEN a.error IS NULL THEN 1.0 ELSE 0.0 END), 4)
          FROM paycore.delivery_attempts a JOIN paycore.notifications an ON an.id = a.notification_id
         WHERE an.merchant_id = m.id) AS success_rate
  FROM paycore.merchants m
  LEFT JOIN paycore.notifications n ON n.merchant_id = m.id
 GROUP BY m.id;

-- Puts a dead or delivered notification back in the queue, due now, with a
-- fresh retry schedule.
CREATE FUNCTION paycore.redeliver(notification_id bigint) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_status paycore.notification_status;
BEGIN
    IF notification_id IS NULL THEN
        RAISE EXCEPTION 'notification_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT n.status INTO v_status FROM paycore.notifications n
     WHERE n.id = redeliver.notification_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'notification % not found', notification_id USING ERRCODE = 'no_data_found';
    ELSIF v_status = 'pending' THEN
        RAISE EXCEPTION 'notification % is already pending', notification_id
            USING ERRCODE = 'PC001',
                  HINT = 'Only delivered or dead notifications can be sent again.';
    END IF;
    UPDATE paycore.notifications n
       SET status = 'pending', attempts = 0, next_attempt_at = now(), delivered_at = NULL
     WHERE n.id = redeliver.notification_id;
END;
$$;

DO $$
BEGIN
    IF NOT paycore._worker_preloaded() THEN
        RAISE WARNING 'paycore is not in shared_preload_libraries: no worker will deliver webhooks'
            USING DETAIL = 'Notifications are still queued in paycore.notifications.',
                  HINT = 'Add paycore to shared_preload_libraries and restart the server.';
    END IF;
END;
$$;
