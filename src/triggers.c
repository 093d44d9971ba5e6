/*
 * Trigger entry points: each decodes its TriggerData and hands the rows to
 * the rules in order_rules.c and refund_rules.c.
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "fmgr.h"

#include "order_rules.h"
#include "refund_rules.h"

static TriggerData *
row_trigger_data(FunctionCallInfo fcinfo, const char *name)
{
	TriggerData *trigdata;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "paycore: %s was not called as a trigger", name);
	trigdata = (TriggerData *) fcinfo->context;
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "paycore: %s must be a row trigger", name);
	return trigdata;
}

/* SQL function: paycore._orders_guard() -- BEFORE UPDATE ON paycore.orders */
PG_FUNCTION_INFO_V1(paycore_orders_guard);
Datum
paycore_orders_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = row_trigger_data(fcinfo, "paycore_orders_guard");

	return PointerGetDatum(check_order_update(td->tg_relation, td->tg_trigtuple, td->tg_newtuple));
}

/* SQL function: paycore._orders_changed() -- AFTER UPDATE ON paycore.orders */
PG_FUNCTION_INFO_V1(paycore_orders_changed);
Datum
paycore_orders_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = row_trigger_data(fcinfo, "paycore_orders_changed");

	record_order_change(td->tg_relation, td->tg_trigtuple, td->tg_newtuple);
	return PointerGetDatum(NULL);
}

/* SQL function: paycore._refunds_merchant() -- BEFORE INSERT ON paycore.refunds */
PG_FUNCTION_INFO_V1(paycore_refunds_merchant);
Datum
paycore_refunds_merchant(PG_FUNCTION_ARGS)
{
	TriggerData *td = row_trigger_data(fcinfo, "paycore_refunds_merchant");

	return PointerGetDatum(fill_refund_merchant(td->tg_relation, td->tg_trigtuple));
}

/* SQL function: paycore._refunds_reserve() -- AFTER INSERT ON paycore.refunds (BEFORE in 1.0) */
PG_FUNCTION_INFO_V1(paycore_refunds_reserve);
Datum
paycore_refunds_reserve(PG_FUNCTION_ARGS)
{
	TriggerData *td = row_trigger_data(fcinfo, "paycore_refunds_reserve");

	return PointerGetDatum(reserve_refund(td->tg_relation, td->tg_trigtuple,
										  TRIGGER_FIRED_AFTER(td->tg_event)));
}

/* SQL function: paycore._refunds_guard() -- BEFORE UPDATE ON paycore.refunds */
PG_FUNCTION_INFO_V1(paycore_refunds_guard);
Datum
paycore_refunds_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = row_trigger_data(fcinfo, "paycore_refunds_guard");

	return PointerGetDatum(check_refund_update(td->tg_relation, td->tg_trigtuple, td->tg_newtuple));
}

/* SQL function: paycore._refunds_changed() -- AFTER UPDATE ON paycore.refunds */
PG_FUNCTION_INFO_V1(paycore_refunds_changed);
Datum
paycore_refunds_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = row_trigger_data(fcinfo, "paycore_refunds_changed");

	settle_refund(td->tg_relation, td->tg_trigtuple, td->tg_newtuple);
	return PointerGetDatum(NULL);
}

/* SQL function: paycore._append_only() -- UPDATE, DELETE, TRUNCATE ON paycore.audit_log */
PG_FUNCTION_INFO_V1(paycore_append_only);
Datum
paycore_append_only(PG_FUNCTION_ARGS)
{
	TriggerData *td;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "paycore: paycore_append_only was not called as a trigger");
	td = (TriggerData *) fcinfo->context;
	ereport(ERROR,
			errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("paycore.%s is append-only", RelationGetRelationName(td->tg_relation)),
			errdetail("Rows of an audit trail are never changed or removed."),
			errhint("Keep the history; archive it with pg_dump if it grows too large."));
	pg_unreachable();
}
