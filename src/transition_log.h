#ifndef PAYCORE_TRANSITION_LOG_H
#define PAYCORE_TRANSITION_LOG_H

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"

/* What a merchant's webhook shows: the order, and for refund events the refund, as the change left them. */
typedef struct Webhook
{
	const char *event_type;
	int64		order_id;
	int64		merchant_id;
	const char *out_trade_no;
	int64		amount;
	const char *currency;
	const char *order_status;
	int64		refunded_amount;
	const char *channel_trade_no;	/* NULL when none */
	bool		paid;
	TimestampTz paid_at;
	bool		has_refund;
	int64		refund_id;
	const char *out_refund_no;
	int64		refund_amount;
	const char *refund_status;
} Webhook;

extern void log_transition(const char *entity, int64 id, const char *from_status, const char *to_status,
						   const char *detail_json, const Webhook *webhook);
extern void json_add_int64(StringInfo json, const char *key, int64 value);
extern void json_add_text(StringInfo json, const char *key, const char *value);

#endif
