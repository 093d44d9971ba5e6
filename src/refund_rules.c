/*
 * What may happen to a row of paycore.refunds, and how its money moves on
 * its order.  The order row lock (src/ledger.c) makes the refundable-amount
 * check hold under any concurrency.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "errcodes.h"
#include "ledger.h"
#include "refund_rules.h"
#include "row.h"
#include "state_machine.h"
#include "transition_log.h"
#include "validation.h"

static const char *const refund_fixed_columns[] = {
	"id", "order_id", "merchant_id", "out_refund_no", "amount", "refund_method", "created_at"
};

static int
refund_status_of(Datum status)
{
	return status_from_datum(&refund_machine, status);
}

static int
refund_status(Relation rel, HeapTuple tuple)
{
	bool		isnull;

	return refund_status_of(row_get(rel, tuple, "status", &isnull));
}

static void
refund_exceeds(const OrderMoney *order, int64 asked, int64 refundable)
{
	ereport(ERROR,
			errcode(ERRCODE_PAYCORE_REFUND_EXCEEDS),
			errmsg("refund exceeds the refundable amount"),
			errdetail("Order " INT64_FORMAT " has " INT64_FORMAT " of " INT64_FORMAT " left to refund; " INT64_FORMAT " was asked.",
					  order->id, refundable, order->amount, asked),
			errhint("Pending and succeeded refunds together never exceed the order amount."));
}

/*
 * A new pending refund takes its amount out of what the order has left.
 * Rows that arrive already completed come from a restore of a dump (or a
 * hand-written INSERT) and must agree with what the order says it refunded.
 * "stored": the refund is in the table already (an AFTER trigger), so the
 * sums count it.
 */
static void
reserve_on_order(int64 order_id, int64 amount, int status, bool stored, int64 *merchant_id)
{
	OrderMoney	order;
	RefundSums	sums;

	ledger_lock_order(order_id, &order);
	*merchant_id = order.merchant_id;
	ledger_refund_sums(order_id, &sums);
	if (stored && status == REFUND_PENDING)
		sums.pending -= amount;
	else if (stored && status == REFUND_SUCCEEDED)
		sums.succeeded -= amount;
	if (status == REFUND_PENDING)
	{
		if (order.status != ORDER_PAID && order.status != ORDER_PARTIALLY_REFUNDED)
			ereport(ERROR,
					errcode(ERRCODE_PAYCORE_ILLEGAL_TRANSITION),
					errmsg("order cannot be refunded in its status"),
					errdetail("Order " INT64_FORMAT " is %s.", order.id, order_machine.labels[order.status]),
					errhint("Only paid or partially refunded orders can be refunded."));
		if (order.refunded_amount + sums.pending + amount > order.amount)
			refund_exceeds(&order, amount, order.amount - order.refunded_amount - sums.pending);
		ledger_store(&order, sums.pending + amount);
	}
	else if (status == REFUND_SUCCEEDED && sums.succeeded + amount > order.refunded_amount)
		refund_exceeds(&order, amount, order.refunded_amount - sums.succeeded);
}

/*
 * Since 1.1 an AFTER INSERT trigger ("stored"), so that an INSERT ... ON
 * CONFLICT DO NOTHING that skips its row reserves nothing; 1.0 fires it
 * BEFORE INSERT, where it also fills in the merchant.
 */
HeapTuple
reserve_refund(Relation rel, HeapTuple tuple, bool stored)
{
	int64		order_id = row_get_int64(rel, tuple, "order_id");
	int64		merchant_id;
	bool		isnull;
	Datum		given = row_get(rel, tuple, "merchant_id", &isnull);

	SPI_connect();
	reserve_on_order(order_id, row_get_int64(rel, tuple, "amount"),
					 refund_status(rel, tuple), stored, &merchant_id);
	SPI_finish();
	if (!isnull && DatumGetInt64(given) != merchant_id)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid merchant_id"),
				errdetail("Order " INT64_FORMAT " belongs to merchant " INT64_FORMAT ".", order_id, merchant_id));
	return stored ? NULL : row_set(rel, tuple, "merchant_id", Int64GetDatum(merchant_id), false);
}

/* BEFORE INSERT: a refund inserted without its merchant gets its order's. */
HeapTuple
fill_refund_merchant(Relation rel, HeapTuple tuple)
{
	bool		isnull;
	int64		merchant_id;

	(void) row_get(rel, tuple, "merchant_id", &isnull);
	if (!isnull)
		return tuple;
	SPI_connect();
	merchant_id = ledger_order_merchant(row_get_int64(rel, tuple, "order_id"));
	SPI_finish();
	return row_set(rel, tuple, "merchant_id", Int64GetDatum(merchant_id), false);
}

/* How a refund pays back: to the original means of payment, or to the user's balance. */
bool
is_refund_method(const char *method)
{
	return strcmp(method, "original") == 0 || strcmp(method, "balance") == 0;
}

static bool
blank(text *value)
{
	const char *str = VARDATA_ANY(value);

	for (int i = 0; i < (int) VARSIZE_ANY_EXHDR(value); i++)
	{
		if (str[i] != ' ')
			return false;
	}
	return true;
}

