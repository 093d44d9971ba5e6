/*
 * Paycore-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">.
 * During a secret rotation's grace period a second v1 made with the previous
 * secret follows the new one.
 *
 * Decrypting a secret runs pgcrypto's key stretching, far too slow to do per
 * webhook, so clear secrets are cached per merchant in the worker and reused
 * while the stored ciphertext is byte-for-byte the same.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "crypto.h"
#include "signing.h"

typedef struct CachedSecret
{
	bytea	   *ciphertext;
	char	   *secret;
} CachedSecret;

typedef struct MerchantSecrets
{
	int64		merchant_id;	/* hash key */
	CachedSecret current;
	CachedSecret previous;
} MerchantSecrets;

static HTAB *secret_cache = NULL;

/* Whether the cached clear secret is that of this ciphertext. */
static bool
holds(const CachedSecret *cached, bytea *ciphertext)
{
	return cached->secret &&
		datum_image_eq(PointerGetDatum(cached->ciphertext), PointerGetDatum(ciphertext), false, -1);
}

static void
forget(CachedSecret *cached)
{
	if (cached->secret)
	{
		explicit_bzero(cached->secret, strlen(cached->secret));
		pfree(cached->secret);
		pfree(cached->ciphertext);
	}
	cached->secret = NULL;
	cached->ciphertext = NULL;
}

static const char *
clear_secret(CachedSecret *cached, bytea *ciphertext)
{
	MemoryContext old;
	text	   *secret;

	if (holds(cached, ciphertext))
		return cached->secret;
	forget(cached);
	secret = decrypt_with_server_key(ciphertext);
	old = MemoryContextSwitchTo(TopMemoryContext);
	cached->secret = text_to_cstring(secret);
	cached->ciphertext = DatumGetByteaPCopy(PointerGetDatum(ciphertext));
	MemoryContextSwitchTo(old);
	return cached->secret;
}

static MerchantSecrets *
merchant_secrets(int64 merchant_id)
{
	MerchantSecrets *entry;
	bool		found;

	if (secret_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(MerchantSecrets);
		secret_cache = hash_create("paycore signing secrets", 64, &ctl, HASH_ELEM | HASH_BLOBS);
	}
	entry = hash_search(secret_cache, &merchant_id, HASH_ENTER, &found);
	if (!found)
		memset(&entry->current, 0, sizeof(CachedSecret) * 2);
	return entry;
}

static void
append_v1(StringInfo header, const char *secret, const char *signed_payload, size_t len)
{
	appendStringInfo(header, ",v1=%s", hmac_sha256_hex(secret, strlen(secret), signed_payload, len));
}

/*
 * Whether signing for this merchant needs no decryption: then it cannot
 * fail on a secret that does not decrypt.
 */
bool
signing_secrets_cached(int64 merchant_id, bytea *secret_encrypted, bytea *previous_secret_encrypted)
{
	MerchantSecrets *secrets = merchant_secrets(merchant_id);

	return holds(&secrets->current, secret_encrypted) &&
		(previous_secret_encrypted == NULL || holds(&secrets->previous, previous_secret_encrypted));
}

/* Runs inside a transaction: decryption and HMAC go through pgcrypto. */
char *
signature_header(int64 merchant_id, bytea *secret_encrypted, bytea *previous_secret_encrypted,
				 int64 timestamp, const char *body, size_t body_len)
{
	MerchantSecrets *secrets = merchant_secrets(merchant_id);
	StringInfoData signed_payload;
	StringInfoData header;

	initStringInfo(&signed_payload);
	appendStringInfo(&signed_payload, INT64_FORMAT ".", timestamp);
	appendBinaryStringInfo(&signed_payload, body, body_len);

	initStringInfo(&header);
	appendStringInfo(&header, "Paycore-Signature: t=" INT64_FORMAT, timestamp);
	append_v1(&header, clear_secret(&secrets->current, secret_encrypted),
			  signed_payload.data, signed_payload.len);
	if (previous_secret_encrypted)
		append_v1(&header, clear_secret(&secrets->previous, previous_secret_encrypted),
				  signed_payload.data, signed_payload.len);
	else
		forget(&secrets->previous);
	return header.data;
}
