#ifndef PAYCORE_SPI_UTIL_H
#define PAYCORE_SPI_UTIL_H

#include "executor/spi.h"

extern SPIPlanPtr saved_plan(SPIPlanPtr *cache, const char *sql, int nargs, Oid *argtypes);
extern int	run_plan(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long count);
extern Datum result_value(int row, int column, bool *isnull);

#endif
