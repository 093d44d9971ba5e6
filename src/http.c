/*
 * Webhook HTTP with libcurl's multi interface: many POSTs in flight, kept
 * connections reused.  This file knows nothing of transactions or tables;
 * the worker hands it requests and collects them when they are done.
 *
 * libcurl tells us which sockets it wants watched (CURLMOPT_SOCKETFUNCTION)
 * and when its next timeout is (CURLMOPT_TIMERFUNCTION); the worker waits on
 * those together with its latch in one WaitEventSet, so a commit wakes it
 * even while requests are in flight.
 */
#include "postgres.h"

#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "http.h"

/* Response bodies are not used: read this much, then stop reading. */
#define RESPONSE_BYTES_MAX 16384

typedef struct WatchedSocket
{
	curl_socket_t fd;
	int			what;			/* CURL_POLL_IN, _OUT or _INOUT */
} WatchedSocket;

static CURLM *multi = NULL;
static int	request_timeout_ms = 10000;
static int	in_flight = 0;
static TimestampTz timer_deadline = 0;	/* 0: libcurl wants no call */
static HttpRequest *done_head = NULL;
static HttpRequest *done_tail = NULL;

static WatchedSocket *sockets = NULL;
static int	nsockets = 0;
static int	sockets_capacity = 0;

/* Idle easy handles, kept so that their settings and buffers are reused. */
static CURL **idle_handles = NULL;
static int	nidle = 0;
static int	idle_capacity = 0;

static int
watch_socket(CURL *easy pg_attribute_unused(), curl_socket_t fd, int what, void *userp pg_attribute_unused(),
			 void *socketp pg_attribute_unused())
{
	for (int i = 0; i < nsockets; i++)
	{
		if (sockets[i].fd != fd)
			continue;
		if (what == CURL_POLL_REMOVE)
			sockets[i] = sockets[--nsockets];
		else
			sockets[i].what = what;
		return 0;
	}
	if (what == CURL_POLL_REMOVE)
		return 0;
	if (nsockets == sockets_capacity)
	{
		sockets_capacity = Max(16, sockets_capacity * 2);
		sockets = repalloc(sockets, sizeof(WatchedSocket) * sockets_capacity);
	}
	sockets[nsockets].fd = fd;
	sockets[nsockets].what = what;
	nsockets++;
	return 0;
}

static int
set_timer(CURLM *m pg_attribute_unused(), long timeout_ms, void *userp pg_attribute_unused())
{
	timer_deadline = timeout_ms < 0 ? 0
		: TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	return 0;
}

static size_t
discard_response(char *data pg_attribute_unused(), size_t size, size_t nmemb, void *userp)
{
	HttpRequest *request = userp;

	request->response_bytes += size * nmemb;
	/* returning less than given ends the transfer */
	return request->response_bytes > RESPONSE_BYTES_MAX ? 0 : size * nmemb;
}

void
http_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		elog(ERROR, "paycore: could not initialise libcurl");
	multi = curl_multi_init();
	if (multi == NULL)
		elog(ERROR, "paycore: could not create a libcurl multi handle");
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, watch_socket);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, set_timer);
	sockets = MemoryContextAlloc(TopMemoryContext, sizeof(WatchedSocket) * 16);
	sockets_capacity = 16;
}

void
http_configure(int timeout_ms, int max_connections)
{
	request_timeout_ms = timeout_ms;
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long) max_connections);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long) max_connections);
}

static CURL *
take_handle(void)
{
	CURL	   *easy;

	if (nidle > 0)
		return idle_handles[--nidle];
	easy = curl_easy_init();
	if (easy == NULL)
		elog(ERROR, "paycore: could not create a libcurl handle");
	return easy;
}

static void
return_handle(CURL *easy)
{
	if (nidle == idle_capacity)
	{
		idle_capacity = Max(16, idle_capacity * 2);
		idle_handles = idle_handles
			? repalloc(idle_handles, sizeof(CURL *) * idle_capacity)
			: MemoryContextAlloc(TopMemoryContext, sizeof(CURL *) * idle_capacity);
	}
	idle_handles[nidle++] = easy;
}

