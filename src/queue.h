#ifndef PAYCORE_QUEUE_H
#define PAYCORE_QUEUE_H

#include "lib/ilist.h"
#include "nodes/pg_list.h"

#include "http.h"

/* A notification on its way to the merchant. */
typedef struct Delivery
{
	HttpRequest http;
	dlist_node	node;
	int64		notification_id;
	int64		merchant_id;
	int32		attempts;		/* failed attempts before this one */
	TimestampTz attempted_at;
} Delivery;

/* A claimed delivery that failed before any HTTP (http.error says why). */
#define delivery_unsendable(d) ((d)->http.headers == NULL)

extern bool queue_exists(void);
extern int	queue_claim(MemoryContext context, int limit, const int64 *busy_merchants, int nbusy,
						const int64 *in_flight_ids, int nin_flight, int rotation_grace_s,
						Delivery **claimed);
extern void queue_record(List *finished, const int64 *retry_schedule_ms, int nretries);
extern void queue_expire_orders(void);
extern void delivery_free(Delivery *delivery);

#endif
