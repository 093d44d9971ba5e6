#ifndef PAYCORE_REFUND_RULES_H
#define PAYCORE_REFUND_RULES_H

#include "access/htup.h"
#include "utils/rel.h"

/* Longest reason and channel refund number, in characters. */
#define REFUND_REASON_MAX			256
#define CHANNEL_REFUND_NO_MAX		128

extern bool is_refund_method(const char *method);
extern HeapTuple reserve_refund(Relation rel, HeapTuple tuple, bool stored);
extern HeapTuple fill_refund_merchant(Relation rel, HeapTuple tuple);
extern HeapTuple check_refund_update(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple);
extern void settle_refund(Relation rel, HeapTuple old_tuple, HeapTuple new_tuple);

#endif
