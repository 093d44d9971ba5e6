/*
 * The order and refund state machines: the one place that says which status
 * may follow which.  Triggers, API functions and the documentation view all
 * read these tables.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "errcodes.h"
#include "state_machine.h"

static const char *const order_labels[ORDER_STATUS_COUNT] = {
	"pending", "processing", "paid", "failed", "closed",
	"partially_refunded", "refunded"
};

/*
 * A status that stays the same is not a transition: a partially refunded
 * order stays so while further partial refunds succeed.
 */
static const int order_transitions[][2] = {
	{ORDER_PENDING, ORDER_PROCESSING},
	{ORDER_PENDING, ORDER_PAID},
	{ORDER_PENDING, ORDER_FAILED},
	{ORDER_PENDING, ORDER_CLOSED},
	{ORDER_PROCESSING, ORDER_PAID},
	{ORDER_PROCESSING, ORDER_FAILED},
	{ORDER_PROCESSING, ORDER_CLOSED},
	{ORDER_PAID, ORDER_PARTIALLY_REFUNDED},
	{ORDER_PAID, ORDER_REFUNDED},
	{ORDER_PARTIALLY_REFUNDED, ORDER_REFUNDED},
};

static const char *const refund_labels[REFUND_STATUS_COUNT] = {
	"pending", "succeeded", "failed"
};

static const int refund_transitions[][2] = {
	{REFUND_PENDING, REFUND_SUCCEEDED},
	{REFUND_PENDING, REFUND_FAILED},
};

const StateMachine order_machine = {
	"order", "order_status", ORDER_STATUS_COUNT, order_labels,
	lengthof(order_transitions), order_transitions
};

const StateMachine refund_machine = {
	"refund", "refund_status", REFUND_STATUS_COUNT, refund_labels,
	lengthof(refund_transitions), refund_transitions
};

int
status_from_datum(const StateMachine *machine, Datum value)
{
	char	   *label = DatumGetCString(DirectFunctionCall1(enum_out, value));

	for (int i = 0; i < machine->nstates; i++)
	{
		if (strcmp(label, machine->labels[i]) == 0)
			return i;
	}
	elog(ERROR, "paycore: unknown %s status \"%s\"", machine->entity, label);
	pg_unreachable();
}

Datum
status_to_datum(const StateMachine *machine, Oid enum_type, int status)
{
	Assert(status >= 0 && status < machine->nstates);
	return DirectFunctionCall2(enum_in,
							   CStringGetDatum(machine->labels[status]),
							   ObjectIdGetDatum(enum_type));
}

bool
transition_allowed(const StateMachine *machine, int from, int to)
{
	for (int i = 0; i < machine->ntransitions; i++)
	{
		if (machine->transitions[i][0] == from && machine->transitions[i][1] == to)
			return true;
	}
	return false;
}

/* The labels of the statuses that may move to "to", as a text[]. */
Datum
statuses_leading_to(const StateMachine *machine, int to)
{
	Datum	   *labels = palloc(sizeof(Datum) * machine->ntransitions);
	int			n = 0;

	for (int i = 0; i < machine->ntransitions; i++)
	{
		if (machine->transitions[i][1] == to)
			labels[n++] = CStringGetTextDatum(machine->labels[machine->transitions[i][0]]);
	}
	return PointerGetDatum(construct_array(labels, n, TEXTOID, -1, false, TYPALIGN_INT));
}

void
check_transition(const StateMachine *machine, int64 id, int from, int to)
{
	if (transition_allowed(machine, from, to))
		return;
	ereport(ERROR,
			errcode(ERRCODE_PAYCORE_ILLEGAL_TRANSITION),
			errmsg("illegal %s status transition", machine->entity),
			errdetail("%c%s " INT64_FORMAT " cannot move from %s to %s.",
					  pg_toupper((unsigned char) machine->entity[0]), machine->entity + 1,
					  id, machine->labels[from], machine->labels[to]),
			errhint("See paycore.%s_transitions() for the allowed moves.", machine->entity));
}

static void
transitions_srf(FunctionCallInfo fcinfo, const StateMachine *machine)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			enum_type;

	InitMaterializedSRF(fcinfo, 0);
	enum_type = TupleDescAttr(rsinfo->setDesc, 0)->atttypid;
	for (int i = 0; i < machine->ntransitions; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = status_to_datum(machine, enum_type, machine->transitions[i][0]);
		values[1] = status_to_datum(machine, enum_type, machine->transitions[i][1]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* SQL function: paycore.order_transitions() */
PG_FUNCTION_INFO_V1(paycore_order_transitions);
Datum
paycore_order_transitions(PG_FUNCTION_ARGS)
{
	transitions_srf(fcinfo, &order_machine);
	return (Datum) 0;
}

/* SQL function: paycore.refund_transitions() */
PG_FUNCTION_INFO_V1(paycore_refund_transitions);
Datum
paycore_refund_transitions(PG_FUNCTION_ARGS)
{
	transitions_srf(fcinfo, &refund_machine);
	return (Datum) 0;
}

/*
 * Lets the API refuse a move before writing anything, including a move to
 * the status the row already has, which the UPDATE trigger does not see as a
 * transition.
 */
static void
check_transition_args(FunctionCallInfo fcinfo, const StateMachine *machine)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		elog(ERROR, "paycore: transition check called with a null argument");
	check_transition(machine, PG_GETARG_INT64(0),
					 status_from_datum(machine, PG_GETARG_DATUM(1)),
					 status_from_datum(machine, PG_GETARG_DATUM(2)));
}

/* SQL function: paycore._check_order_transition(bigint, order_status, order_status) */
PG_FUNCTION_INFO_V1(paycore_check_order_transition);
Datum
paycore_check_order_transition(PG_FUNCTION_ARGS)
{
	check_transition_args(fcinfo, &order_machine);
	PG_RETURN_VOID();
}

/*
 * SQL function: paycore._check_refund_transition(bigint, refund_status,
 * refund_status), of version 1.0 (1.1 checks in C and drops it): kept so
 * that 1.0 still installs.
 */
PG_FUNCTION_INFO_V1(paycore_check_refund_transition);
Datum
paycore_check_refund_transition(PG_FUNCTION_ARGS)
{
	check_transition_args(fcinfo, &refund_machine);
	PG_RETURN_VOID();
}
