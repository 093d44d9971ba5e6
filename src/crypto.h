#ifndef PAYCORE_CRYPTO_H
#define PAYCORE_CRYPTO_H

extern text *bcrypt_hash(const char *password, int len);
extern bool bcrypt_matches(const char *password, int len, const char *hash);
extern const char *bcrypt_dummy_hash(void);
extern bytea *encrypt_with_server_key(const char *plaintext, int len);
extern text *decrypt_with_server_key(bytea *ciphertext);
extern bytea *random_bytes(int n);
extern char *hmac_sha256_hex(const char *key, size_t key_len, const char *message, size_t message_len);

#endif
