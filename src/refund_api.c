/*
 * The refund API's hot calls, request_refund and complete_refund, in C.
 *
 * As in order_api.c, each tries one statement first and looks closer only
 * when it wrote nothing.  The money is checked by the triggers on
 * paycore.refunds (refund_rules.c), under the order's row lock.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "errcodes.h"
#include "refund_rules.h"
#include "spi_util.h"
#include "state_machine.h"
#include "validation.h"

static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr existing_plan = NULL;
static SPIPlanPtr complete_plan = NULL;
static SPIPlanPtr lock_plan = NULL;

typedef struct NewRefund
{
	int64		order_id;
	text	   *out_refund_no;
	int64		amount;
	text	   *reason;
	text	   *refund_method;
} NewRefund;

/* The arguments in the order the API has always checked them. */
static void
read_new_refund(FunctionCallInfo fcinfo, NewRefund *refund)
{
	char	   *method;

	refund->out_refund_no = check_reference("out_refund_no", required_text_arg(fcinfo, 1, "out_refund_no"));
	require_arg(fcinfo, 2, "amount");
	refund->amount = check_amount("amount", PG_GETARG_INT64(2));
	refund->reason = PG_ARGISNULL(3) ? NULL : check_text("reason", PG_GETARG_TEXT_PP(3), REFUND_REASON_MAX);
	if (refund->reason == NULL)
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("reason must not be null"));
	refund->refund_method = required_text_arg(fcinfo, 4, "refund_method");
	method = text_to_cstring(refund->refund_method);
	if (!is_refund_method(method))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid refund_method"),
				errdetail("refund_method is %s.", quote_literal_cstr(method)),
				errhint("Use 'original' or 'balance'."));
	require_arg(fcinfo, 0, "order_id");
	refund->order_id = PG_GETARG_INT64(0);
}

/*
 * The new refund's id, or 0 when the INSERT wrote nothing.  A key already
 * taken writes nothing and reserves nothing: the reservation is an AFTER
 * INSERT trigger, which only runs for rows really inserted.
 */
static int64
insert_refund(const void *request)
{
	const NewRefund *refund = request;
	Oid			argtypes[5] = {INT8OID, TEXTOID, INT8OID, TEXTOID, TEXTOID};
	Datum		values[5] = {
		Int64GetDatum(refund->order_id), PointerGetDatum(refund->out_refund_no),
		Int64GetDatum(refund->amount), PointerGetDatum(refund->reason),
		PointerGetDatum(refund->refund_method)
	};
	SPIPlanPtr	plan = saved_plan(&insert_plan,
								  "INSERT INTO paycore.refunds AS r (order_id, merchant_id, out_refund_no, amount,"
								  "       reason, refund_method)"
								  " SELECT o.id, o.merchant_id, $2, $3, $4, $5 FROM paycore.orders o WHERE o.id = $1"
								  " ON CONFLICT ON CONSTRAINT refunds_out_refund_no_key DO NOTHING"
								  " RETURNING r.id",
								  5, argtypes);
	bool		isnull;

	run_plan(plan, values, NULL, false, 0);
	return SPI_processed == 0 ? 0 : DatumGetInt64(result_value(0, 1, &isnull));
}

/*
 * Why the INSERT wrote nothing: the order does not exist (an error), or the
 * merchant already used the key (the same refund again, or PC002).  Returns
 * 0 when neither holds any more, and the INSERT is worth another try.
 */
static int64
existing_refund(const void *request)
{
	const NewRefund *refund = request;
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(refund->order_id), PointerGetDatum(refund->out_refund_no)};
	SPIPlanPtr	plan = saved_plan(&existing_plan,
								  "SELECT r.id, r.order_id, r.amount, r.refund_method"
								  "  FROM paycore.orders o"
								  "  LEFT JOIN paycore.refunds r ON r.merchant_id = o.merchant_id AND r.out_refund_no = $2"
								  " WHERE o.id = $1",
								  2, argtypes);
	bool		isnull;
	bool		no_refund;
	Datum		id;
	char	   *method;

	/* Not read-only: a new snapshot sees the row that made the INSERT skip. */
	run_plan(plan, values, NULL, false, 0);
	if (SPI_processed == 0)
		ereport(ERROR,
				errcode(ERRCODE_NO_DATA_FOUND),
				errmsg("order " INT64_FORMAT " not found", refund->order_id));
	id = result_value(0, 1, &no_refund);
	if (no_refund)
		return 0;
	method = TextDatumGetCString(result_value(0, 4, &isnull));
	if (DatumGetInt64(result_value(0, 2, &isnull)) != refund->order_id ||
		DatumGetInt64(result_value(0, 3, &isnull)) != refund->amount ||
		strcmp(method, text_to_cstring(refund->refund_method)) != 0)
		ereport(ERROR,
				errcode(ERRCODE_PAYCORE_IDEMPOTENCY_CONFLICT),
				errmsg("out_refund_no %s was already used with different parameters",
					   text_to_cstring(refund->out_refund_no)),
				errdetail("Refund " INT64_FORMAT " is for order " INT64_FORMAT ", amount " INT64_FORMAT ", method %s.",
						  DatumGetInt64(id), DatumGetInt64(result_value(0, 2, &isnull)),
						  DatumGetInt64(result_value(0, 3, &isnull)), method),
				errhint("Use a new out_refund_no for a different refund."));
	return DatumGetInt64(id);
}

