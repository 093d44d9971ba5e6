#ifndef PAYCORE_RETRY_SCHEDULE_H
#define PAYCORE_RETRY_SCHEDULE_H

#define RETRY_SCHEDULE_MAX 64

extern int	parse_retry_schedule(const char *schedule, int64 *delays_ms, char **problem);

#endif
