/*
 * SQL faces of credential handling: a password becomes a bcrypt hash, a card
 * number becomes ciphertext plus its last four digits and brand, a signing
 * secret is born random and kept only encrypted.  Clear values never reach a
 * table or a message.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "card.h"
#include "crypto.h"
#include "validation.h"

#define SIGNING_SECRET_BYTES 32
#define SIGNING_SECRET_PREFIX "whsec_"

/* The function's OUT columns, none of them null. */
static Datum
row_result(FunctionCallInfo fcinfo, Datum *values)
{
	TupleDesc	tupdesc;
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "paycore: return type must be a row type");
	return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls));
}

/* SQL function: paycore._hash_password(text) */
PG_FUNCTION_INFO_V1(paycore_hash_password);
Datum
paycore_hash_password(PG_FUNCTION_ARGS)
{
	text	   *password = required_text_arg(fcinfo, 0, "password");

	validate_password(VARDATA_ANY(password), VARSIZE_ANY_EXHDR(password));
	PG_RETURN_TEXT_P(bcrypt_hash(VARDATA_ANY(password), VARSIZE_ANY_EXHDR(password)));
}

/* SQL function: paycore._protect_card(text) */
PG_FUNCTION_INFO_V1(paycore_protect_card);
Datum
paycore_protect_card(PG_FUNCTION_ARGS)
{
	text	   *input = required_text_arg(fcinfo, 0, "bank_card");
	CardNumber	card;
	int			ndigits;
	bytea	   *volatile encrypted = NULL;
	Datum		values[3];

	parse_card_number(VARDATA_ANY(input), VARSIZE_ANY_EXHDR(input), &card);
	ndigits = strlen(card.digits);
	values[1] = PointerGetDatum(cstring_to_text(card.digits + ndigits - 4));
	values[2] = PointerGetDatum(cstring_to_text(card_brand(&card)));
	PG_TRY();
	{
		encrypted = encrypt_with_server_key(card.digits, ndigits);
	}
	PG_FINALLY();
	{
		wipe_card_number(&card);
	}
	PG_END_TRY();
	values[0] = PointerGetDatum(encrypted);
	return row_result(fcinfo, values);
}

/* SQL function: paycore._new_signing_secret() */
PG_FUNCTION_INFO_V1(paycore_new_signing_secret);
Datum
paycore_new_signing_secret(PG_FUNCTION_ARGS)
{
	bytea	   *raw = random_bytes(SIGNING_SECRET_BYTES);
	StringInfoData secret;
	Datum		values[2];

	initStringInfo(&secret);
	appendStringInfoString(&secret, SIGNING_SECRET_PREFIX);
	enlargeStringInfo(&secret, SIGNING_SECRET_BYTES * 2);
	secret.len += hex_encode(VARDATA_ANY(raw), VARSIZE_ANY_EXHDR(raw), secret.data + secret.len);
	secret.data[secret.len] = '\0';
	values[0] = PointerGetDatum(cstring_to_text_with_len(secret.data, secret.len));
	values[1] = PointerGetDatum(encrypt_with_server_key(secret.data, secret.len));
	return row_result(fcinfo, values);
}
