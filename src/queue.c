/*
 * The outbox's consumer side, as saved SPI plans: claim due notifications,
 * record what happened to them, close expired orders.  Callers run each of
 * these in its own short transaction; no HTTP happens inside one.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "queue.h"
#include "signing.h"
#include "spi_util.h"

static SPIPlanPtr claim_plan = NULL;
static SPIPlanPtr record_plan = NULL;
static SPIPlanPtr expire_plan = NULL;

/*
 * Whether paycore is installed in the worker's database.  pg_extension has
 * no catalog cache, so it is read at most once a second; in between, the
 * schema (the extension's own, dropped with it) answers from the cache.
 */
bool
queue_exists(void)
{
	static bool installed = false;
	static TimestampTz checked_at = 0;
	TimestampTz now = GetCurrentTimestamp();

	if (!OidIsValid(get_namespace_oid("paycore", true)))
		installed = false;
	else if (!installed || TimestampDifferenceExceeds(checked_at, now, 1000))
	{
		installed = OidIsValid(get_extension_oid("paycore", true));
		checked_at = now;
	}
	return installed;
}

/*
 * Due notifications, oldest first, leaving out those already in flight and
 * those of merchants with all the slots they may have.  Only the one paycore
 * worker claims, and it knows what it has in flight, so a claim writes
 * nothing: no row lock, no lease, no new row version.  A row stays pending
 * until its result is recorded.
 */
static const char *claim_sql =
"SELECT n.id, n.merchant_id, n.attempts, n.event_id, n.payload::text, m.notify_url,"
"       m.signing_secret_encrypted,"
"       CASE WHEN m.secret_rotated_at > pg_catalog.now() - pg_catalog.make_interval(secs => $4)"
"            THEN m.previous_secret_encrypted END,"
"       n.next_attempt_at"
"  FROM paycore.notifications n JOIN paycore.merchants m ON m.id = n.merchant_id"
" WHERE n.status = 'pending' AND n.next_attempt_at <= pg_catalog.now()"
"   AND (n.next_attempt_at, n.id) > ($5, $6)"
"   AND n.id <> ALL ($3) AND n.merchant_id <> ALL ($2)"
" ORDER BY n.next_attempt_at, n.id"
" LIMIT $1";

/*
 * A merchant whose secret cannot be decrypted (a changed encryption key, a
 * damaged row) must not stop the queue: the error becomes that delivery's
 * failed attempt, and the other rows go on.  Only a decryption can fail
 * that way, so a merchant whose secrets the worker holds already is signed
 * without the subtransaction.
 */
static char *
sign_in_subtransaction(Delivery *delivery, bytea *secret, bytea *previous, int64 now_unix)
{
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	char	   *volatile signature = NULL;

	if (signing_secrets_cached(delivery->merchant_id, secret, previous))
		return signature_header(delivery->merchant_id, secret, previous, now_unix,
								delivery->http.body, delivery->http.body_len);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(context);
	PG_TRY();
	{
		signature = signature_header(delivery->merchant_id, secret, previous, now_unix,
									 delivery->http.body, delivery->http.body_len);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(context);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		snprintf(delivery->http.error, CURL_ERROR_SIZE, "could not sign the webhook: %s", edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(context);
	CurrentResourceOwner = owner;
	return signature;
}

static Delivery *
delivery_from_row(MemoryContext context, int row, int64 now_unix)
{
	bool		isnull;
	bool		previous_null;
	Delivery   *delivery = MemoryContextAllocZero(context, sizeof(Delivery));
	char	   *event_id = TextDatumGetCString(result_value(row, 4, &isnull));
	char	   *body = TextDatumGetCString(result_value(row, 5, &isnull));
	bytea	   *secret = DatumGetByteaPP(result_value(row, 7, &isnull));
	Datum		previous = result_value(row, 8, &previous_null);
	char	   *signature;

	delivery->notification_id = DatumGetInt64(result_value(row, 1, &isnull));
	delivery->merchant_id = DatumGetInt64(result_value(row, 2, &isnull));
	delivery->attempts = DatumGetInt32(result_value(row, 3, &isnull));
	delivery->http.url = MemoryContextStrdup(context, TextDatumGetCString(result_value(row, 6, &isnull)));
	delivery->http.body = MemoryContextStrdup(context, body);
	delivery->http.body_len = strlen(body);
	delivery->http.owner = delivery;
	signature = sign_in_subtransaction(delivery, secret,
									   previous_null ? NULL : DatumGetByteaPP(previous), now_unix);
	if (signature == NULL)
		return delivery;

	/* libcurl copies header strings into its list */
	delivery->http.headers = curl_slist_append(NULL, "Content-Type: application/json");
	delivery->http.headers = curl_slist_append(delivery->http.headers, psprintf("Paycore-Event-Id: %s", event_id));
	delivery->http.headers = curl_slist_append(delivery->http.headers, signature);
	/* no "Expect: 100-continue" round trip for larger bodies */
	delivery->http.headers = curl_slist_append(delivery->http.headers, "Expect:");
	if (delivery->http.headers == NULL)
		ereport(ERROR, errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory"));
	return delivery;
}

static Datum
array_of(Datum *elems, bool *nulls, int n, Oid type)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, type, typlen, typbyval, typalign));
}

static Datum
int8_array(const int64 *values, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		elems[i] = Int64GetDatum(values[i]);
	return array_of(elems, NULL, n, INT8OID);
}

/*
 * Claims up to limit due notifications after the cursor, except those in
 * flight and those of merchants in busy_merchants; the cursor moves past
 * the last one claimed.
 */
