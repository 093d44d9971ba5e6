#ifndef PAYCORE_WORKER_STATE_H
#define PAYCORE_WORKER_STATE_H

extern bool paycore_preloaded;

extern void worker_state_request(void);
extern void worker_state_attach(void);
extern void worker_state_set_in_flight(int in_flight);
extern void wake_worker(void);

#endif
