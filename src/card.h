#ifndef PAYCORE_CARD_H
#define PAYCORE_CARD_H

#define CARD_MAX_DIGITS 19

/* A validated card number: digits only, NUL-terminated. */
typedef struct CardNumber
{
	char		digits[CARD_MAX_DIGITS + 1];
} CardNumber;

extern void parse_card_number(const char *input, int len, CardNumber *card);
extern const char *card_brand(const CardNumber *card);
extern void wipe_card_number(CardNumber *card);

#endif
