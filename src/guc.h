#ifndef PAYCORE_GUC_H
#define PAYCORE_GUC_H

extern int	paycore_bcrypt_cost;
extern int	paycore_max_failed_logins;
extern int	paycore_lockout_duration_s;
extern char *paycore_encryption_key;
extern char *paycore_database;
extern int	paycore_http_timeout_ms;
extern char *paycore_retry_schedule;
extern int	paycore_max_concurrency;
extern int	paycore_secret_rotation_grace_s;

extern void paycore_guc_init(void);

#endif
