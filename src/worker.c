/*
 * The webhook worker: drains paycore.notifications over HTTP.
 *
 * worker_spi's skeleton: SIGTERM ends it, SIGHUP reloads its settings, each
 * unit of work is a short transaction of its own, and it waits on its latch.
 * The wait also covers libcurl's sockets, so a commit that queued a
 * notification (src/notify.c sets the latch) is served at once, even while
 * other requests are in flight.  HTTP never runs inside a transaction.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "http.h"
#include "queue.h"
#include "retry_schedule.h"
#include "worker.h"
#include "worker_state.h"

PGDLLEXPORT void paycore_worker_main(Datum main_arg);

/* How often, at most, the worker looks for due retries and expired orders. */
#define POLL_INTERVAL_MS 1000

/*
 * Under a steady stream, a pass per commit would carry one row each and
 * spend most of its time starting and ending its transaction and
 * statements.  A pass that found less than it had room for is followed by
 * the next one no sooner than this, so that passes carry what arrived in
 * between: a few rows under load, and no delay at all for a commit that
 * comes after a quiet moment.
 */
#define MIN_PASS_INTERVAL_MS 2

static int64 retry_schedule_ms[RETRY_SCHEDULE_MAX];
static int	nretries = 0;
static dlist_head in_flight = DLIST_STATIC_INIT(in_flight);
static List *unsendable = NIL;	/* claimed, failed before HTTP, not yet recorded */
static MemoryContext delivery_context = NULL;
static TimestampTz last_expiry = 0;
static ClaimCursor claim_cursor = {DT_NOBEGIN, 0};
static TimestampTz claim_cursor_started = 0;

