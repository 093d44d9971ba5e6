/*
 * paycore's configuration parameters.
 *
 * Everything that weakens credentials or exposes the key is superuser-only:
 * an application role must not be able to lower the bcrypt cost for its own
 * session or read the encryption key.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "guc.h"

int			paycore_bcrypt_cost = 10;
int			paycore_max_failed_logins = 5;
int			paycore_lockout_duration_s = 30 * 60;
char	   *paycore_encryption_key = NULL;

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
}
