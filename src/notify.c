/*
 * The outbox's producer side: a transaction that wrote a notification (see
 * transition_log.c) wakes the worker when it commits, so a webhook leaves
 * within milliseconds rather than at the next poll.
 */
#include "postgres.h"

#include "access/xact.h"

#include "notify.h"
#include "worker_state.h"

static bool wake_at_commit = false;

static void
wake_on_commit(XactEvent event, void *arg pg_attribute_unused())
{
	if (event == XACT_EVENT_COMMIT && wake_at_commit)
		wake_worker();
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE)
		wake_at_commit = false;
}

void
notify_init(void)
{
	RegisterXactCallback(wake_on_commit, NULL);
}

/* The transaction has written a notification: its commit wakes the worker. */
void
wake_worker_at_commit(void)
{
	wake_at_commit = true;
}
