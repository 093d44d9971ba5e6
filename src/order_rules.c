/*
 * What may happen to a row of paycore.orders after it is created.  Checked on
 * every UPDATE, whoever runs it.
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "errcodes.h"
#include "order_rules.h"
#include "row.h"
#include "state_machine.h"
#include "transition_log.h"
#include "validation.h"

static const char *const order_fixed_columns[] = {
	"id", "merchant_id", "out_trade_no", "amount", "currency", "created_at"
};

/*
 * Changes to these alone leave updated_at as it is: the pending refund sum
 * moves with refund requests (and while a dump is restored, see
 * refund_rules.c), which change nothing a merchant sees on the order.
 */
static const char *const bookkeeping_columns[] = {"pending_refund_amount", "updated_at"};

/* Facts of the payment, fixed once the order is paid. */
static const char *const payment_columns[] = {"channel_trade_no", "paid_at"};

static int
order_status(Relation rel, HeapTuple tuple)
{
	bool		isnull;

	return status_from_datum(&order_machine, row_get(rel, tuple, "status", &isnull));
}

static bool
is_paid_status(int status)
{
	return status == ORDER_PAID || status == ORDER_PARTIALLY_REFUNDED || status == ORDER_REFUNDED;
}

/* Refunded, partially refunded or neither, as the refunded amount says. */
static bool
refunded_fits_status(int status, int64 refunded, int64 amount)
{
	if (status == ORDER_REFUNDED)
		return refunded == amount;
	if (status == ORDER_PARTIALLY_REFUNDED)
		return refunded > 0 && refunded < amount;
	return refunded == 0;
}

static void
check_refunded_amount(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple, int64 id, int status)
{
	int64		amount = row_get_int64(rel, new_tuple, "amount");
	int64		old_refunded = row_get_int64(rel, old_tuple, "refunded_amount");
	int64		refunded = row_get_int64(rel, new_tuple, "refunded_amount");
	int64		pending = row_get_int64(rel, new_tuple, "pending_refund_amount");

	if (refunded < old_refunded)
		ereport(ERROR,
				errcode(ERRCODE_PAYCORE_IMMUTABLE_COLUMN),
				errmsg("refunded_amount of an order cannot decrease"),
				errdetail("Order " INT64_FORMAT " has refunded " INT64_FORMAT "; the update asks for " INT64_FORMAT ".",
						  id, old_refunded, refunded));
	if (refunded + pending > amount)
		ereport(ERROR,
				errcode(ERRCODE_PAYCORE_REFUND_EXCEEDS),
				errmsg("refunds exceed the order amount"),
				errdetail("Order " INT64_FORMAT " is for " INT64_FORMAT "; refunded " INT64_FORMAT " plus pending " INT64_FORMAT " is more.",
						  id, amount, refunded, pending));

	if (!refunded_fits_status(status, refunded, amount))
		ereport(ERROR,
				errcode(ERRCODE_PAYCORE_ILLEGAL_TRANSITION),
				errmsg("order status does not match its refunded amount"),
				errdetail("Order " INT64_FORMAT " would be %s with " INT64_FORMAT " of " INT64_FORMAT " refunded.",
						  id, order_machine.labels[status], refunded, amount),
				errhint("Refunds change an order's status through paycore.request_refund and paycore.complete_refund."));
}

/* Becoming paid needs the channel's trade number; paid_at defaults to now. */
static HeapTuple
check_payment_facts(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple, int from, int to)
{
	bool		isnull;

	if (is_paid_status(from))
	{
		reject_changed_columns(rel, old_tuple, new_tuple, "order",
							   payment_columns, lengthof(payment_columns));
		return new_tuple;
	}
	if (!is_paid_status(to))
		return new_tuple;
	(void) row_get(rel, new_tuple, "channel_trade_no", &isnull);
	if (isnull)
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("channel_trade_no must not be null for a paid order"),
				errhint("Confirm payments with paycore.confirm_payment."));
	(void) row_get(rel, new_tuple, "paid_at", &isnull);
	if (isnull)
		new_tuple = row_set(rel, new_tuple, "paid_at",
							TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), false);
	return new_tuple;
}

/*
 * SQL function: paycore._order_consistent(status, amount, refunded_amount,
 * pending_refund_amount, paid_at, channel_trade_no, out_trade_no, subject),
 * the orders table's CHECK constraint orders_consistent.  It holds for every
 * row version, written by anyone, triggers or not: the refunds fit in the
 * amount, the status agrees with what was refunded, exactly the paid
 * statuses carry the payment's facts, and the columns keep the API's forms
 * (out_trade_no, amount, the lengths of subject and channel_trade_no).  One
 * C call rather than seven SQL expressions, which PostgreSQL would rebuild
 * for every statement that writes an order.  Databases still at 1.1 call it
 * with the first six arguments only (their column rules are CHECKs of their
 * own).
 */
