#ifndef PAYCORE_ORDER_RULES_H
#define PAYCORE_ORDER_RULES_H

#include "access/htup.h"
#include "utils/rel.h"

/* Longest subject and channel trade number, in characters. */
#define SUBJECT_MAX				256
#define CHANNEL_TRADE_NO_MAX	128

extern HeapTuple check_order_update(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple);
extern void record_order_change(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple);

#endif
