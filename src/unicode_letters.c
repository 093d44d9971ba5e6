/*
 * Which code points count as letters in a person's name.
 *
 * PostgreSQL 15 gives extensions no Unicode character classes, and the regex
 * classes follow the database locale (in the C locale only ASCII letters are
 * letters), so names like 张三 need a table of our own.  It lists the letter
 * and combining-mark ranges of the scripts people write names in; digits,
 * punctuation and symbols of those scripts are left out on purpose.
 */
#include "postgres.h"

#include "unicode_letters.h"

typedef struct CodeRange
{
	pg_wchar	first;
	pg_wchar	last;
} CodeRange;

/* sorted by first code point, for the binary search below */
static const CodeRange letter_ranges[] = {
	{0x0041, 0x005A}, {0x0061, 0x007A},	/* Basic Latin */
	{0x00AA, 0x00AA}, {0x00B5, 0x00B5}, {0x00BA, 0x00BA},
	{0x00C0, 0x00D6}, {0x00D8, 0x00F6}, {0x00F8, 0x02AF},	/* Latin-1, Extended-A/B, IPA */
	{0x0300, 0x036F},			/* combining diacritics of decomposed names */
	{0x0370, 0x0373}, {0x0376, 0x0377}, {0x037B, 0x037D}, {0x037F, 0x037F},
	{0x0386, 0x0386}, {0x0388, 0x03FF},	/* Greek */
	{0x0400, 0x0481}, {0x0483, 0x052F},	/* Cyrillic */
	{0x0531, 0x0556}, {0x0560, 0x0588},	/* Armenian */
	{0x0591, 0x05BD}, {0x05C1, 0x05C2}, {0x05D0, 0x05EA}, {0x05EF, 0x05F2},	/* Hebrew */
	{0x0620, 0x065F}, {0x066E, 0x06D3}, {0x06D5, 0x06DC},	/* Arabic */
	{0x0900, 0x0963}, {0x0971, 0x097F},	/* Devanagari */
	{0x0980, 0x09E3},			/* Bengali */
	{0x0E01, 0x0E3A}, {0x0E40, 0x0E4E},	/* Thai */
	{0x10A0, 0x10FA}, {0x10FC, 0x10FF},	/* Georgian */
	{0x1100, 0x11FF},			/* Hangul Jamo */
	{0x1E00, 0x1FBC}, {0x1FC2, 0x1FCC}, {0x1FD0, 0x1FDB}, {0x1FE0, 0x1FEC},
	{0x1FF2, 0x1FFC},			/* Latin Extended Additional, Greek Extended */
	{0x3041, 0x3096}, {0x309D, 0x309F},	/* Hiragana */
	{0x30A1, 0x30FA}, {0x30FC, 0x30FF},	/* Katakana */
	{0x3105, 0x312F},			/* Bopomofo */
	{0x3131, 0x318E},			/* Hangul Compatibility Jamo */
	{0x3400, 0x4DBF},			/* CJK Extension A */
	{0x4E00, 0x9FFF},			/* CJK Unified Ideographs */
	{0xA960, 0xA97C},			/* Hangul Jamo Extended-A */
	{0xAC00, 0xD7A3}, {0xD7B0, 0xD7FB},	/* Hangul Syllables, Jamo Extended-B */
	{0xF900, 0xFAFF},			/* CJK Compatibility Ideographs */
	{0xFF21, 0xFF3A}, {0xFF41, 0xFF5A},	/* fullwidth Latin */
	{0xFF66, 0xFF9F},			/* halfwidth Katakana */
	{0x20000, 0x2FA1F},			/* CJK Extensions B-F, compatibility supplement */
	{0x30000, 0x3134F},			/* CJK Extension G */
};

bool
unicode_is_letter(pg_wchar c)
{
	int			lo = 0;
	int			hi = lengthof(letter_ranges) - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (c < letter_ranges[mid].first)
			hi = mid - 1;
		else if (c > letter_ranges[mid].last)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}
