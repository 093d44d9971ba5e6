#ifndef PAYCORE_SPI_UTIL_H
#define PAYCORE_SPI_UTIL_H

#include "executor/spi.h"

/*
 * The API's calls try their one statement, and when it writes nothing, look
 * why; a concurrent change can take the reason away in between.  Each pass
 * sees the others' commits, so a second try settles it; this many is proof
 * of something else.
 */
#define API_MAX_TRIES	3

extern void too_many_concurrent_changes(const char *function) pg_attribute_noreturn();
extern int64 insert_or_existing(const char *function, int64 (*insert) (const void *request),
								int64 (*existing) (const void *request), const void *request);
extern SPIPlanPtr saved_plan(SPIPlanPtr *cache, const char *sql, int nargs, Oid *argtypes);
extern int	run_plan(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long count);
extern Datum result_value(int row, int column, bool *isnull);

#endif
