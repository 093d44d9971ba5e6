/*
 * Argument checks for the API.  Each rule raises 22023 naming the argument
 * (or 22004 for a missing one) and never repeats a secret value back.
 */
#include "postgres.h"

#include <curl/curl.h>

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "unicode_letters.h"
#include "validation.h"

#define USERNAME_MIN	3
#define USERNAME_MAX	32
#define PASSWORD_MIN	8
#define PASSWORD_MAX	128
#define PERSON_NAME_MAX	64
#define NOTIFY_URL_MAX	2048
#define REFERENCE_MAX	64

void
invalid_argument(const char *argname, const char *detail, const char *hint)
{
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("invalid %s", argname),
			detail ? errdetail_internal("%s", detail) : 0,
			hint ? errhint("%s", hint) : 0);
	pg_unreachable();
}

void
require_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("%s must not be null", argname));
}

text *
required_text_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	require_arg(fcinfo, argno, argname);
	return PG_GETARG_TEXT_PP(argno);
}

/* The text as Unicode code points, whatever the database encoding. */
static pg_wchar *
to_code_points(const char *str, int len, int *count)
{
	const char *converted = pg_server_to_any(str, len, PG_UTF8);
	const unsigned char *utf8 = (const unsigned char *) converted;
	/* an unconverted result is the input itself, which is not terminated */
	int			utf8_len = converted == str ? len : (int) strlen(converted);
	pg_wchar   *points = palloc(sizeof(pg_wchar) * (utf8_len + 1));
	int			n = 0;

	for (int i = 0; i < utf8_len; i += pg_utf_mblen(utf8 + i))
		points[n++] = utf8_to_unicode(utf8 + i);
	*count = n;
	return points;
}

