#ifndef PAYCORE_STATE_MACHINE_H
#define PAYCORE_STATE_MACHINE_H

/* The order of these matches the enum labels in src/sql/types/status.sql. */
typedef enum OrderStatus
{
	ORDER_PENDING,
	ORDER_PROCESSING,
	ORDER_PAID,
	ORDER_FAILED,
	ORDER_CLOSED,
	ORDER_PARTIALLY_REFUNDED,
	ORDER_REFUNDED,
	ORDER_STATUS_COUNT
} OrderStatus;

typedef enum RefundStatus
{
	REFUND_PENDING,
	REFUND_SUCCEEDED,
	REFUND_FAILED,
	REFUND_STATUS_COUNT
} RefundStatus;

typedef struct StateMachine
{
	const char *entity;			/* "order" or "refund", as in audit_log */
	const char *type_name;		/* the enum type in schema paycore */
	int			nstates;
	const char *const *labels;
	int			ntransitions;
	const int (*transitions)[2];
} StateMachine;

extern const StateMachine order_machine;
extern const StateMachine refund_machine;

extern int	status_from_datum(const StateMachine *machine, Datum value);
extern Datum status_to_datum(const StateMachine *machine, Oid enum_type, int status);
extern bool transition_allowed(const StateMachine *machine, int from, int to);
extern Datum statuses_leading_to(const StateMachine *machine, int to);
extern void check_transition(const StateMachine *machine, int64 id, int from, int to);

#endif
