/*
 * paycore's own SQLSTATEs.  Applications match on these codes, so they are
 * a public contract: add new ones, never renumber.
 */
#ifndef PAYCORE_ERRCODES_H
#define PAYCORE_ERRCODES_H

#include "utils/elog.h"

/* an order or refund may not move from its status to the one asked for */
#define ERRCODE_PAYCORE_ILLEGAL_TRANSITION	MAKE_SQLSTATE('P','C','0','0','1')
/* an idempotency key was reused with different parameters */
#define ERRCODE_PAYCORE_IDEMPOTENCY_CONFLICT	MAKE_SQLSTATE('P','C','0','0','2')
/* a refund would take more than the order's refundable amount */
#define ERRCODE_PAYCORE_REFUND_EXCEEDS	MAKE_SQLSTATE('P','C','0','0','3')
/* the channel's paid amount differs from the order amount */
#define ERRCODE_PAYCORE_AMOUNT_MISMATCH	MAKE_SQLSTATE('P','C','0','0','4')
/* a column that is fixed at insert was changed */
#define ERRCODE_PAYCORE_IMMUTABLE_COLUMN	MAKE_SQLSTATE('P','C','0','0','5')

#endif