void
worker_register(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	/* never on a standby: it would only fail to write */
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 2;
	strlcpy(worker.bgw_library_name, "paycore", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "paycore_worker_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "paycore webhook worker", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "paycore worker", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

static void
apply_settings(void)
{
	char	   *problem = NULL;

	nretries = parse_retry_schedule(paycore_retry_schedule, retry_schedule_ms, &problem);
	if (nretries < 0)
		elog(ERROR, "paycore: invalid retry schedule accepted: %s", problem);
	http_configure(paycore_http_timeout_ms, paycore_max_concurrency);
}

static void
begin_work(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
}

static void
end_work(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * What is in flight: the notification ids, which the next claim leaves out,
 * and the merchants that hold their share of the slots.  A merchant whose
 * endpoint hangs may hold at most half of the slots, so that the others'
 * webhooks still flow while its requests time out.
 */
static int
in_flight_ids(int64 *ids, int64 *busy, int *nbusy)
{
	int			cap = Max(1, paycore_max_concurrency / 2);
	int64	   *merchants = palloc(sizeof(int64) * (http_in_flight() + 1));
	int			n = 0;
	dlist_iter	iter;

	dlist_foreach(iter, &in_flight)
	{
		Delivery   *d = dlist_container(Delivery, node, iter.cur);

		ids[n] = d->notification_id;
		merchants[n++] = d->merchant_id;
	}
	*nbusy = 0;
	for (int i = 0; i < n; i++)
	{
		int			count = 0;
		bool		listed = false;

		for (int j = 0; j < *nbusy && !listed; j++)
			listed = busy[j] == merchants[i];
		for (int j = 0; j < n && !listed; j++)
			count += merchants[j] == merchants[i];
		if (!listed && count >= cap)
			busy[(*nbusy)++] = merchants[i];
	}
	return n;
}

/* Deliveries whose attempt is over, to be recorded in this pass. */
static List *
take_finished(void)
{
	List	   *finished = unsendable;
	HttpRequest *request;

	unsendable = NIL;
	while ((request = http_take_done()) != NULL)
	{
		Delivery   *delivery = request->owner;

		dlist_delete(&delivery->node);
		finished = lappend(finished, delivery);
	}
	return finished;
}

/* True, and *since starts again, when POLL_INTERVAL_MS have passed since *since. */
static bool
poll_interval_passed(TimestampTz *since)
{
	TimestampTz now = GetCurrentTimestamp();

	if (!TimestampDifferenceExceeds(*since, now, POLL_INTERVAL_MS))
		return false;
	*since = now;
	return true;
}

/*
 * One short transaction a pass: record the attempts that ended, close
 * expired orders when a second has passed, and claim as many due
 * notifications as there are free slots.  Its commit need not wait for the
 * WAL flush (see paycore_worker_main).  Returns true when it filled every
 * free slot, so that more may be due right away; *had_work says whether it
 * had anything to do.
 */
static bool
run_pass(bool *had_work)
{
	List	   *finished = take_finished();
	int			free_slots = paycore_max_concurrency - http_in_flight();
	Delivery  **claimed = palloc(sizeof(Delivery *) * Max(free_slots, 1));
	int64	   *ids = palloc(sizeof(int64) * (http_in_flight() + 1));
	int64	   *busy = palloc(sizeof(int64) * (http_in_flight() + 1));
	int			nbusy;
	int			nids = in_flight_ids(ids, busy, &nbusy);
	int			nclaimed = 0;
	ListCell   *lc;

	begin_work("paycore: delivering webhooks");
	if (queue_exists())
	{
		if (finished != NIL)
			queue_record(finished, retry_schedule_ms, nretries);
		if (poll_interval_passed(&last_expiry))
			queue_expire_orders();
		if (poll_interval_passed(&claim_cursor_started))
			claim_cursor_reset(&claim_cursor);
		if (free_slots > 0)
			nclaimed = queue_claim(delivery_context, free_slots, busy, nbusy, ids, nids,
								   paycore_secret_rotation_grace_s, &claim_cursor, claimed);
		if (nclaimed < free_slots)
			claim_cursor_reset(&claim_cursor);
	}
	end_work();
	*had_work = finished != NIL || nclaimed > 0;

	foreach(lc, finished)
		delivery_free(lfirst(lc));
	list_free(finished);		/* it may hold last pass's unsendable ones */
	for (int i = 0; i < nclaimed; i++)
	{
		if (delivery_unsendable(claimed[i]))
		{
			/* recorded in the next pass, so the list must outlive this one */
			MemoryContext old = MemoryContextSwitchTo(delivery_context);

			unsendable = lappend(unsendable, claimed[i]);
			MemoryContextSwitchTo(old);
			continue;
		}
		dlist_push_tail(&in_flight, &claimed[i]->node);
		http_start(&claimed[i]->http);
	}
	return free_slots > 0 && nclaimed == free_slots;
}

/* A wait of at most timeout_ms that also ends when libcurl's next timer is due. */
static long
until_curl_timer(long timeout_ms)
{
	long		curl_ms = http_timeout_ms();

	return curl_ms >= 0 && curl_ms < timeout_ms ? curl_ms : timeout_ms;
}

/* Waits for the latch, a socket or the timeout; true if an event arrived. */
static bool
wait_for_work(MemoryContext pass_context, long timeout)
{
	WaitEventSet *set = CreateWaitEventSet(pass_context, http_socket_count() + 2);
	WaitEvent	events[64];
	int			nevents;

	AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	http_add_wait_events(set);
	nevents = WaitEventSetWait(set, timeout, events, lengthof(events), PG_WAIT_EXTENSION);
	for (int i = 0; i < nevents; i++)
	{
		if (events[i].events & WL_LATCH_SET)
			ResetLatch(MyLatch);
		else if (events[i].events & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE))
			http_socket_ready(events[i].fd, events[i].events);
	}
	FreeWaitEventSet(set);
	if (http_timeout_ms() == 0)
		http_timer_expired();
	return nevents > 0;
}

/*
 * Serves libcurl's sockets until "until"; true if anything happened that
 * the next pass should see.
 */
static bool
wait_until(MemoryContext pass_context, TimestampTz until)
{
	bool		woken = false;
	long		remaining_ms;

	/* libcurl's own timers (sending what was just started) do not wait */
	while ((remaining_ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until)) > 0)
		woken |= wait_for_work(pass_context, until_curl_timer(remaining_ms));
	return woken;
}

void
paycore_worker_main(Datum main_arg pg_attribute_unused())
{
	MemoryContext pass_context;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(paycore_database, NULL, 0);
	pgstat_report_appname("paycore worker");
	/*
	 * The worker's commits may be lost in a crash without harm: a result
	 * that did not reach the disk leaves its row pending, and the row is
	 * sent again (at least once).  Not waiting for the WAL flush keeps a
	 * pass short.
	 */
	SetConfigOption("synchronous_commit", "off", PGC_SUSET, PGC_S_OVERRIDE);

	worker_state_attach();
	http_init();
	apply_settings();
	delivery_context = AllocSetContextCreate(TopMemoryContext, "paycore deliveries",
											 ALLOCSET_DEFAULT_SIZES);
	pass_context = AllocSetContextCreate(TopMemoryContext, "paycore worker pass",
										 ALLOCSET_DEFAULT_SIZES);
	elog(LOG, "paycore worker started for database \"%s\"", paycore_database);

	for (;;)
	{
		bool		more_due;
		bool		had_work;
		TimestampTz pass_start;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			apply_settings();
		}
		MemoryContextReset(pass_context);
		MemoryContextSwitchTo(pass_context);

		pass_start = GetCurrentTimestamp();
		more_due = run_pass(&had_work);
		worker_state_set_in_flight(http_in_flight());
		if (had_work && !more_due &&
			wait_until(pass_context, TimestampTzPlusMilliseconds(pass_start, MIN_PASS_INTERVAL_MS)))
			continue;
		wait_for_work(pass_context, until_curl_timer(more_due ? 0 : POLL_INTERVAL_MS));
	}
}
