/*
 * paycore's configuration parameters.
 *
 * Everything that weakens credentials or exposes the key is superuser-only:
 * an application role must not be able to lower the bcrypt cost for its own
 * session or read the encryption key.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"

#include "guc.h"
#include "retry_schedule.h"

int			paycore_bcrypt_cost = 10;
int			paycore_max_failed_logins = 5;
int			paycore_lockout_duration_s = 30 * 60;
char	   *paycore_encryption_key = NULL;
char	   *paycore_database = NULL;
int			paycore_http_timeout_ms = 10000;
char	   *paycore_retry_schedule = NULL;
int			paycore_max_concurrency = 32;
int			paycore_secret_rotation_grace_s = 24 * 60 * 60;

#define DEFAULT_RETRY_SCHEDULE "15s,15s,30s,3min,10min,20min,30min,30min,30min,1h,3h,3h,3h,6h,6h"

static bool
check_retry_schedule(char **newval, void **extra pg_attribute_unused(), GucSource source pg_attribute_unused())
{
	char	   *problem = NULL;

	if (parse_retry_schedule(*newval, NULL, &problem) >= 0)
		return true;
	GUC_check_errdetail("%s", problem);
	GUC_check_errhint("Use a comma list of intervals such as \"15s,1min,1h\" (units ms, s, min, h, d).");
	return false;
}

void
paycore_guc_init(void)
{
	DefineCustomIntVariable("paycore.bcrypt_cost",
							"bcrypt cost factor for new password hashes.",
							"Each step doubles the time of a hash and of a login.",
							&paycore_bcrypt_cost,
							10, 4, 31,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("paycore.max_failed_logins",
							"Consecutive failed logins that lock an account.",
							NULL,
							&paycore_max_failed_logins,
							5, 1, 1000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("paycore.lockout_duration",
							"How long an account stays locked after too many failed logins.",
							NULL,
							&paycore_lockout_duration_s,
							30 * 60, 1, 7 * 24 * 60 * 60,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomStringVariable("paycore.encryption_key",
							   "Key that encrypts card numbers and signing secrets.",
							   "Set it in postgresql.conf; losing it makes the stored ciphertexts unreadable.",
							   &paycore_encryption_key,
							   NULL,
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);

	/* only the postmaster may define it, and only a preloaded worker reads it */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomStringVariable("paycore.database",
								   "Database whose webhook outbox the paycore worker drains.",
								   NULL,
								   &paycore_database,
								   "postgres",
								   PGC_POSTMASTER, GUC_SUPERUSER_ONLY,
								   NULL, NULL, NULL);

	DefineCustomIntVariable("paycore.http_timeout_ms",
							"Time a merchant has to answer a webhook with 2xx.",
							NULL,
							&paycore_http_timeout_ms,
							10000, 100, 120000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomStringVariable("paycore.retry_schedule",
							   "Waits between failed webhook attempts; after the last one a notification is dead.",
							   NULL,
							   &paycore_retry_schedule,
							   DEFAULT_RETRY_SCHEDULE,
							   PGC_SIGHUP, 0,
							   check_retry_schedule, NULL, NULL);

	DefineCustomIntVariable("paycore.max_concurrency",
							"Webhook requests the worker keeps in flight at once.",
							"One merchant gets at most half of them, so a merchant whose endpoint "
							"hangs cannot hold up the others.",
							&paycore_max_concurrency,
							32, 1, 1024,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("paycore.secret_rotation_grace",
							"How long a rotated-out signing secret still signs webhooks.",
							NULL,
							&paycore_secret_rotation_grace_s,
							24 * 60 * 60, 0, 30 * 24 * 60 * 60,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
}