/* SQL function: paycore.request_refund(order_id, out_refund_no, amount, reason, refund_method) */
PG_FUNCTION_INFO_V1(paycore_request_refund);
Datum
paycore_request_refund(PG_FUNCTION_ARGS)
{
	NewRefund	refund;
	int64		id;

	read_new_refund(fcinfo, &refund);
	SPI_connect();
	id = insert_or_existing("request_refund", insert_refund, existing_refund, &refund);
	SPI_finish();
	PG_RETURN_INT64(id);
}

/* The refund takes its final status, if its status allows; false if no row changed. */
static bool
complete(int64 refund_id, int target, text *channel_refund_no)
{
	Oid			argtypes[4] = {INT8OID, TEXTOID, TEXTOID, TEXTARRAYOID};
	Datum		values[4] = {
		Int64GetDatum(refund_id), CStringGetTextDatum(refund_machine.labels[target]),
		PointerGetDatum(channel_refund_no), statuses_leading_to(&refund_machine, target)
	};
	char		nulls[4] = {' ', ' ', channel_refund_no ? ' ' : 'n', ' '};
	SPIPlanPtr	plan = saved_plan(&complete_plan,
								  "UPDATE paycore.refunds r"
								  "   SET status = $2::paycore.refund_status,"
								  "       channel_refund_no = coalesce($3, r.channel_refund_no)"
								  " WHERE r.id = $1 AND r.status::text = ANY ($4)",
								  4, argtypes);

	run_plan(plan, values, nulls, false, 0);
	return SPI_processed == 1;
}

/*
 * Why the refund could not be completed: it does not exist or may not move
 * (errors), or it already has that status (the channel's result arrived
 * again: true).  False when nothing stands in the way any more.
 */
static bool
already_completed(int64 refund_id, int target)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(refund_id)};
	SPIPlanPtr	plan = saved_plan(&lock_plan,
								  "SELECT status FROM paycore.refunds WHERE id = $1 FOR UPDATE",
								  1, argtypes);
	bool		isnull;
	int			status;

	run_plan(plan, values, NULL, false, 0);
	if (SPI_processed == 0)
		ereport(ERROR,
				errcode(ERRCODE_NO_DATA_FOUND),
				errmsg("refund " INT64_FORMAT " not found", refund_id));
	status = status_from_datum(&refund_machine, result_value(0, 1, &isnull));
	if (status == target)
		return true;
	check_transition(&refund_machine, refund_id, status, target);
	return false;
}

/* SQL function: paycore.complete_refund(refund_id, succeeded, channel_refund_no) */
PG_FUNCTION_INFO_V1(paycore_complete_refund);
Datum
paycore_complete_refund(PG_FUNCTION_ARGS)
{
	text	   *channel_refund_no = PG_ARGISNULL(2) ? NULL :
		check_text("channel_refund_no", PG_GETARG_TEXT_PP(2), CHANNEL_REFUND_NO_MAX);
	int64		refund_id;
	int			target;
	bool		done = false;

	require_arg(fcinfo, 0, "refund_id");
	require_arg(fcinfo, 1, "succeeded");
	refund_id = PG_GETARG_INT64(0);
	target = PG_GETARG_BOOL(1) ? REFUND_SUCCEEDED : REFUND_FAILED;

	SPI_connect();
	for (int tries = 1; !done; tries++)
	{
		if (tries > API_MAX_TRIES)
			too_many_concurrent_changes("complete_refund");
		done = complete(refund_id, target, channel_refund_no) || already_completed(refund_id, target);
	}
	SPI_finish();
	return status_to_datum(&refund_machine, get_func_rettype(fcinfo->flinfo->fn_oid), target);
}
