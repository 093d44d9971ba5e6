#ifndef PAYCORE_ORDER_RULES_H
#define PAYCORE_ORDER_RULES_H

#include "access/htup.h"
#include "utils/rel.h"

extern HeapTuple check_order_update(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple);
extern void record_order_change(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple);

#endif
