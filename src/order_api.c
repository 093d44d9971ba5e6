/*
 * The order API's hot calls, create_order and confirm_payment, in C.
 *
 * Each tries its one-statement path first: an INSERT, once look-ups through
 * the primary keys have found everything the order names (src/reference.c),
 * and an UPDATE that only happens from a status the state machine lets
 * become paid.  When a look-up misses or the statement writes nothing, a
 * second look finds out why and answers as the API promises (the existing
 * order for a retried key, the error otherwise).  The triggers on
 * paycore.orders check every write as they check anyone's.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "errcodes.h"
#include "order_rules.h"
#include "reference.h"
#include "spi_util.h"
#include "state_machine.h"
#include "validation.h"

static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr diagnose_plan = NULL;
static SPIPlanPtr pay_plan = NULL;
static SPIPlanPtr lock_plan = NULL;

typedef struct NewOrder
{
	int64		merchant_id;
	text	   *out_trade_no;
	int64		amount;
	text	   *currency;
	text	   *payment_method;
	bool		has_user;
	int64		user_id;
	text	   *subject;
	TimestampTz expires_at;
} NewOrder;

/* Byte for byte, as the keys and codes are stored. */
static bool
same_text(Datum stored, text *given)
{
	return datum_image_eq(stored, PointerGetDatum(given), false, -1);
}

static TimestampTz
expiry_from(Interval *expires_in)
{
	Interval	shortest = {.time = USECS_PER_MINUTE};
	Interval	longest = {.day = 15};

	if (DatumGetBool(DirectFunctionCall2(interval_lt, IntervalPGetDatum(expires_in),
										 IntervalPGetDatum(&shortest))) ||
		DatumGetBool(DirectFunctionCall2(interval_gt, IntervalPGetDatum(expires_in),
										 IntervalPGetDatum(&longest))))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid expires_in"),
				errdetail("expires_in is %s.",
						  DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(expires_in)))),
				errhint("Use an interval from 1 minute to 15 days."));
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
												   TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
												   IntervalPGetDatum(expires_in)));
}

/* The arguments in the order the API has always checked them. */
static void
read_new_order(FunctionCallInfo fcinfo, NewOrder *order)
{
	order->out_trade_no = check_reference("out_trade_no", required_text_arg(fcinfo, 1, "out_trade_no"));
	require_arg(fcinfo, 2, "amount");
	order->amount = check_amount("amount", PG_GETARG_INT64(2));
	order->subject = PG_ARGISNULL(6) ? NULL : check_text("subject", PG_GETARG_TEXT_PP(6), SUBJECT_MAX);
	require_arg(fcinfo, 0, "merchant_id");
	order->merchant_id = PG_GETARG_INT64(0);
	order->currency = required_text_arg(fcinfo, 3, "currency");
	order->payment_method = required_text_arg(fcinfo, 4, "payment_method");
	order->has_user = !PG_ARGISNULL(5);
	order->user_id = order->has_user ? PG_GETARG_INT64(5) : 0;
	require_arg(fcinfo, 7, "expires_in");
	order->expires_at = expiry_from(PG_GETARG_INTERVAL_P(7));
}

/* Whether everything the order names exists, and its payment method is enabled. */
static bool
references_exist(const NewOrder *order)
{
	Snapshot	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	bool		exist;

	exist = reference_exists("currencies", PointerGetDatum(order->currency), NULL, snapshot) &&
		reference_exists("payment_methods", PointerGetDatum(order->payment_method), "enabled", snapshot) &&
		reference_exists("merchants", Int64GetDatum(order->merchant_id), NULL, snapshot) &&
		(!order->has_user || reference_exists("users", Int64GetDatum(order->user_id), NULL, snapshot));
	UnregisterSnapshot(snapshot);
	return exist;
}

/*
 * The new order's id, or 0 when nothing was written: something it names
 * is missing, or its key is taken.
 */
static int64
insert_order(const void *request)
{
	const NewOrder *order = request;
	Oid			argtypes[8] = {INT8OID, TEXTOID, INT8OID, TEXTOID, TEXTOID, INT8OID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[8] = {
		Int64GetDatum(order->merchant_id), PointerGetDatum(order->out_trade_no),
		Int64GetDatum(order->amount), PointerGetDatum(order->currency),
		PointerGetDatum(order->payment_method), Int64GetDatum(order->user_id),
		PointerGetDatum(order->subject), TimestampTzGetDatum(order->expires_at)
	};
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', order->has_user ? ' ' : 'n',
	order->subject ? ' ' : 'n', ' '};
	SPIPlanPtr	plan;
	bool		isnull;

	if (!references_exist(order))
		return 0;
	plan = saved_plan(&insert_plan,
					  "INSERT INTO paycore.orders AS o (merchant_id, out_trade_no, amount, currency,"
					  "       payment_method, user_id, subject, expires_at)"
					  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
					  " ON CONFLICT ON CONSTRAINT orders_out_trade_no_key DO NOTHING"
					  " RETURNING o.id",
					  8, argtypes);
	run_plan(plan, values, nulls, false, 0);
	return SPI_processed == 0 ? 0 : DatumGetInt64(result_value(0, 1, &isnull));
}

