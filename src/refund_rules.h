#ifndef PAYCORE_REFUND_RULES_H
#define PAYCORE_REFUND_RULES_H

#include "access/htup.h"
#include "utils/rel.h"

extern HeapTuple reserve_refund(Relation rel, HeapTuple tuple, bool stored);
extern HeapTuple fill_refund_merchant(Relation rel, HeapTuple tuple);
extern HeapTuple check_refund_update(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple);
extern void settle_refund(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple);

#endif
