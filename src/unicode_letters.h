#ifndef PAYCORE_UNICODE_LETTERS_H
#define PAYCORE_UNICODE_LETTERS_H

#include "mb/pg_wchar.h"

extern bool unicode_is_letter(pg_wchar c);

#endif