static void
idempotency_conflict(const NewOrder *order, int64 id)
{
	bool		isnull;
	bool		user_null;
	Datum		user_id = result_value(0, 5, &user_null);

	ereport(ERROR,
			errcode(ERRCODE_PAYCORE_IDEMPOTENCY_CONFLICT),
			errmsg("out_trade_no %s was already used with different parameters",
				   text_to_cstring(order->out_trade_no)),
			errdetail("Order " INT64_FORMAT " has amount " INT64_FORMAT " %s, payment method %s, user %s.",
					  id, DatumGetInt64(result_value(0, 2, &isnull)),
					  TextDatumGetCString(result_value(0, 3, &isnull)),
					  TextDatumGetCString(result_value(0, 4, &isnull)),
					  user_null ? "none" : psprintf(INT64_FORMAT, DatumGetInt64(user_id))),
			errhint("Use a new out_trade_no for a different order."));
}

/*
 * Why the INSERT wrote nothing.  A retry of a request we already took gets
 * the same answer, even if its payment method has been disabled since; any
 * other reason is an error.  Returns 0 when nothing stands in the way any
 * more (the reason went away meanwhile), and the INSERT is worth another try.
 */
static int64
existing_or_reason(const void *request)
{
	const NewOrder *order = request;
	Oid			argtypes[5] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, INT8OID};
	Datum		values[5] = {
		Int64GetDatum(order->merchant_id), PointerGetDatum(order->out_trade_no),
		PointerGetDatum(order->currency), PointerGetDatum(order->payment_method),
		Int64GetDatum(order->user_id)
	};
	char		nulls[5] = {' ', ' ', ' ', ' ', order->has_user ? ' ' : 'n'};
	SPIPlanPtr	plan = saved_plan(&diagnose_plan,
								  "SELECT o.id, o.amount, o.currency, o.payment_method, o.user_id,"
								  "       EXISTS (SELECT FROM paycore.currencies c WHERE c.code = $3),"
								  "       EXISTS (SELECT FROM paycore.payment_methods pm"
								  "                WHERE pm.code = $4 AND pm.enabled),"
								  "       EXISTS (SELECT FROM paycore.merchants m WHERE m.id = $1),"
								  "       $5 IS NULL OR EXISTS (SELECT FROM paycore.users u WHERE u.id = $5)"
								  "  FROM (SELECT) AS one"
								  "  LEFT JOIN paycore.orders o ON o.merchant_id = $1 AND o.out_trade_no = $2",
								  5, argtypes);
	bool		isnull;
	bool		no_order;
	bool		user_null;
	Datum		existing;

	/* Not read-only: a new snapshot sees the row that made the INSERT skip. */
	run_plan(plan, values, nulls, false, 0);
	existing = result_value(0, 1, &no_order);
	if (!no_order)
	{
		int64		id = DatumGetInt64(existing);
		Datum		user_id = result_value(0, 5, &user_null);

		if (DatumGetInt64(result_value(0, 2, &isnull)) != order->amount ||
			!same_text(result_value(0, 3, &isnull), order->currency) ||
			!same_text(result_value(0, 4, &isnull), order->payment_method) ||
			user_null != !order->has_user ||
			(!user_null && DatumGetInt64(user_id) != order->user_id))
			idempotency_conflict(order, id);
		return id;
	}
	if (!DatumGetBool(result_value(0, 6, &isnull)))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid currency"),
				errdetail("%s is not a currency known to paycore.",
						  quote_literal_cstr(text_to_cstring(order->currency))),
				errhint("Use an ISO 4217 code listed in paycore.currencies."));
	if (!DatumGetBool(result_value(0, 7, &isnull)))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid payment_method"),
				errdetail("%s is not an enabled payment method.",
						  quote_literal_cstr(text_to_cstring(order->payment_method))),
				errhint("Use a code of an enabled row of paycore.payment_methods."));
	if (!DatumGetBool(result_value(0, 8, &isnull)))
		ereport(ERROR,
				errcode(ERRCODE_NO_DATA_FOUND),
				errmsg("merchant " INT64_FORMAT " not found", order->merchant_id));
	if (!DatumGetBool(result_value(0, 9, &isnull)))
		ereport(ERROR,
				errcode(ERRCODE_NO_DATA_FOUND),
				errmsg("user " INT64_FORMAT " not found", order->user_id));
	return 0;
}

