#ifndef PAYCORE_ROW_H
#define PAYCORE_ROW_H

#include "access/htup.h"
#include "utils/rel.h"

extern int	row_attnum(Relation rel, const char *column);
extern Datum row_get(Relation rel, HeapTuple tuple, const char *column, bool *isnull);
extern int64 row_get_int64(Relation rel, HeapTuple tuple, const char *column);
extern void reject_changed_columns(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple,
								   const char *entity, const char *const *columns, int ncolumns);
extern bool row_changed_except(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple,
							   const char *const *ignored, int nignored);
extern HeapTuple row_set(Relation rel, HeapTuple tuple, const char *column, Datum value, bool isnull);

#endif
