#ifndef PAYCORE_HTTP_H
#define PAYCORE_HTTP_H

#include <curl/curl.h>

#include "storage/latch.h"

/*
 * One POST.  The caller owns the strings and keeps them alive until the
 * request comes back from http_take_done().
 */
typedef struct HttpRequest
{
	const char *url;
	const char *body;
	size_t		body_len;
	struct curl_slist *headers;
	void	   *owner;			/* the caller's record of this request */

	/* filled in when the request is done */
	long		status_code;	/* 0 when no HTTP response arrived */
	char		error[CURL_ERROR_SIZE];	/* empty on a completed exchange */
	double		duration_ms;

	CURL	   *easy;
	size_t		response_bytes;
	struct HttpRequest *next_done;
} HttpRequest;

extern void http_init(void);
extern void http_configure(int timeout_ms, int max_connections);
extern void http_start(HttpRequest *request);
extern int	http_in_flight(void);
extern HttpRequest *http_take_done(void);
extern long http_timeout_ms(void);
extern int	http_socket_count(void);
extern void http_add_wait_events(WaitEventSet *set);
extern void http_socket_ready(pgsocket fd, uint32 events);
extern void http_timer_expired(void);

#endif
