#ifndef PAYCORE_WORKER_H
#define PAYCORE_WORKER_H

extern void worker_register(void);

#endif
