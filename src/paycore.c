/*
 * paycore: module entry point.  Each subsystem defines its own parameters;
 * this file only wires them up.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	paycore_guc_init();
	MarkGUCPrefixReserved("paycore");
}
