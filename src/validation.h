#ifndef PAYCORE_VALIDATION_H
#define PAYCORE_VALIDATION_H

#include "fmgr.h"

#define PAYCORE_MAX_AMOUNT	INT64CONST(100000000000)

extern void invalid_argument(const char *argname, const char *detail, const char *hint)
			pg_attribute_noreturn();
extern void require_arg(FunctionCallInfo fcinfo, int argno, const char *argname);
extern text *required_text_arg(FunctionCallInfo fcinfo, int argno, const char *argname);
extern bool is_reference(text *value);
extern text *check_reference(const char *argname, text *value);
extern bool is_amount(int64 amount);
extern int64 check_amount(const char *argname, int64 amount);
extern bool text_length_between(text *value, int min, int max);
extern text *check_text(const char *argname, text *value, int max_length);
extern void validate_password(const char *password, int len);

#endif
