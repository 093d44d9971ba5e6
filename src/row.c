/*
 * Column access by name for the triggers, so that the rules read like the
 * table definitions they protect.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "errcodes.h"
#include "row.h"

int
row_attnum(Relation rel, const char *column)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);

	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), column) == 0)
			return att->attnum;
	}
	elog(ERROR, "paycore: table \"%s\" has no column \"%s\"", RelationGetRelationName(rel), column);
	pg_unreachable();
}

Datum
row_get(Relation rel, HeapTuple tuple, const char *column, bool *isnull)
{
	return heap_getattr(tuple, row_attnum(rel, column), RelationGetDescr(rel), isnull);
}

/* For columns declared NOT NULL. */
int64
row_get_int64(Relation rel, HeapTuple tuple, const char *column)
{
	bool		isnull;
	Datum		value = row_get(rel, tuple, column, &isnull);

	if (isnull)
		elog(ERROR, "paycore: column \"%s\" is null", column);
	return DatumGetInt64(value);
}

static bool
column_changed(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple, int attnum)
{
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
	bool		old_null;
	bool		new_null;
	Datum		old_value = heap_getattr(old_tuple, attnum, RelationGetDescr(rel), &old_null);
	Datum		new_value = heap_getattr(new_tuple, attnum, RelationGetDescr(rel), &new_null);

	if (old_null != new_null)
		return true;
	return !old_null && !datum_image_eq(old_value, new_value, att->attbyval, att->attlen);
}

/* Columns fixed at insert: any change is PC005, whoever makes it. */
void
reject_changed_columns(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple,
					   const char *entity, const char *const *columns, int ncolumns)
{
	for (int i = 0; i < ncolumns; i++)
	{
		if (!column_changed(rel, old_tuple, new_tuple, row_attnum(rel, columns[i])))
			continue;
		ereport(ERROR,
				errcode(ERRCODE_PAYCORE_IMMUTABLE_COLUMN),
				errmsg("column \"%s\" of paycore.%s cannot be changed", columns[i],
					   RelationGetRelationName(rel)),
				errdetail("The %s's %s is fixed when the %s is created.", entity, columns[i], entity),
				errhint("Create a new %s instead.", entity));
	}
}

/* Did any column change, other than the ignored ones? */
bool
row_changed_except(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple,
				   const char *const *ignored, int nignored)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);

	for (int attnum = 1; attnum <= tupdesc->natts; attnum++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, attnum - 1);
		bool		skip = att->attisdropped;

		for (int i = 0; i < nignored && !skip; i++)
			skip = strcmp(NameStr(att->attname), ignored[i]) == 0;
		if (!skip && column_changed(rel, old_tuple, new_tuple, attnum))
			return true;
	}
	return false;
}

HeapTuple
row_set(Relation rel, HeapTuple tuple, const char *column, Datum value, bool isnull)
{
	int			attnum = row_attnum(rel, column);

	return heap_modify_tuple_by_cols(tuple, RelationGetDescr(rel), 1, &attnum, &value, &isnull);
}
