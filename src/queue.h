#ifndef PAYCORE_QUEUE_H
#define PAYCORE_QUEUE_H

#include "lib/ilist.h"
#include "nodes/pg_list.h"
#include "utils/timestamp.h"

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

/*
 * Where the next claim starts in the due index, (next_attempt_at, id): past
 * the rows claimed before, so that draining a backlog does not step over
 * the index entries of the rows already sent, claim after claim.  The
 * worker starts it over whenever a claim finds less than it asked for, and
 * once a second, so rows it passed (a busy merchant's, a late commit's)
 * are found then.
 */
typedef struct ClaimCursor
{
	TimestampTz after_time;
	int64		after_id;
} ClaimCursor;

#define claim_cursor_reset(c) ((c)->after_time = DT_NOBEGIN, (c)->after_id = 0)

/* A claimed delivery that failed before any HTTP (http.error says why). */
#define delivery_unsendable(d) ((d)->http.headers == NULL)

extern bool queue_exists(void);
extern int	queue_claim(MemoryContext context, int limit, const int64 *busy_merchants, int nbusy,
						const int64 *in_flight_ids, int nin_flight, int rotation_grace_s,
						ClaimCursor *cursor, Delivery **claimed);
extern void queue_record(List *finished, const int64 *retry_schedule_ms, int nretries);
extern void queue_expire_orders(void);
extern void delivery_free(Delivery *delivery);

#endif
