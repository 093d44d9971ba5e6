#ifndef PAYCORE_GUC_H
#define PAYCORE_GUC_H

extern int	paycore_bcrypt_cost;
extern int	paycore_max_failed_logins;
extern int	paycore_lockout_duration_s;
extern char *paycore_encryption_key;

extern void paycore_guc_init(void);

#endif