int
queue_claim(MemoryContext context, int limit, const int64 *busy_merchants, int nbusy,
			const int64 *in_flight_ids, int nin_flight, int rotation_grace_s,
			ClaimCursor *cursor, Delivery **claimed)
{
	Oid			argtypes[6] = {INT4OID, INT8ARRAYOID, INT8ARRAYOID, INT4OID, TIMESTAMPTZOID, INT8OID};
	Datum		values[6];
	bool		isnull;
	TimestampTz now = GetCurrentTimestamp();
	int64		now_unix = (now / USECS_PER_SEC) + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
	SPIPlanPtr	plan = saved_plan(&claim_plan, claim_sql, 6, argtypes);

	values[0] = Int32GetDatum(limit);
	values[1] = int8_array(busy_merchants, nbusy);
	values[2] = int8_array(in_flight_ids, nin_flight);
	values[3] = Int32GetDatum(rotation_grace_s);
	values[4] = TimestampTzGetDatum(cursor->after_time);
	values[5] = Int64GetDatum(cursor->after_id);
	run_plan(plan, values, NULL, false, 0);
	for (uint64 row = 0; row < SPI_processed; row++)
	{
		claimed[row] = delivery_from_row(context, row, now_unix);
		claimed[row]->attempted_at = now;
	}
	if (SPI_processed > 0)
	{
		cursor->after_time = DatumGetTimestampTz(result_value(SPI_processed - 1, 9, &isnull));
		cursor->after_id = claimed[SPI_processed - 1]->notification_id;
	}
	return SPI_processed;
}

/*
 * The outcome of each attempt: delivered on a 2xx, otherwise pending again
 * after the schedule's next wait, or dead when the schedule is used up.
 * The rows are found by id alone: they are pending (only this worker
 * changes pending rows), and a status test would match the due index's
 * predicate and tempt the planner into reading every pending row.
 */
static const char *record_sql =
"WITH result AS ("
"  SELECT * FROM ROWS FROM (pg_catalog.unnest($1::bigint[]), pg_catalog.unnest($2::integer[]),"
"                           pg_catalog.unnest($3::text[]), pg_catalog.unnest($4::double precision[]),"
"                           pg_catalog.unnest($5::timestamptz[]), pg_catalog.unnest($6::bigint[]))"
"         AS r(id, status_code, error, duration_ms, attempted_at, retry_ms)),"
" logged AS ("
"  INSERT INTO paycore.delivery_attempts (notification_id, attempted_at, status_code, error, duration_ms)"
"  SELECT id, attempted_at, status_code, error, duration_ms FROM result)"
" UPDATE paycore.notifications n"
"    SET attempts = n.attempts + 1,"
"        status = CASE WHEN r.error IS NULL THEN 'delivered'"
"                      WHEN r.retry_ms IS NULL THEN 'dead'"
"                      ELSE 'pending' END::paycore.notification_status,"
"        next_attempt_at = CASE WHEN r.error IS NOT NULL AND r.retry_ms IS NOT NULL"
"                               THEN pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => r.retry_ms / 1000.0)"
"                               ELSE n.next_attempt_at END,"
"        delivered_at = CASE WHEN r.error IS NULL THEN pg_catalog.clock_timestamp() END,"
"        last_status_code = r.status_code,"
"        last_error = r.error"
"   FROM result r"
"  WHERE n.id = r.id";


static bool
delivered(const Delivery *delivery)
{
	return delivery->http.error[0] == '\0' &&
		delivery->http.status_code >= 200 && delivery->http.status_code < 300;
}

void
queue_record(List *finished, const int64 *retry_schedule_ms, int nretries)
{
	int			ndone = list_length(finished);
	Oid			argtypes[6] = {INT8ARRAYOID, INT4ARRAYOID, TEXTARRAYOID, FLOAT8ARRAYOID,
	TIMESTAMPTZARRAYOID, INT8ARRAYOID};
	Datum		values[6];
	Datum	   *cols[6];
	bool	   *nulls[6];
	static const Oid elem_types[6] = {INT8OID, INT4OID, TEXTOID, FLOAT8OID, TIMESTAMPTZOID, INT8OID};

	for (int c = 0; c < 6; c++)
	{
		cols[c] = palloc(sizeof(Datum) * ndone);
		nulls[c] = palloc0(sizeof(bool) * ndone);
	}
	for (int i = 0; i < ndone; i++)
	{
		const Delivery *d = list_nth(finished, i);
		int			failures = d->attempts + 1;

		cols[0][i] = Int64GetDatum(d->notification_id);
		cols[1][i] = Int32GetDatum((int32) d->http.status_code);
		nulls[1][i] = d->http.status_code == 0;
		if (delivered(d))
			nulls[2][i] = true;
		else if (d->http.error[0] != '\0')
			cols[2][i] = CStringGetTextDatum(d->http.error);
		else
			cols[2][i] = CStringGetTextDatum(psprintf("HTTP status %ld", d->http.status_code));
		cols[3][i] = Float8GetDatum(d->http.duration_ms);
		cols[4][i] = TimestampTzGetDatum(d->attempted_at);
		cols[5][i] = Int64GetDatum(failures <= nretries ? retry_schedule_ms[failures - 1] : 0);
		nulls[5][i] = failures > nretries;
	}
	for (int c = 0; c < 6; c++)
		values[c] = array_of(cols[c], nulls[c], ndone, elem_types[c]);
	run_plan(saved_plan(&record_plan, record_sql, 6, argtypes), values, NULL, false, 0);
}

void
queue_expire_orders(void)
{
	run_plan(saved_plan(&expire_plan, "SELECT paycore.expire_orders()", 0, NULL),
			 NULL, NULL, false, 0);
}

void
delivery_free(Delivery *delivery)
{
	curl_slist_free_all(delivery->http.headers);
	pfree((char *) delivery->http.url);
	pfree((char *) delivery->http.body);
	pfree(delivery);
}