void
http_start(HttpRequest *request)
{
	CURL	   *easy = take_handle();

	curl_easy_reset(easy);
	request->status_code = 0;
	request->error[0] = '\0';
	request->response_bytes = 0;
	request->duration_ms = 0;
	request->easy = easy;
	curl_easy_setopt(easy, CURLOPT_URL, request->url);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_POST, 1L);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request->body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) request->body_len);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, request->headers);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "paycore-webhooks/1.0");
	/* a redirect is an answer from the merchant, not an instruction to us */
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long) request_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard_response);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, request);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, request->error);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, request);
	if (curl_multi_add_handle(multi, easy) != CURLM_OK)
		elog(ERROR, "paycore: could not queue a webhook request");
	in_flight++;
}

static void
finish_request(CURL *easy, CURLcode result)
{
	HttpRequest *request;
	double		seconds = 0;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &request);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &request->status_code);
	curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &seconds);
	request->duration_ms = seconds * 1000.0;
	if (result == CURLE_WRITE_ERROR && request->response_bytes > RESPONSE_BYTES_MAX)
		result = CURLE_OK;		/* we stopped reading, the status is in */
	if (result != CURLE_OK)
	{
		if (request->error[0] == '\0')
			strlcpy(request->error, curl_easy_strerror(result), CURL_ERROR_SIZE);
	}
	else
		request->error[0] = '\0';
	curl_multi_remove_handle(multi, easy);
	return_handle(easy);
	request->easy = NULL;
	request->next_done = NULL;
	if (done_tail)
		done_tail->next_done = request;
	else
		done_head = request;
	done_tail = request;
	in_flight--;
}

static void
collect_finished(void)
{
	CURLMsg    *msg;
	int			pending;

	while ((msg = curl_multi_info_read(multi, &pending)) != NULL)
	{
		if (msg->msg == CURLMSG_DONE)
			finish_request(msg->easy_handle, msg->data.result);
	}
}

static void
socket_action(curl_socket_t fd, int bitmask)
{
	int			running;

	curl_multi_socket_action(multi, fd, bitmask, &running);
	collect_finished();
}

int
http_in_flight(void)
{
	return in_flight;
}

HttpRequest *
http_take_done(void)
{
	HttpRequest *request = done_head;

	if (request)
	{
		done_head = request->next_done;
		if (done_head == NULL)
			done_tail = NULL;
	}
	return request;
}

/* Milliseconds until libcurl needs a call, or -1 when it needs none. */
long
http_timeout_ms(void)
{
	long		secs;
	int			usecs;

	if (timer_deadline == 0)
		return -1;
	TimestampDifference(GetCurrentTimestamp(), timer_deadline, &secs, &usecs);
	return secs * 1000 + (usecs + 999) / 1000;
}

int
http_socket_count(void)
{
	return nsockets;
}

void
http_add_wait_events(WaitEventSet *set)
{
	for (int i = 0; i < nsockets; i++)
	{
		uint32		events = 0;

		if (sockets[i].what & CURL_POLL_IN)
			events |= WL_SOCKET_READABLE;
		if (sockets[i].what & CURL_POLL_OUT)
			events |= WL_SOCKET_WRITEABLE;
		AddWaitEventToSet(set, events, sockets[i].fd, NULL, NULL);
	}
}

void
http_socket_ready(pgsocket fd, uint32 events)
{
	int			bitmask = 0;

	if (events & WL_SOCKET_READABLE)
		bitmask |= CURL_CSELECT_IN;
	if (events & WL_SOCKET_WRITEABLE)
		bitmask |= CURL_CSELECT_OUT;
	socket_action(fd, bitmask);
}

void
http_timer_expired(void)
{
	timer_deadline = 0;
	socket_action(CURL_SOCKET_TIMEOUT, 0);
}
