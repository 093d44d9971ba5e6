/*
 * paycore.authenticate: password check with lockout.
 *
 * A failure is an answer (NULL), never an error, so that the failure count
 * commits.  The user row is locked while it is checked, so concurrent wrong
 * guesses are all counted.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "crypto.h"
#include "guc.h"
#include "spi_util.h"

static SPIPlanPtr find_user_plan = NULL;
static SPIPlanPtr record_failure_plan = NULL;
static SPIPlanPtr record_success_plan = NULL;

typedef struct LoginTarget
{
	int64		user_id;
	char	   *password_hash;
	int32		failed_logins;
	bool		locked;
	bool		lock_expired;
} LoginTarget;

static bool
find_user(text *username, LoginTarget *target)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {PointerGetDatum(username)};
	SPIPlanPtr	plan = saved_plan(&find_user_plan,
								  "SELECT id, password_hash, failed_logins,"
								  "       coalesce(locked_until > pg_catalog.now(), false),"
								  "       coalesce(locked_until <= pg_catalog.now(), false)"
								  "  FROM paycore.users"
								  " WHERE pg_catalog.lower(username) = pg_catalog.lower($1)"
								  "   FOR UPDATE",
								  1, argtypes);
	bool		isnull;

	run_plan(plan, values, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	target->user_id = DatumGetInt64(result_value(0, 1, &isnull));
	target->password_hash = TextDatumGetCString(result_value(0, 2, &isnull));
	target->failed_logins = DatumGetInt32(result_value(0, 3, &isnull));
	target->locked = DatumGetBool(result_value(0, 4, &isnull));
	target->lock_expired = DatumGetBool(result_value(0, 5, &isnull));
	return true;
}

/*
 * Counts a wrong password; the one that reaches the limit locks the account.
 * A lock that has run out gives the user a fresh count.
 */
static void
record_failure(const LoginTarget *target)
{
	Oid			argtypes[4] = {INT8OID, INT4OID, INT4OID, INT4OID};
	Datum		values[4] = {
		Int64GetDatum(target->user_id),
		Int32GetDatum(target->lock_expired ? 1 : target->failed_logins + 1),
		Int32GetDatum(paycore_max_failed_logins),
		Int32GetDatum(paycore_lockout_duration_s)
	};
	SPIPlanPtr	plan = saved_plan(&record_failure_plan,
								  "UPDATE paycore.users"
								  "   SET failed_logins = $2,"
								  "       locked_until = CASE WHEN $2 >= $3"
								  "           THEN pg_catalog.now() + pg_catalog.make_interval(secs => $4) END,"
								  "       updated_at = pg_catalog.now()"
								  " WHERE id = $1",
								  4, argtypes);

	run_plan(plan, values, NULL, false, 0);
}

static void
record_success(const LoginTarget *target)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(target->user_id)};
	SPIPlanPtr	plan = saved_plan(&record_success_plan,
								  "UPDATE paycore.users"
								  "   SET failed_logins = 0, locked_until = NULL, updated_at = pg_catalog.now()"
								  " WHERE id = $1",
								  1, argtypes);

	run_plan(plan, values, NULL, false, 0);
}

/* SQL function: paycore.authenticate(username text, password text) */
PG_FUNCTION_INFO_V1(paycore_authenticate);
Datum
paycore_authenticate(PG_FUNCTION_ARGS)
{
	text	   *password;
	LoginTarget target;
	bool		found;
	bool		matches;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	password = PG_GETARG_TEXT_PP(1);

	SPI_connect();
	found = find_user(PG_GETARG_TEXT_PP(0), &target);
	if (!found)
	{
		/* Spend the time a real check takes; the answer is NULL regardless. */
		(void) bcrypt_matches(VARDATA_ANY(password), VARSIZE_ANY_EXHDR(password), bcrypt_dummy_hash());
		SPI_finish();
		PG_RETURN_NULL();
	}
	if (target.locked)
	{
		/* Guesses during a lockout neither count nor get an answer. */
		SPI_finish();
		PG_RETURN_NULL();
	}
	matches = bcrypt_matches(VARDATA_ANY(password), VARSIZE_ANY_EXHDR(password), target.password_hash);
	if (!matches)
		record_failure(&target);
	else if (target.failed_logins > 0 || target.lock_expired)
		record_success(&target);
	SPI_finish();
	if (!matches)
		PG_RETURN_NULL();
	PG_RETURN_INT64(target.user_id);
}
