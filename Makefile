# paycore: PGXS build.  PG_CONFIG picks the server (PostgreSQL 15 on Debian).

EXTENSION = paycore
MODULE_big = paycore
OBJS = \
	src/auth.o \
	src/card.o \
	src/credentials.o \
	src/crypto.o \
	src/guc.o \
	src/http.o \
	src/ledger.o \
	src/notify.o \
	src/order_api.o \
	src/order_rules.o \
	src/paycore.o \
	src/queue.o \
	src/reference.o \
	src/refund_api.o \
	src/refund_rules.o \
	src/retry_schedule.o \
	src/row.o \
	src/signing.o \
	src/spi_util.o \
	src/state_machine.o \
	src/transition_log.o \
	src/triggers.o \
	src/unicode_letters.o \
	src/validation.o \
	src/worker.o \
	src/worker_state.o

# The current version's install script is assembled from its pieces, in
# dependency order.  Shipped scripts are frozen: paycore--1.0.sql,
# paycore--1.1.sql and paycore--1.2.sql are those versions as released and
# are never edited; each release after one adds an update script
# (paycore--A--B.sql) that carries only what changed.
SQL_PIECES = \
	src/sql/header.sql \
	src/sql/types/status.sql \
	src/sql/tables/reference.sql \
	src/sql/tables/users.sql \
	src/sql/tables/merchants.sql \
	src/sql/tables/orders.sql \
	src/sql/tables/refunds.sql \
	src/sql/tables/audit_log.sql \
	src/sql/tables/notifications.sql \
	src/sql/functions/internal.sql \
	src/sql/functions/state_machine.sql \
	src/sql/functions/users.sql \
	src/sql/functions/merchants.sql \
	src/sql/functions/orders.sql \
	src/sql/functions/refunds.sql \
	src/sql/functions/notifications.sql \
	src/sql/triggers.sql \
	src/sql/grants.sql

DATA_built = paycore--1.3.sql
# PGXS installs DATA files by their base name.
DATA = \
	src/sql/paycore--1.0.sql \
	src/sql/paycore--1.0--1.1.sql \
	src/sql/paycore--1.1.sql \
	src/sql/paycore--1.1--1.2.sql \
	src/sql/paycore--1.2.sql \
	src/sql/paycore--1.2--1.3.sql

SHLIB_LINK = -lcurl
# Our own files build with every warning as an error.  The server's headers
# are included as system headers: their inline functions (ilist.h,
# bufpage.h) would otherwise trip -Wextra in every file.
PG_CFLAGS = -Wall -Wextra -Werror
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server)

REGRESS = tour dump_restore
ISOLATION = refund_race refund_race_rr confirm_close_race duplicate_confirm merchant_delete_race
ISOLATION_OPTS = --inputdir=test/isolation
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

EXTRA_CLEAN = paycore--1.3.sql

# No LLVM bitcode: the JIT gains nothing on trigger code, and clang is not
# needed to build.
override with_llvm := no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

paycore--1.3.sql: $(SQL_PIECES)
	cat $^ > $@

bench:
	bench/run.sh
.PHONY: bench
