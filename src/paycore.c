/*
 * paycore: module entry point.  Each subsystem defines its own parameters;
 * this file only wires them up.  The webhook worker and its shared memory
 * exist only when paycore is in shared_preload_libraries.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "guc.h"
#include "notify.h"
#include "worker.h"
#include "worker_state.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	paycore_guc_init();
	MarkGUCPrefixReserved("paycore");
	notify_init();
	if (process_shared_preload_libraries_in_progress)
	{
		worker_state_request();
		worker_register();
	}
}
