#ifndef PAYCORE_VALIDATION_H
#define PAYCORE_VALIDATION_H

#include "fmgr.h"

#define PAYCORE_MAX_AMOUNT	INT64CONST(100000000000)

extern void invalid_argument(const char *argname, const char *detail, const char *hint)
			pg_attribute_noreturn();
extern text *required_text_arg(FunctionCallInfo fcinfo, int argno, const char *argname);
extern void validate_password(const char *password, int len);

#endif
