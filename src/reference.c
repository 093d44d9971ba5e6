/*
 * Look-ups by primary key, straight through the index, of the rows a new
 * order names: its merchant, currency, payment method and user.
 * create_order asks before its INSERT.  A probe through the index costs a
 * fraction of the executor nodes a subquery needs, even in a saved plan,
 * and these run on every payment.  They see what a statement starting now
 * would see; the foreign keys, checked at COMMIT, have the last word.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "reference.h"

/*
 * Whether paycore.<table> has a row, visible to snapshot, whose one-column
 * primary key equals key; with flag_column, also whether that boolean
 * column of the row is true.
 */
bool
reference_exists(const char *table, Datum key, const char *flag_column, Snapshot snapshot)
{
	Oid			relid = get_relname_relid(table, get_namespace_oid("paycore", false));
	Relation	rel;
	Relation	index;
	Oid			keytype;
	ScanKeyData skey;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	bool		found;

	if (!OidIsValid(relid))
		elog(ERROR, "paycore: relation paycore.%s does not exist", table);
	rel = table_open(relid, AccessShareLock);
	index = index_open(RelationGetPrimaryKeyIndex(rel), AccessShareLock);
	keytype = index->rd_opcintype[0];
	ScanKeyEntryInitialize(&skey, 0, 1, BTEqualStrategyNumber, keytype, index->rd_indcollation[0],
						   get_opcode(get_opfamily_member(index->rd_opfamily[0], keytype, keytype,
														  BTEqualStrategyNumber)),
						   key);

	scan = index_beginscan(rel, index, snapshot, 1, 0);
	index_rescan(scan, &skey, 1, NULL, 0);
	slot = table_slot_create(rel, NULL);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found && flag_column != NULL)
	{
		bool		isnull;
		Datum		flag = slot_getattr(slot, get_attnum(relid, flag_column), &isnull);

		found = !isnull && DatumGetBool(flag);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, NoLock);
	table_close(rel, NoLock);
	return found;
}
