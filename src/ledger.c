/*
 * The order row as the anchor of its money.
 *
 * Every refund request locks its order row and then writes it, and only then
 * counts the order's refunds.  Under READ COMMITTED the count runs on a
 * snapshot taken after the lock, so it sees every refund committed before;
 * under REPEATABLE READ or SERIALIZABLE a concurrent refund has updated the
 * row and the lock raises a serialization failure.  Either way no two refunds
 * can both pass the check on stale sums.  Counting, rather than adding to
 * the stored sum, also keeps a restored dump right: its orders arrive with
 * their sums, then their refunds one by one.
 *
 * A refund that ends changes the order row in one UPDATE: the row lock it
 * takes serialises it with the others, and the sums it adjusts were made
 * under that lock.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "ledger.h"
#include "spi_util.h"
#include "state_machine.h"

static SPIPlanPtr merchant_plan = NULL;
static SPIPlanPtr lock_order_plan = NULL;
static SPIPlanPtr refund_sums_plan = NULL;
static SPIPlanPtr store_plan = NULL;
static SPIPlanPtr settle_plan = NULL;

/* A text column of the result, in the caller's memory: it outlives SPI_finish. */
static char *
result_text_for_caller(int column)
{
	char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column);
	char	   *copy;

	if (value == NULL)
		return NULL;
	copy = SPI_palloc(strlen(value) + 1);
	strcpy(copy, value);
	return copy;
}

static void
order_not_found(int64 order_id)
{
	ereport(ERROR,
			errcode(ERRCODE_NO_DATA_FOUND),
			errmsg("order " INT64_FORMAT " not found", order_id));
}

/* Callers hold an SPI connection, here and below. */
int64
ledger_order_merchant(int64 order_id)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(order_id)};
	bool		isnull;
	SPIPlanPtr	plan = saved_plan(&merchant_plan,
								  "SELECT merchant_id FROM paycore.orders WHERE id = $1",
								  1, argtypes);

	run_plan(plan, values, NULL, true, 1);
	if (SPI_processed == 0)
		order_not_found(order_id);
	return DatumGetInt64(result_value(0, 1, &isnull));
}

/* What OrderMoney holds of an order, as a select list. */
#define ORDER_FACTS \
	"merchant_id, amount, refunded_amount, status, out_trade_no, currency, channel_trade_no, paid_at"

/* The OrderMoney in the first row of a result selecting ORDER_FACTS. */
static void
order_from_result(int64 order_id, OrderMoney *order)
{
	bool		isnull;

	if (SPI_processed == 0)
		order_not_found(order_id);
	order->id = order_id;
	order->merchant_id = DatumGetInt64(result_value(0, 1, &isnull));
	order->amount = DatumGetInt64(result_value(0, 2, &isnull));
	order->refunded_amount = DatumGetInt64(result_value(0, 3, &isnull));
	order->status = status_from_datum(&order_machine, result_value(0, 4, &isnull));
	order->out_trade_no = result_text_for_caller(5);
	order->currency = result_text_for_caller(6);
	order->channel_trade_no = result_text_for_caller(7);
	order->paid_at = DatumGetTimestampTz(result_value(0, 8, &isnull));
	order->paid = !isnull;
}

/*
 * FOR NO KEY UPDATE, the lock the UPDATE that follows takes anyway: it lets
 * foreign-key checks of new refunds (FOR KEY SHARE on this row) through, so
 * two refunds of one order queue here instead of deadlocking.
 */
void
ledger_lock_order(int64 order_id, OrderMoney *order)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(order_id)};
	SPIPlanPtr	plan = saved_plan(&lock_order_plan,
								  "SELECT " ORDER_FACTS
								  "  FROM paycore.orders WHERE id = $1 FOR NO KEY UPDATE",
								  1, argtypes);

	run_plan(plan, values, NULL, false, 1);
	order_from_result(order_id, order);
}

/*
 * A refund of "amount" reserved on the order ends: its amount leaves the
 * pending sum, and on success joins what the order has refunded, which sets
 * the order's status.  The pending sum already holds the amount (reserved
 * under this same row lock when the refund was made), so the order's row is
 * changed in place rather than counted again.  Returns the order as left.
 */
void
ledger_settle(int64 order_id, int64 amount, bool succeeded, OrderMoney *order)
{
	Oid			argtypes[3] = {INT8OID, INT8OID, INT8OID};
	Datum		values[3] = {
		Int64GetDatum(order_id), Int64GetDatum(amount), Int64GetDatum(succeeded ? amount : 0)
	};
	SPIPlanPtr	plan = saved_plan(&settle_plan,
								  "UPDATE paycore.orders"
								  "   SET pending_refund_amount = pending_refund_amount - $2,"
								  "       refunded_amount = refunded_amount + $3,"
								  "       status = CASE WHEN $3 = 0 THEN status"
								  "                     WHEN refunded_amount + $3 = amount THEN 'refunded'"
								  "                     ELSE 'partially_refunded' END::paycore.order_status"
								  " WHERE id = $1"
								  " RETURNING " ORDER_FACTS,
								  3, argtypes);

	run_plan(plan, values, NULL, false, 0);
	order_from_result(order_id, order);
}

void
ledger_refund_sums(int64 order_id, RefundSums *sums)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(order_id)};
	bool		isnull;
	SPIPlanPtr	plan = saved_plan(&refund_sums_plan,
								  "SELECT coalesce(sum(amount) FILTER (WHERE status = 'pending'), 0)::bigint,"
								  "       coalesce(sum(amount) FILTER (WHERE status = 'succeeded'), 0)::bigint"
								  "  FROM paycore.refunds WHERE order_id = $1",
								  1, argtypes);

	run_plan(plan, values, NULL, false, 1);
	sums->pending = DatumGetInt64(result_value(0, 1, &isnull));
	sums->succeeded = DatumGetInt64(result_value(0, 2, &isnull));
}

/* Writes refunded_amount, status and the pending sum back to the order row. */
void
ledger_store(const OrderMoney *order, int64 pending_refund_amount)
{
	Oid			argtypes[4] = {INT8OID, INT8OID, INT8OID, TEXTOID};
	Datum		values[4] = {
		Int64GetDatum(order->id),
		Int64GetDatum(order->refunded_amount),
		Int64GetDatum(pending_refund_amount),
		CStringGetTextDatum(order_machine.labels[order->status])
	};
	SPIPlanPtr	plan = saved_plan(&store_plan,
								  "UPDATE paycore.orders"
								  "   SET refunded_amount = $2, pending_refund_amount = $3,"
								  "       status = $4::paycore.order_status"
								  " WHERE id = $1",
								  4, argtypes);

	run_plan(plan, values, NULL, false, 0);
}
