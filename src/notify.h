#ifndef PAYCORE_NOTIFY_H
#define PAYCORE_NOTIFY_H

extern void notify_init(void);
extern void wake_worker_at_commit(void);

#endif