/*
 * SQL function: paycore._refund_consistent(status, completed_at,
 * refund_method, reason, channel_refund_no, out_refund_no, amount), the
 * refunds table's CHECK constraint refunds_consistent: a reason of 1 to 256
 * characters that is not only spaces, a known refund method, a channel
 * refund number of 1 to 128 characters if any, completed_at set exactly when
 * the refund is no longer pending, an out_refund_no of the API's form and an
 * amount in the API's range.  One C call rather than six SQL expressions,
 * which PostgreSQL would rebuild for every statement that writes a refund.
 * Databases still at 1.1 call it with the first five arguments only (their
 * out_refund_no and amount have CHECKs of their own).
 */
PG_FUNCTION_INFO_V1(paycore_refund_consistent);
Datum
paycore_refund_consistent(PG_FUNCTION_ARGS)
{
	char	   *method;
	text	   *reason;

	/* NOT NULL columns: their own constraints report a missing value */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_BOOL(true);
	method = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (!is_refund_method(method))
		PG_RETURN_BOOL(false);
	reason = PG_GETARG_TEXT_PP(3);
	if (!text_length_between(reason, 1, REFUND_REASON_MAX) || blank(reason))
		PG_RETURN_BOOL(false);
	if (!PG_ARGISNULL(4) && !text_length_between(PG_GETARG_TEXT_PP(4), 1, CHANNEL_REFUND_NO_MAX))
		PG_RETURN_BOOL(false);
	if (PG_NARGS() > 5)
	{
		if (!PG_ARGISNULL(5) && !is_reference(PG_GETARG_TEXT_PP(5)))
			PG_RETURN_BOOL(false);
		if (!PG_ARGISNULL(6) && !is_amount(PG_GETARG_INT64(6)))
			PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL((refund_status_of(PG_GETARG_DATUM(0)) == REFUND_PENDING) == PG_ARGISNULL(1));
}

HeapTuple
check_refund_update(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple)
{
	int			from = refund_status(rel, old_tuple);
	int			to = refund_status(rel, new_tuple);
	Datum		now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());

	reject_changed_columns(rel, old_tuple, new_tuple, "refund",
						   refund_fixed_columns, lengthof(refund_fixed_columns));
	if (from != to)
	{
		check_transition(&refund_machine, row_get_int64(rel, old_tuple, "id"), from, to);
		new_tuple = row_set(rel, new_tuple, "completed_at", now, false);
	}
	return row_set(rel, new_tuple, "updated_at", now, false);
}

/* The webhook of a completed refund, with its order as the settlement left it. */
static void
webhook_of_refund(Relation rel, HeapTuple refund, const OrderMoney *order, int status, Webhook *webhook)
{
	bool		isnull;

	webhook->event_type = status == REFUND_SUCCEEDED ? "refund.succeeded" : "refund.failed";
	webhook->order_id = order->id;
	webhook->merchant_id = order->merchant_id;
	webhook->out_trade_no = order->out_trade_no;
	webhook->amount = order->amount;
	webhook->currency = order->currency;
	webhook->order_status = order_machine.labels[order->status];
	webhook->refunded_amount = order->refunded_amount;
	webhook->channel_trade_no = order->channel_trade_no;
	webhook->paid = order->paid;
	webhook->paid_at = order->paid_at;
	webhook->has_refund = true;
	webhook->refund_id = row_get_int64(rel, refund, "id");
	webhook->out_refund_no = TextDatumGetCString(row_get(rel, refund, "out_refund_no", &isnull));
	webhook->refund_amount = row_get_int64(rel, refund, "amount");
	webhook->refund_status = refund_machine.labels[status];
}

/*
 * After an UPDATE that completed a refund: a success moves its amount from pending to
 * refunded on the order (and the order's status with it), a failure frees
 * it; then the audit row and the merchant's notification.
 */
void
settle_refund(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple)
{
	int64		refund_id = row_get_int64(rel, new_tuple, "id");
	int64		amount = row_get_int64(rel, new_tuple, "amount");
	int			from = refund_status(rel, old_tuple);
	int			to = refund_status(rel, new_tuple);
	OrderMoney	order;
	StringInfoData detail;
	Webhook		webhook;

	if (from == to)
		return;
	SPI_connect();
	ledger_settle(row_get_int64(rel, new_tuple, "order_id"), amount, to == REFUND_SUCCEEDED, &order);
	SPI_finish();

	initStringInfo(&detail);
	appendStringInfoChar(&detail, '{');
	json_add_int64(&detail, "order_id", order.id);
	json_add_int64(&detail, "amount", amount);
	json_add_int64(&detail, "order_refunded_amount", order.refunded_amount);
	appendStringInfoChar(&detail, '}');
	webhook_of_refund(rel, new_tuple, &order, to, &webhook);
	log_transition("refund", refund_id, refund_machine.labels[from], refund_machine.labels[to],
				   detail.data, &webhook);
}
