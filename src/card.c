/*
 * Bank card numbers: normalisation, the Luhn check and the brand.
 *
 * The number lives only in a fixed buffer that the caller wipes once it is
 * encrypted; no error here ever includes a digit of it.
 */
#include "postgres.h"

#include "card.h"
#include "validation.h"

#define CARD_MIN_DIGITS 12

static bool
luhn_valid(const char *digits, int n)
{
	int			sum = 0;

	for (int i = 0; i < n; i++)
	{
		int			d = digits[n - 1 - i] - '0';

		if (i % 2 == 1)
		{
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

/* Accepts the number as people type it: spaces and dashes are dropped. */
void
parse_card_number(const char *input, int len, CardNumber *card)
{
	int			n = 0;

	for (int i = 0; i < len; i++)
	{
		char		c = input[i];

		if (c == ' ' || c == '-')
			continue;
		if (c < '0' || c > '9')
		{
			wipe_card_number(card);
			invalid_argument("bank_card", "A card number has only digits, spaces and dashes.", NULL);
		}
		if (n == CARD_MAX_DIGITS)
		{
			wipe_card_number(card);
			invalid_argument("bank_card", "A card number has 12 to 19 digits.", NULL);
		}
		card->digits[n++] = c;
	}
	card->digits[n] = '\0';
	if (n < CARD_MIN_DIGITS)
	{
		wipe_card_number(card);
		invalid_argument("bank_card", "A card number has 12 to 19 digits.", NULL);
	}
	if (!luhn_valid(card->digits, n))
	{
		wipe_card_number(card);
		invalid_argument("bank_card", "The card number fails its check digit (Luhn).",
						 "Check the number for a typing mistake.");
	}
}

static bool
prefix_between(const char *digits, int width, int low, int high)
{
	int			value = 0;

	for (int i = 0; i < width; i++)
		value = value * 10 + (digits[i] - '0');
	return value >= low && value <= high;
}

/* Issuer by IIN prefix; the ranges are the schemes' published ones. */
const char *
card_brand(const CardNumber *card)
{
	const char *d = card->digits;

	if (d[0] == '4')
		return "visa";
	if (prefix_between(d, 2, 51, 55) || prefix_between(d, 4, 2221, 2720))
		return "mastercard";
	if (prefix_between(d, 2, 34, 34) || prefix_between(d, 2, 37, 37))
		return "amex";
	if (prefix_between(d, 2, 62, 62) || prefix_between(d, 2, 81, 81))
		return "unionpay";
	if (prefix_between(d, 4, 3528, 3589))
		return "jcb";
	if (prefix_between(d, 4, 6011, 6011) || prefix_between(d, 2, 65, 65) ||
		prefix_between(d, 3, 644, 649))
		return "discover";
	if (prefix_between(d, 3, 300, 305) || prefix_between(d, 2, 36, 36) ||
		prefix_between(d, 2, 38, 39))
		return "diners";
	return "unknown";
}

void
wipe_card_number(CardNumber *card)
{
	explicit_bzero(card->digits, sizeof(card->digits));
}