PG_FUNCTION_INFO_V1(paycore_order_consistent);
Datum
paycore_order_consistent(PG_FUNCTION_ARGS)
{
	int			status;
	int64		amount;
	int64		refunded;
	int64		pending;

	/* NOT NULL columns: their own constraints report a missing value */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_BOOL(true);
	status = status_from_datum(&order_machine, PG_GETARG_DATUM(0));
	amount = PG_GETARG_INT64(1);
	refunded = PG_GETARG_INT64(2);
	pending = PG_GETARG_INT64(3);
	if (refunded < 0 || pending < 0 || refunded > amount - pending)
		PG_RETURN_BOOL(false);
	if (!refunded_fits_status(status, refunded, amount))
		PG_RETURN_BOOL(false);
	if (PG_NARGS() > 6)
	{
		if (!is_amount(amount))
			PG_RETURN_BOOL(false);
		if (!PG_ARGISNULL(5) && !text_length_between(PG_GETARG_TEXT_PP(5), 1, CHANNEL_TRADE_NO_MAX))
			PG_RETURN_BOOL(false);
		if (!PG_ARGISNULL(6) && !is_reference(PG_GETARG_TEXT_PP(6)))
			PG_RETURN_BOOL(false);
		if (!PG_ARGISNULL(7) && !text_length_between(PG_GETARG_TEXT_PP(7), 0, SUBJECT_MAX))
			PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(is_paid_status(status) == (!PG_ARGISNULL(4) && !PG_ARGISNULL(5)));
}

HeapTuple
check_order_update(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple)
{
	int64		id = row_get_int64(rel, old_tuple, "id");
	int			from = order_status(rel, old_tuple);
	int			to = order_status(rel, new_tuple);

	reject_changed_columns(rel, old_tuple, new_tuple, "order",
						   order_fixed_columns, lengthof(order_fixed_columns));
	if (from != to)
		check_transition(&order_machine, id, from, to);
	check_refunded_amount(rel, old_tuple, new_tuple, id, to);
	new_tuple = check_payment_facts(rel, old_tuple, new_tuple, from, to);
	if (!row_changed_except(rel, old_tuple, new_tuple, bookkeeping_columns, lengthof(bookkeeping_columns)))
		return new_tuple;
	return row_set(rel, new_tuple, "updated_at",
				   TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), false);
}

static const char *
text_column(Relation rel, HeapTuple tuple, const char *column)
{
	bool		isnull;
	Datum		value = row_get(rel, tuple, column, &isnull);

	return isnull ? NULL : TextDatumGetCString(value);
}

/* The webhook each final payment outcome sends; NULL for none. */
static const char *
order_event(int status)
{
	switch (status)
	{
		case ORDER_PAID:
			return "order.paid";
		case ORDER_FAILED:
			return "order.failed";
		case ORDER_CLOSED:
			return "order.closed";
		default:
			return NULL;
	}
}

static void
webhook_from_row(Relation rel, HeapTuple tuple, int status, Webhook *webhook)
{
	bool		isnull;
	Datum		paid_at = row_get(rel, tuple, "paid_at", &isnull);

	webhook->order_id = row_get_int64(rel, tuple, "id");
	webhook->merchant_id = row_get_int64(rel, tuple, "merchant_id");
	webhook->out_trade_no = text_column(rel, tuple, "out_trade_no");
	webhook->amount = row_get_int64(rel, tuple, "amount");
	webhook->currency = text_column(rel, tuple, "currency");
	webhook->order_status = order_machine.labels[status];
	webhook->refunded_amount = row_get_int64(rel, tuple, "refunded_amount");
	webhook->channel_trade_no = text_column(rel, tuple, "channel_trade_no");
	webhook->paid = !isnull;
	webhook->paid_at = isnull ? 0 : DatumGetTimestampTz(paid_at);
	webhook->has_refund = false;
}

/* After an UPDATE that changed the status: the audit row and the merchant's notification. */
void
record_order_change(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple)
{
	StringInfoData detail;
	int64		id = row_get_int64(rel, new_tuple, "id");
	int			from = order_status(rel, old_tuple);
	int			to = order_status(rel, new_tuple);
	Webhook		webhook;

	if (from == to)
		return;

	initStringInfo(&detail);
	appendStringInfoChar(&detail, '{');
	json_add_int64(&detail, "amount", row_get_int64(rel, new_tuple, "amount"));
	json_add_int64(&detail, "refunded_amount", row_get_int64(rel, new_tuple, "refunded_amount"));
	json_add_text(&detail, "channel_trade_no", text_column(rel, new_tuple, "channel_trade_no"));
	json_add_text(&detail, "failure_reason", text_column(rel, new_tuple, "failure_reason"));
	appendStringInfoChar(&detail, '}');

	webhook.event_type = order_event(to);
	if (webhook.event_type)
		webhook_from_row(rel, new_tuple, to, &webhook);
	log_transition("order", id, order_machine.labels[from], order_machine.labels[to], detail.data,
				   webhook.event_type ? &webhook : NULL);
}
