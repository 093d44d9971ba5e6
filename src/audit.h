#ifndef PAYCORE_AUDIT_H
#define PAYCORE_AUDIT_H

#include "lib/stringinfo.h"

extern void audit_transition(const char *entity, int64 id, const char *from_status,
							 const char *to_status, const char *detail_json);
extern void json_add_int64(StringInfo json, const char *key, int64 value);
extern void json_add_text(StringInfo json, const char *key, const char *value);

#endif
