/*
 * paycore.audit_log: one row per state change, written by the transition
 * triggers in the same transaction as the change.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "audit.h"
#include "spi_util.h"

static SPIPlanPtr insert_plan = NULL;

void
audit_transition(const char *entity, int64 id, const char *from_status,
				 const char *to_status, const char *detail_json)
{
	Oid			argtypes[5] = {TEXTOID, INT8OID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[5] = {
		CStringGetTextDatum(entity),
		Int64GetDatum(id),
		CStringGetTextDatum(from_status),
		CStringGetTextDatum(to_status),
		CStringGetTextDatum(detail_json)
	};
	SPIPlanPtr	plan;

	SPI_connect();
	plan = saved_plan(&insert_plan,
					  "INSERT INTO paycore.audit_log (entity, entity_id, from_status, to_status, detail)"
					  " VALUES ($1, $2, $3, $4, $5::jsonb)",
					  5, argtypes);
	run_plan(plan, values, NULL, false, 0);
	SPI_finish();
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
