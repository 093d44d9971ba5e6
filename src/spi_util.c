/*
 * Saved SPI plans: each query is planned once per backend and kept for the
 * session, so the triggers on the payment path never re-parse SQL.  Also
 * the API's way of running them: one statement first, and a look at why
 * when it wrote nothing, a bounded number of times.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "nodes/parsenodes.h"

#include "spi_util.h"

SPIPlanPtr
saved_plan(SPIPlanPtr *cache, const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan;

	if (*cache != NULL)
		return *cache;
	/*
	 * Generic plans: these queries look rows up by key, and re-planning them
	 * for each call's parameters cost more than running them.
	 */
	plan = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);
	if (plan == NULL)
		elog(ERROR, "paycore: SPI_prepare failed for \"%s\": %s",
			 sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "paycore: SPI_keepplan failed");
	*cache = plan;
	return plan;
}

/* Runs a saved plan; any SPI failure is an internal error, not the user's. */
int
run_plan(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long count)
{
	int			rc = SPI_execute_plan(plan, values, nulls, read_only, count);

	if (rc < 0)
		elog(ERROR, "paycore: SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return rc;
}

Datum
result_value(int row, int column, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, isnull);
}

void
too_many_concurrent_changes(const char *function)
{
	ereport(ERROR,
			errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			errmsg("could not complete paycore.%s under concurrent changes", function),
			errhint("Retry the call."));
	pg_unreachable();
}

/*
 * The id of the row a request made, or of the one an earlier request with
 * its key made: insert returns 0 when it wrote nothing, and existing then
 * finds the earlier row, raises the request's error, or returns 0 when
 * the reason went away and the INSERT is worth another try.
 */
int64
insert_or_existing(const char *function, int64 (*insert) (const void *request),
				   int64 (*existing) (const void *request), const void *request)
{
	for (int tries = 1; tries <= API_MAX_TRIES; tries++)
	{
		int64		id = insert(request);

		if (id == 0)
			id = existing(request);
		if (id != 0)
			return id;
	}
	too_many_concurrent_changes(function);
}
