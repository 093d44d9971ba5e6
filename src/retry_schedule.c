/*
 * paycore.retry_schedule: "15s,15s,30s,3min,..." into milliseconds.
 *
 * Parsed by hand rather than with interval_in because the GUC check hook runs
 * in the postmaster, where an ereport from the interval parser would be fatal.
 */
#include "postgres.h"

#include <ctype.h>

#include "retry_schedule.h"

typedef struct DelayUnit
{
	const char *name;
	int64		ms;
} DelayUnit;

static const DelayUnit delay_units[] = {
	{"ms", 1},
	{"s", 1000},
	{"min", 60 * 1000},
	{"h", 60 * 60 * 1000},
	{"d", 24 * 60 * 60 * 1000},
};

/* 30 days: a longer wait is a typo, not a plan. */
#define MAX_DELAY_MS (INT64CONST(30) * 24 * 60 * 60 * 1000)

static const char *
parse_delay(const char *p, int64 *delay_ms, char **problem)
{
	int64		number = 0;
	const char *unit_start;
	size_t		unit_len;

	while (isspace((unsigned char) *p))
		p++;
	if (!isdigit((unsigned char) *p))
	{
		*problem = psprintf("expected a number at \"%s\"", p);
		return NULL;
	}
	while (isdigit((unsigned char) *p) && number <= MAX_DELAY_MS)
		number = number * 10 + (*p++ - '0');
	unit_start = p;
	while (isalpha((unsigned char) *p))
		p++;
	unit_len = p - unit_start;
	for (int i = 0; i < (int) lengthof(delay_units); i++)
	{
		if (strlen(delay_units[i].name) == unit_len &&
			strncmp(unit_start, delay_units[i].name, unit_len) == 0)
		{
			*delay_ms = number * delay_units[i].ms;
			if (*delay_ms > MAX_DELAY_MS || number > MAX_DELAY_MS)
			{
				*problem = psprintf("a wait is longer than 30 days");
				return NULL;
			}
			while (isspace((unsigned char) *p))
				p++;
			return p;
		}
	}
	*problem = psprintf("unknown unit \"%.*s\"", (int) unit_len, unit_start);
	return NULL;
}

/*
 * Returns the number of waits, stored in delays_ms when it is not NULL, or
 * -1 with *problem set.  An empty schedule means no retries.
 */
int
parse_retry_schedule(const char *schedule, int64 *delays_ms, char **problem)
{
	const char *p = schedule;
	int			count = 0;

	while (isspace((unsigned char) *p))
		p++;
	if (*p == '\0')
		return 0;
	for (;;)
	{
		int64		delay;

		if (count == RETRY_SCHEDULE_MAX)
		{
			*problem = psprintf("more than %d waits", RETRY_SCHEDULE_MAX);
			return -1;
		}
		p = parse_delay(p, &delay, problem);
		if (p == NULL)
			return -1;
		if (delays_ms)
			delays_ms[count] = delay;
		count++;
		if (*p == '\0')
			return count;
		if (*p != ',')
		{
			*problem = psprintf("expected a comma at \"%s\"", p);
			return -1;
		}
		p++;
	}
}
