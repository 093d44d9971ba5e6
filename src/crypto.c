/*
 * Glue over pgcrypto: paycore never implements a cipher or a hash itself.
 *
 * pgcrypto may live in any schema (CREATE EXTENSION ... CASCADE puts it in
 * the creator's current schema), so its functions are found through the
 * extension's catalog entry and called by OID; the OIDs are forgotten on any
 * pg_proc invalidation, which covers DROP and re-CREATE of the extension.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "card.h"
#include "crypto.h"
#include "guc.h"
#include "validation.h"

typedef enum PgcryptoFunction
{
	PGC_CRYPT,
	PGC_GEN_SALT,
	PGC_PGP_SYM_ENCRYPT,
	PGC_PGP_SYM_DECRYPT,
	PGC_GEN_RANDOM_BYTES,
	PGC_HMAC,
	PGC_FUNCTION_COUNT
} PgcryptoFunction;

typedef struct PgcryptoSignature
{
	const char *name;
	int			nargs;
	Oid			argtypes[3];
} PgcryptoSignature;

static const PgcryptoSignature pgcrypto_signatures[PGC_FUNCTION_COUNT] = {
	{"crypt", 2, {TEXTOID, TEXTOID}},
	{"gen_salt", 2, {TEXTOID, INT4OID}},
	{"pgp_sym_encrypt", 3, {TEXTOID, TEXTOID, TEXTOID}},
	{"pgp_sym_decrypt", 2, {BYTEAOID, TEXTOID}},
	{"gen_random_bytes", 1, {INT4OID}},
	{"hmac", 3, {BYTEAOID, BYTEAOID, TEXTOID}},
};

static Oid	pgcrypto_oids[PGC_FUNCTION_COUNT];
static bool callback_registered = false;

/* AES-256 rather than pgcrypto's AES-128 default; key stretching as default. */
#define PGP_OPTIONS "cipher-algo=aes256"

static void
forget_pgcrypto_oids(Datum arg pg_attribute_unused(), int cacheid pg_attribute_unused(), uint32 hashvalue pg_attribute_unused())
{
	memset(pgcrypto_oids, 0, sizeof(pgcrypto_oids));
}

/* PostgreSQL 15 does not export get_extension_schema(), so read pg_extension. */
static Oid
extension_schema(Oid ext)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			schema = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(ext));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		schema = ((Form_pg_extension) GETSTRUCT(tuple))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return schema;
}

static Oid
pgcrypto_function(PgcryptoFunction which)
{
	const PgcryptoSignature *sig = &pgcrypto_signatures[which];
	Oid			ext;
	char	   *schema;

	if (OidIsValid(pgcrypto_oids[which]))
		return pgcrypto_oids[which];
	if (!callback_registered)
	{
		CacheRegisterSyscacheCallback(PROCOID, forget_pgcrypto_oids, (Datum) 0);
		callback_registered = true;
	}
	ext = get_extension_oid("pgcrypto", true);
	if (!OidIsValid(ext))
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("extension \"pgcrypto\" is not installed"),
				errhint("Install paycore with CREATE EXTENSION paycore CASCADE."));
	schema = get_namespace_name(extension_schema(ext));
	pgcrypto_oids[which] = LookupFuncName(list_make2(makeString(schema), makeString(pstrdup(sig->name))),
										  sig->nargs, sig->argtypes, false);
	return pgcrypto_oids[which];
}

static text *
server_key(void)
{
	if (paycore_encryption_key == NULL || paycore_encryption_key[0] == '\0')
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("paycore.encryption_key is not set"),
				errdetail("Card numbers and signing secrets are stored only encrypted."),
				errhint("Set paycore.encryption_key in postgresql.conf and reload the configuration."));
	return cstring_to_text(paycore_encryption_key);
}