static bool
is_ascii_letter(pg_wchar c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
is_ascii_digit(pg_wchar c)
{
	return c >= '0' && c <= '9';
}

static bool
is_control(pg_wchar c)
{
	return c < 0x20 || (c >= 0x7F && c < 0xA0) || c == 0x2028 || c == 0x2029;
}

static void
validate_username(const char *str, int len)
{
	if (len < USERNAME_MIN || len > USERNAME_MAX)
		invalid_argument("username", "A username has 3 to 32 characters.", NULL);
	if (!is_ascii_letter((unsigned char) str[0]))
		invalid_argument("username", "A username starts with a letter.", NULL);
	for (int i = 1; i < len; i++)
	{
		unsigned char c = str[i];

		if (!is_ascii_letter(c) && !is_ascii_digit(c) && c != '_' && c != '.' && c != '-')
			invalid_argument("username",
							 "A username has only letters, digits and the characters _ . -",
							 NULL);
	}
}

/* SQL function: paycore._check_username(text) */
PG_FUNCTION_INFO_V1(paycore_check_username);
Datum
paycore_check_username(PG_FUNCTION_ARGS)
{
	text	   *username = required_text_arg(fcinfo, 0, "username");

	validate_username(VARDATA_ANY(username), VARSIZE_ANY_EXHDR(username));
	PG_RETURN_TEXT_P(username);
}

/* Never echoes the password: the errors say only which rule it broke. */
void
validate_password(const char *password, int len)
{
	int			count;
	pg_wchar   *points = to_code_points(password, len, &count);
	bool		has_letter = false;
	bool		has_digit = false;

	if (count < PASSWORD_MIN || count > PASSWORD_MAX)
		invalid_argument("password", "A password has 8 to 128 characters.", NULL);
	for (int i = 0; i < count; i++)
	{
		has_letter |= unicode_is_letter(points[i]);
		has_digit |= is_ascii_digit(points[i]);
	}
	if (!has_letter || !has_digit)
		invalid_argument("password", "A password has at least one letter and one digit.", NULL);
	pfree(points);
}

static bool
is_name_separator(pg_wchar c)
{
	/* space, apostrophes, hyphen, full stop, middle dots (Latin and Katakana) */
	return c == ' ' || c == '\'' || c == 0x2019 || c == '-' || c == '.' ||
		c == 0x00B7 || c == 0x30FB;
}

/* SQL function: paycore._check_person_name(text): the name, trimmed */
PG_FUNCTION_INFO_V1(paycore_check_person_name);
Datum
paycore_check_person_name(PG_FUNCTION_ARGS)
{
	text	   *name = required_text_arg(fcinfo, 0, "name");
	text	   *trimmed = DatumGetTextPP(DirectFunctionCall1(btrim1, PointerGetDatum(name)));
	int			count;
	pg_wchar   *points = to_code_points(VARDATA_ANY(trimmed), VARSIZE_ANY_EXHDR(trimmed), &count);
	bool		has_letter = false;

	if (count < 1 || count > PERSON_NAME_MAX)
		invalid_argument("name", "A name has 1 to 64 characters after trimming spaces.", NULL);
	for (int i = 0; i < count; i++)
	{
		if (unicode_is_letter(points[i]))
			has_letter = true;
		else if (!is_name_separator(points[i]))
			invalid_argument("name",
							 "A name has only letters, spaces and the characters ' - . and the middle dot.",
							 "Digits and control characters are not allowed in a name.");
	}
	if (!has_letter)
		invalid_argument("name", "A name has at least one letter.", NULL);
	PG_RETURN_TEXT_P(trimmed);
}

typedef enum UrlProblem
{
	URL_OK,
	URL_UNPARSABLE,
	URL_BAD_SCHEME,
	URL_HAS_USERINFO,
	URL_NO_HOST
} UrlProblem;

static bool
url_part_missing(CURLU *parsed, CURLUPart what, CURLUcode missing_code)
{
	char	   *part = NULL;
	CURLUcode	rc = curl_url_get(parsed, what, &part, 0);

	curl_free(part);
	return rc == missing_code;
}

/* libcurl parses the URL exactly as the webhook worker will use it later. */
static UrlProblem
inspect_url(const char *url)
{
	CURLU	   *parsed = curl_url();
	UrlProblem	problem = URL_OK;
	char	   *part = NULL;

	if (parsed == NULL)
		ereport(ERROR, errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory"));
	if (curl_url_set(parsed, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
		problem = URL_UNPARSABLE;
	else if (curl_url_get(parsed, CURLUPART_SCHEME, &part, 0) != CURLUE_OK ||
			 (strcmp(part, "http") != 0 && strcmp(part, "https") != 0))
		problem = URL_BAD_SCHEME;
	else if (!url_part_missing(parsed, CURLUPART_USER, CURLUE_NO_USER) ||
			 !url_part_missing(parsed, CURLUPART_PASSWORD, CURLUE_NO_PASSWORD))
		problem = URL_HAS_USERINFO;
	else if (url_part_missing(parsed, CURLUPART_HOST, CURLUE_NO_HOST))
		problem = URL_NO_HOST;
	curl_free(part);
	curl_url_cleanup(parsed);
	return problem;
}

/* SQL function: paycore._check_notify_url(text) */
PG_FUNCTION_INFO_V1(paycore_check_notify_url);
Datum
paycore_check_notify_url(PG_FUNCTION_ARGS)
{
	text	   *url_text = required_text_arg(fcinfo, 0, "notify_url");
	char	   *url = text_to_cstring(url_text);
	const char *hint = "Use an absolute http:// or https:// URL without user name or password.";

	if (pg_mbstrlen(url) > NOTIFY_URL_MAX)
		invalid_argument("notify_url", "A notify_url has at most 2048 characters.", hint);
	switch (inspect_url(url))
	{
		case URL_OK:
			break;
		case URL_UNPARSABLE:
			invalid_argument("notify_url", "The URL could not be parsed.", hint);
		case URL_BAD_SCHEME:
			invalid_argument("notify_url", "Only the http and https schemes are allowed.", hint);
		case URL_HAS_USERINFO:
			invalid_argument("notify_url", "A notify_url must not carry user information.", hint);
		case URL_NO_HOST:
			invalid_argument("notify_url", "The URL has no host.", hint);
	}
	PG_RETURN_TEXT_P(url_text);
}

/*
 * out_trade_no, out_refund_no: merchants' idempotency keys.  The API checks
 * its arguments with this, and the tables' CHECK functions their rows.
 */
bool
is_reference(text *value)
{
	const char *str = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);

	if (len < 1 || len > REFERENCE_MAX)
		return false;
	for (int i = 0; i < len; i++)
	{
		unsigned char c = str[i];

		if (!is_ascii_letter(c) && !is_ascii_digit(c) && c != '_' && c != '-')
			return false;
	}
	return true;
}

text *
check_reference(const char *argname, text *value)
{
	if (!is_reference(value))
		invalid_argument(argname, "It has 1 to 64 characters, each a letter, a digit, _ or -.", NULL);
	return value;
}

/*
 * SQL function: paycore._check_reference(argname, value), of version 1.0
 * (1.1 checks in C and drops it): kept so that 1.0 still installs.
 */
PG_FUNCTION_INFO_V1(paycore_check_reference);
Datum
paycore_check_reference(PG_FUNCTION_ARGS)
{
	char	   *argname = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_TEXT_P(check_reference(argname, required_text_arg(fcinfo, 1, argname)));
}

bool
is_amount(int64 amount)
{
	return amount >= 1 && amount <= PAYCORE_MAX_AMOUNT;
}

int64
check_amount(const char *argname, int64 amount)
{
	if (!is_amount(amount))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid %s", argname),
				errdetail("%s is " INT64_FORMAT ".", argname, amount),
				errhint("Amounts are in minor units (cents, fen) from 1 to " INT64_FORMAT ".",
						PAYCORE_MAX_AMOUNT));
	return amount;
}

/* SQL function: paycore._check_amount(argname, value), of 1.0 only, as above */
PG_FUNCTION_INFO_V1(paycore_check_amount);
Datum
paycore_check_amount(PG_FUNCTION_ARGS)
{
	char	   *argname = text_to_cstring(PG_GETARG_TEXT_PP(0));

	require_arg(fcinfo, 1, argname);
	PG_RETURN_INT64(check_amount(argname, PG_GETARG_INT64(1)));
}

/* For the tables' CHECK functions: a text of min..max characters. */
bool
text_length_between(text *value, int min, int max)
{
	int			length = pg_mbstrlen_with_len(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));

	return length >= min && length <= max;
}

/*
 * Free text such as reasons and subjects: 1..max_length characters, not
 * blank, no control characters.
 */
text *
check_text(const char *argname, text *value, int max_length)
{
	int			count;
	pg_wchar   *points = to_code_points(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value), &count);
	bool		blank = true;

	if (count < 1 || count > max_length)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid %s", argname),
				errdetail("%s has %d characters; 1 to %d are allowed.", argname, count, max_length));
	for (int i = 0; i < count; i++)
	{
		if (is_control(points[i]))
			invalid_argument(argname, "Control characters are not allowed.", NULL);
		if (points[i] != ' ' && points[i] != 0x3000)
			blank = false;
	}
	if (blank)
		invalid_argument(argname, "It must not be blank.", NULL);
	return value;
}

/*
 * SQL function: paycore._check_text(argname, value, max_length)
 * A null stays null: the caller decides whether it may be missing.
 */
PG_FUNCTION_INFO_V1(paycore_check_text);
Datum
paycore_check_text(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(check_text(text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_GETARG_TEXT_PP(1),
								PG_GETARG_INT32(2)));
}