/* SQL function: paycore.create_order(...) returns bigint */
PG_FUNCTION_INFO_V1(paycore_create_order);
Datum
paycore_create_order(PG_FUNCTION_ARGS)
{
	NewOrder	order;
	int64		id;

	read_new_order(fcinfo, &order);
	SPI_connect();
	id = insert_or_existing("create_order", insert_order, existing_or_reason, &order);
	SPI_finish();
	PG_RETURN_INT64(id);
}

/* The order becomes paid, if its status allows; false if no row changed. */
static bool
mark_paid(int64 order_id, text *channel_trade_no, int64 paid_amount)
{
	Oid			argtypes[4] = {INT8OID, TEXTOID, INT8OID, TEXTARRAYOID};
	Datum		values[4] = {
		Int64GetDatum(order_id), PointerGetDatum(channel_trade_no),
		Int64GetDatum(paid_amount), statuses_leading_to(&order_machine, ORDER_PAID)
	};
	SPIPlanPtr	plan = saved_plan(&pay_plan,
								  "UPDATE paycore.orders o"
								  "   SET status = 'paid', channel_trade_no = $2, paid_at = pg_catalog.now()"
								  " WHERE o.id = $1 AND o.amount = $3 AND o.status::text = ANY ($4)",
								  4, argtypes);

	run_plan(plan, values, NULL, false, 0);
	return SPI_processed == 1;
}

/*
 * Why the order could not become paid.  Returns the status to answer when
 * the same payment is reported again, -1 when nothing stands in the way any
 * more; raises the error otherwise.
 */
static int
payment_refused(int64 order_id, text *channel_trade_no, int64 paid_amount)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(order_id)};
	SPIPlanPtr	plan = saved_plan(&lock_plan,
								  "SELECT status, amount, currency, paid_at IS NOT NULL, channel_trade_no"
								  "  FROM paycore.orders WHERE id = $1 FOR UPDATE",
								  1, argtypes);
	bool		isnull;
	int			status;
	int64		amount;

	run_plan(plan, values, NULL, false, 0);
	if (SPI_processed == 0)
		ereport(ERROR,
				errcode(ERRCODE_NO_DATA_FOUND),
				errmsg("order " INT64_FORMAT " not found", order_id));
	status = status_from_datum(&order_machine, result_value(0, 1, &isnull));
	amount = DatumGetInt64(result_value(0, 2, &isnull));
	if (paid_amount != amount)
		ereport(ERROR,
				errcode(ERRCODE_PAYCORE_AMOUNT_MISMATCH),
				errmsg("paid amount does not match the order amount"),
				errdetail("Order " INT64_FORMAT " is for " INT64_FORMAT " %s; the channel reports " INT64_FORMAT ".",
						  order_id, amount, TextDatumGetCString(result_value(0, 3, &isnull)), paid_amount),
				errhint("Investigate the payment with the channel; the order was not changed."));
	if (DatumGetBool(result_value(0, 4, &isnull)))
	{
		Datum		paid_by = result_value(0, 5, &isnull);

		/* Channels resend their callbacks, also after refunds have begun. */
		if (same_text(paid_by, channel_trade_no))
			return status;
		ereport(ERROR,
				errcode(ERRCODE_PAYCORE_ILLEGAL_TRANSITION),
				errmsg("order " INT64_FORMAT " is already paid", order_id),
				errdetail("Order " INT64_FORMAT " was paid by channel payment %s.",
						  order_id, TextDatumGetCString(paid_by)),
				errhint("A second payment for one order must be refunded through the channel."));
	}
	check_transition(&order_machine, order_id, status, ORDER_PAID);
	return -1;
}

/* SQL function: paycore.confirm_payment(order_id, channel_trade_no, paid_amount) */
PG_FUNCTION_INFO_V1(paycore_confirm_payment);
Datum
paycore_confirm_payment(PG_FUNCTION_ARGS)
{
	text	   *channel_trade_no = PG_ARGISNULL(1) ? NULL :
		check_text("channel_trade_no", PG_GETARG_TEXT_PP(1), CHANNEL_TRADE_NO_MAX);
	int64		order_id;
	int64		paid_amount;
	int			answer = -1;

	if (channel_trade_no == NULL)
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("channel_trade_no must not be null"));
	require_arg(fcinfo, 2, "paid_amount");
	require_arg(fcinfo, 0, "order_id");
	order_id = PG_GETARG_INT64(0);
	paid_amount = PG_GETARG_INT64(2);

	SPI_connect();
	for (int tries = 1; answer < 0; tries++)
	{
		if (tries > API_MAX_TRIES)
			too_many_concurrent_changes("confirm_payment");
		if (mark_paid(order_id, channel_trade_no, paid_amount))
			answer = ORDER_PAID;
		else
			answer = payment_refused(order_id, channel_trade_no, paid_amount);
	}
	SPI_finish();
	return status_to_datum(&order_machine, get_func_rettype(fcinfo->flinfo->fn_oid), answer);
}
