#ifndef PAYCORE_SIGNING_H
#define PAYCORE_SIGNING_H

extern bool signing_secrets_cached(int64 merchant_id, bytea *secret_encrypted,
								   bytea *previous_secret_encrypted);
extern char *signature_header(int64 merchant_id, bytea *secret_encrypted,
							  bytea *previous_secret_encrypted, int64 timestamp,
							  const char *body, size_t body_len);

#endif