text *
bcrypt_hash(const char *password, int len)
{
	Datum		salt = OidFunctionCall2(pgcrypto_function(PGC_GEN_SALT),
										PointerGetDatum(cstring_to_text("bf")),
										Int32GetDatum(paycore_bcrypt_cost));

	return DatumGetTextPP(OidFunctionCall2(pgcrypto_function(PGC_CRYPT),
										   PointerGetDatum(cstring_to_text_with_len(password, len)),
										   salt));
}

/* Compares in constant time so that the hash cannot be probed byte by byte. */
bool
bcrypt_matches(const char *password, int len, const char *hash)
{
	text	   *computed = DatumGetTextPP(OidFunctionCall2(pgcrypto_function(PGC_CRYPT),
														   PointerGetDatum(cstring_to_text_with_len(password, len)),
														   PointerGetDatum(cstring_to_text(hash))));
	size_t		hash_len = strlen(hash);
	unsigned char diff = 0;

	if (VARSIZE_ANY_EXHDR(computed) != hash_len)
		return false;
	for (size_t i = 0; i < hash_len; i++)
		diff |= ((const unsigned char *) VARDATA_ANY(computed))[i] ^ (unsigned char) hash[i];
	return diff == 0;
}

/*
 * A hash at the current cost for logins of unknown users, so that they take
 * as long as logins of known ones and do not reveal which usernames exist.
 */
const char *
bcrypt_dummy_hash(void)
{
	static char *dummy = NULL;
	static int	dummy_cost = 0;

	if (dummy == NULL || dummy_cost != paycore_bcrypt_cost)
	{
		text	   *hash = bcrypt_hash("paycore-no-such-user", strlen("paycore-no-such-user"));

		if (dummy)
			pfree(dummy);
		dummy = MemoryContextStrdup(TopMemoryContext, text_to_cstring(hash));
		dummy_cost = paycore_bcrypt_cost;
	}
	return dummy;
}

bytea *
encrypt_with_server_key(const char *plaintext, int len)
{
	text	   *key = server_key();

	return DatumGetByteaPP(OidFunctionCall3(pgcrypto_function(PGC_PGP_SYM_ENCRYPT),
											PointerGetDatum(cstring_to_text_with_len(plaintext, len)),
											PointerGetDatum(key),
											PointerGetDatum(cstring_to_text(PGP_OPTIONS))));
}

text *
decrypt_with_server_key(bytea *ciphertext)
{
	text	   *key = server_key();

	return DatumGetTextPP(OidFunctionCall2(pgcrypto_function(PGC_PGP_SYM_DECRYPT),
										   PointerGetDatum(ciphertext),
										   PointerGetDatum(key)));
}

bytea *
random_bytes(int n)
{
	return DatumGetByteaPP(OidFunctionCall1(pgcrypto_function(PGC_GEN_RANDOM_BYTES),
											Int32GetDatum(n)));
}

/* Lower-case hex HMAC-SHA256, as webhook receivers compute it. */
char *
hmac_sha256_hex(const char *key, size_t key_len, const char *message, size_t message_len)
{
	bytea	   *key_bytes = palloc(VARHDRSZ + key_len);
	bytea	   *message_bytes = palloc(VARHDRSZ + message_len);
	bytea	   *mac;
	char	   *hex;
	uint64		hex_len;

	SET_VARSIZE(key_bytes, VARHDRSZ + key_len);
	memcpy(VARDATA(key_bytes), key, key_len);
	SET_VARSIZE(message_bytes, VARHDRSZ + message_len);
	memcpy(VARDATA(message_bytes), message, message_len);
	mac = DatumGetByteaPP(OidFunctionCall3(pgcrypto_function(PGC_HMAC),
										   PointerGetDatum(message_bytes),
										   PointerGetDatum(key_bytes),
										   PointerGetDatum(cstring_to_text("sha256"))));
	hex = palloc(VARSIZE_ANY_EXHDR(mac) * 2 + 1);
	hex_len = hex_encode(VARDATA_ANY(mac), VARSIZE_ANY_EXHDR(mac), hex);
	hex[hex_len] = '\0';
	return hex;
}
