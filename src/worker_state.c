/*
 * What the webhook worker shares with the backends: its latch, so that a
 * commit that queued a notification can wake it at once, and a few figures
 * for paycore.worker_status.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"

#include "worker_state.h"

typedef struct WorkerState
{
	slock_t		mutex;
	pid_t		pid;			/* 0 while no worker runs */
	Oid			database;		/* the database it serves */
	Latch	   *latch;
	int			in_flight;
} WorkerState;

/* Set by _PG_init when paycore is in shared_preload_libraries. */
bool		paycore_preloaded = false;

static WorkerState *state = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
request_shmem(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(WorkerState)));
}

static void
startup_shmem(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	state = ShmemInitStruct("paycore worker", sizeof(WorkerState), &found);
	if (!found)
	{
		SpinLockInit(&state->mutex);
		state->pid = 0;
		state->database = InvalidOid;
		state->latch = NULL;
		state->in_flight = 0;
	}
	LWLockRelease(AddinShmemInitLock);
}

void
worker_state_request(void)
{
	paycore_preloaded = true;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = request_shmem;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = startup_shmem;
}

static void
detach(int code pg_attribute_unused(), Datum arg pg_attribute_unused())
{
	SpinLockAcquire(&state->mutex);
	state->pid = 0;
	state->database = InvalidOid;
	state->latch = NULL;
	state->in_flight = 0;
	SpinLockRelease(&state->mutex);
}

void
worker_state_attach(void)
{
	SpinLockAcquire(&state->mutex);
	state->pid = MyProcPid;
	state->database = MyDatabaseId;
	state->latch = MyLatch;
	state->in_flight = 0;
	SpinLockRelease(&state->mutex);
	on_shmem_exit(detach, (Datum) 0);
}

void
worker_state_set_in_flight(int in_flight)
{
	SpinLockAcquire(&state->mutex);
	state->in_flight = in_flight;
	SpinLockRelease(&state->mutex);
}

void
wake_worker(void)
{
	Latch	   *latch = NULL;

	if (state == NULL)
		return;
	SpinLockAcquire(&state->mutex);
	/* commits in databases the worker does not serve are none of its business */
	if (state->database == MyDatabaseId)
		latch = state->latch;
	SpinLockRelease(&state->mutex);
	if (latch)
		SetLatch(latch);
}

/* SQL function: paycore._worker_status() -- behind the view paycore.worker_status */
PG_FUNCTION_INFO_V1(paycore_worker_status);
Datum
paycore_worker_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[3] = {0};
	bool		nulls[3] = {false, true, true};
	pid_t		pid = 0;
	int			in_flight = 0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "paycore: return type must be a row type");
	if (state != NULL)
	{
		SpinLockAcquire(&state->mutex);
		pid = state->pid;
		in_flight = state->in_flight;
		SpinLockRelease(&state->mutex);
	}
	values[0] = BoolGetDatum(pid != 0);
	if (pid != 0)
	{
		values[1] = Int32GetDatum(pid);
		values[2] = Int32GetDatum(in_flight);
		nulls[1] = nulls[2] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/* SQL function: paycore._worker_preloaded() -- is the worker registered at all? */
PG_FUNCTION_INFO_V1(paycore_worker_preloaded);
Datum
paycore_worker_preloaded(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(paycore_preloaded);
}
