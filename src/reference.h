#ifndef PAYCORE_REFERENCE_H
#define PAYCORE_REFERENCE_H

#include "utils/snapshot.h"

extern bool reference_exists(const char *table, Datum key, const char *flag_column, Snapshot snapshot);

#endif
