#ifndef PAYCORE_NOTIFY_H
#define PAYCORE_NOTIFY_H

extern void notify_init(void);
extern void enqueue_event(const char *event_type, int64 order_id, int64 refund_id);

#endif
