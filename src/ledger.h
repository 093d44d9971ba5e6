#ifndef PAYCORE_LEDGER_H
#define PAYCORE_LEDGER_H

#include "datatype/timestamp.h"

/* The money facts of an order, read under its row lock, and what a webhook shows of the order. */
typedef struct OrderMoney
{
	int64		id;
	int64		merchant_id;
	int64		amount;
	int64		refunded_amount;
	int			status;			/* OrderStatus */
	char	   *out_trade_no;
	char	   *currency;
	char	   *channel_trade_no;	/* NULL when none */
	bool		paid;
	TimestampTz paid_at;
} OrderMoney;

typedef struct RefundSums
{
	int64		pending;
	int64		succeeded;
} RefundSums;

extern int64 ledger_order_merchant(int64 order_id);
extern void ledger_lock_order(int64 order_id, OrderMoney *order);
extern void ledger_settle(int64 order_id, int64 amount, bool succeeded, OrderMoney *order);
extern void ledger_refund_sums(int64 order_id, RefundSums *sums);
extern void ledger_store(const OrderMoney *order, int64 pending_refund_amount);

#endif
