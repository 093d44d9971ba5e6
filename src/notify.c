/*
 * The outbox's producer side: the transition triggers call enqueue_event()
 * in the changing transaction, and the commit of that transaction wakes the
 * worker, so a webhook leaves within milliseconds rather than at the next
 * poll.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "notify.h"
#include "spi_util.h"
#include "worker_state.h"

static SPIPlanPtr enqueue_plan = NULL;
static bool wake_at_commit = false;

static void
wake_on_commit(XactEvent event, void *arg pg_attribute_unused())
{
	if (event == XACT_EVENT_COMMIT && wake_at_commit)
		wake_worker();
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE)
		wake_at_commit = false;
}

void
notify_init(void)
{
	RegisterXactCallback(wake_on_commit, NULL);
}

/*
 * Writes one notification with its whole body.  The rows are read back from
 * the tables, so the body shows the order (and refund) as the change left
 * them.  refund_id 0 means an order event.
 */
void
enqueue_event(const char *event_type, int64 order_id, int64 refund_id)
{
	Oid			argtypes[3] = {INT8OID, TEXTOID, INT8OID};
	Datum		values[3] = {
		Int64GetDatum(order_id),
		CStringGetTextDatum(event_type),
		Int64GetDatum(refund_id)
	};
	char		nulls[3] = {' ', ' ', refund_id == 0 ? 'n' : ' '};
	SPIPlanPtr	plan;

	SPI_connect();
	plan = saved_plan(&enqueue_plan,
					  "INSERT INTO paycore.notifications (event_id, merchant_id, event_type, payload)"
					  " SELECT e.id, o.merchant_id, $2, pg_catalog.jsonb_build_object("
					  "   'id', e.id, 'type', $2,"
					  "   'created', pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.now()))::bigint,"
					  "   'data', pg_catalog.jsonb_build_object('order', pg_catalog.jsonb_build_object("
					  "       'id', o.id, 'out_trade_no', o.out_trade_no, 'amount', o.amount,"
					  "       'currency', o.currency, 'status', o.status,"
					  "       'refunded_amount', o.refunded_amount,"
					  "       'channel_trade_no', o.channel_trade_no, 'paid_at', o.paid_at))"
					  "     OPERATOR(pg_catalog.||) coalesce(("
					  "       SELECT pg_catalog.jsonb_build_object('refund', pg_catalog.jsonb_build_object("
					  "           'id', r.id, 'out_refund_no', r.out_refund_no, 'amount', r.amount,"
					  "           'status', r.status))"
					  "         FROM paycore.refunds r WHERE r.id = $3), '{}'::jsonb))"
					  "   FROM paycore.orders o,"
					  "        (SELECT 'evt_' OPERATOR(pg_catalog.||) pg_catalog.replace("
					  "                pg_catalog.gen_random_uuid()::text, '-', '') AS id) e"
					  "  WHERE o.id = $1",
					  3, argtypes);
	run_plan(plan, values, nulls, false, 0);
	SPI_finish();
	wake_at_commit = true;
}
