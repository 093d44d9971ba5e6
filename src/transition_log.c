/*
 * What a status change leaves behind, written in the changing transaction:
 * its row in paycore.audit_log and, for the outcomes merchants hear about,
 * its notification in the outbox (paycore.notifications), whose commit
 * wakes the worker.  Both rows go in with one statement.
 *
 * The webhook body is built here from the rows the trigger already has in
 * hand, rather than read back from the tables.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "notify.h"
#include "spi_util.h"
#include "transition_log.h"

#define EVENT_ID_BYTES		16
#define EVENT_ID_TIME_BYTES	6

static SPIPlanPtr audit_plan = NULL;
static SPIPlanPtr audit_and_notify_plan = NULL;

#define AUDIT_INSERT \
	"INSERT INTO paycore.audit_log (entity, entity_id, from_status, to_status, detail)" \
	" VALUES ($1, $2, $3, $4, $5::jsonb)"

/* Every webhook event type; notifications_consistent admits only these. */
static const char *const event_types[] = {
	"order.paid", "order.failed", "order.closed", "refund.succeeded", "refund.failed"
};

/*
 * SQL function: paycore._notification_consistent(event_type, status,
 * attempts, delivered_at), the notifications table's CHECK constraint
 * notifications_consistent: a known event type, attempts never below zero,
 * and delivered_at set exactly for delivered rows.  One C call rather than
 * three SQL expressions rebuilt for every payment and every worker pass.
 */
PG_FUNCTION_INFO_V1(paycore_notification_consistent);
Datum
paycore_notification_consistent(PG_FUNCTION_ARGS)
{
	char	   *type;
	bool		known = false;

	/* NOT NULL columns: their own constraints report a missing value */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_BOOL(true);
	type = text_to_cstring(PG_GETARG_TEXT_PP(0));
	for (int i = 0; i < (int) lengthof(event_types) && !known; i++)
		known = strcmp(type, event_types[i]) == 0;
	if (!known || PG_GETARG_INT32(2) < 0)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL((strcmp(DatumGetCString(DirectFunctionCall1(enum_out, PG_GETARG_DATUM(1))),
						   "delivered") == 0) == !PG_ARGISNULL(3));
}

/* Appends "key": value to a JSON object under construction ("{" already there). */
void
json_add_int64(StringInfo json, const char *key, int64 value)
{
	if (json->len > 1)
		appendStringInfoChar(json, ',');
	escape_json(json, key);
	appendStringInfo(json, ":" INT64_FORMAT, value);
}

void
json_add_text(StringInfo json, const char *key, const char *value)
{
	if (json->len > 1)
		appendStringInfoChar(json, ',');
	escape_json(json, key);
	appendStringInfoChar(json, ':');
	if (value == NULL)
		appendStringInfoString(json, "null");
	else
		escape_json(json, value);
}

/*
 * "evt_" and 32 hex digits: the time in milliseconds (12 digits), then 80
 * random bits.  Unguessable, unique in practice (the table's key makes
 * sure), and in the order they are made, so that the unique index on
 * event_id grows at its right edge like the primary key instead of taking
 * each new id, and each delivery's new row version, on a random page of an
 * index as large as the whole history.
 */
static char *
new_event_id(void)
{
	uint8		bytes[EVENT_ID_BYTES];
	uint64		millis = (uint64) (GetCurrentTimestamp() +
								   (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY) / 1000;
	char	   *id = palloc(4 + 2 * EVENT_ID_BYTES + 1);

	for (int i = 0; i < EVENT_ID_TIME_BYTES; i++)
		bytes[i] = (uint8) (millis >> (8 * (EVENT_ID_TIME_BYTES - 1 - i)));
	if (!pg_strong_random(bytes + EVENT_ID_TIME_BYTES, EVENT_ID_BYTES - EVENT_ID_TIME_BYTES))
		ereport(ERROR,
				errcode(ERRCODE_INTERNAL_ERROR),
				errmsg("could not generate a random event id"));
	memcpy(id, "evt_", 4);
	hex_encode((const char *) bytes, sizeof(bytes), id + 4);
	id[4 + 2 * EVENT_ID_BYTES] = '\0';
	return id;
}

/* {"id", "type", "created", "data": {"order": {...}[, "refund": {...}]}} */
static char *
webhook_body(const char *event_id, const Webhook *webhook)
{
	StringInfoData body;
	StringInfoData order;

	initStringInfo(&order);
	appendStringInfoChar(&order, '{');
	json_add_int64(&order, "id", webhook->order_id);
	json_add_text(&order, "out_trade_no", webhook->out_trade_no);
	json_add_int64(&order, "amount", webhook->amount);
	json_add_text(&order, "currency", webhook->currency);
	json_add_text(&order, "status", webhook->order_status);
	json_add_int64(&order, "refunded_amount", webhook->refunded_amount);
	json_add_text(&order, "channel_trade_no", webhook->channel_trade_no);
	json_add_text(&order, "paid_at", webhook->paid ?
				  JsonEncodeDateTime(NULL, TimestampTzGetDatum(webhook->paid_at), TIMESTAMPTZOID, NULL) : NULL);
	appendStringInfoChar(&order, '}');

	initStringInfo(&body);
	appendStringInfoChar(&body, '{');
	json_add_text(&body, "id", event_id);
	json_add_text(&body, "type", webhook->event_type);
	json_add_int64(&body, "created", (int64) timestamptz_to_time_t(GetCurrentTransactionStartTimestamp()));
	appendStringInfoString(&body, ",\"data\":{\"order\":");
	appendBinaryStringInfo(&body, order.data, order.len);
	if (webhook->has_refund)
	{
		StringInfoData refund;

		initStringInfo(&refund);
		appendStringInfoChar(&refund, '{');
		json_add_int64(&refund, "id", webhook->refund_id);
		json_add_text(&refund, "out_refund_no", webhook->out_refund_no);
		json_add_int64(&refund, "amount", webhook->refund_amount);
		json_add_text(&refund, "status", webhook->refund_status);
		appendStringInfoChar(&refund, '}');
		appendStringInfoString(&body, ",\"refund\":");
		appendBinaryStringInfo(&body, refund.data, refund.len);
	}
	appendStringInfoString(&body, "}}");
	return body.data;
}

void
log_transition(const char *entity, int64 id, const char *from_status, const char *to_status,
			   const char *detail_json, const Webhook *webhook)
{
	Oid			argtypes[9] = {TEXTOID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, TEXTOID, TEXTOID};
	Datum		values[9] = {
		CStringGetTextDatum(entity), Int64GetDatum(id), CStringGetTextDatum(from_status),
		CStringGetTextDatum(to_status), CStringGetTextDatum(detail_json)
	};
	SPIPlanPtr	plan;

	SPI_connect();
	if (webhook == NULL)
		plan = saved_plan(&audit_plan, AUDIT_INSERT, 5, argtypes);
	else
	{
		char	   *event_id = new_event_id();

		values[5] = CStringGetTextDatum(event_id);
		values[6] = Int64GetDatum(webhook->merchant_id);
		values[7] = CStringGetTextDatum(webhook->event_type);
		values[8] = CStringGetTextDatum(webhook_body(event_id, webhook));
		plan = saved_plan(&audit_and_notify_plan,
						  "WITH audit AS (" AUDIT_INSERT ")"
						  " INSERT INTO paycore.notifications (event_id, merchant_id, event_type, payload)"
						  " VALUES ($6, $7, $8, $9::jsonb)",
						  9, argtypes);
	}
	run_plan(plan, values, NULL, false, 0);
	SPI_finish();
	if (webhook != NULL)
		wake_worker_at_commit();
}
