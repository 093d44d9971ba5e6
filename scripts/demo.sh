#!/usr/bin/env bash
# Five minutes with paycore: installs what it needs, builds and installs the
# extension, starts a local cluster "15/paycore_demo" with paycore preloaded
# and a webhook receiver on 127.0.0.1, and walks through a payment and a
# refund.  Run as root on Debian.  Run it again any time; it reuses the
# cluster.  Remove it with: pg_dropcluster --stop 15 paycore_demo
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
make -s && make -s install

cluster=paycore_demo
port=${PAYCORE_DEMO_PORT:-5439}
receiver_port=${PAYCORE_DEMO_RECEIVER_PORT:-8765}
state=/var/lib/postgresql/paycore-demo
mkdir -p "$state"

if ! pg_lsclusters -h | awk '{print $1"/"$2}' | grep -qx "15/$cluster"; then
	export LANG=C.UTF-8 LC_ALL=C.UTF-8
	pg_createcluster 15 "$cluster" -p "$port" \
		-o shared_preload_libraries=paycore \
		-o paycore.database=paycore_demo >/dev/null
	# The key lives in a file only postgres can read, not on a command line.
	key_conf=/etc/postgresql/15/$cluster/conf.d/paycore-key.conf
	printf "paycore.encryption_key = '%s'\n" "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$key_conf"
	chown postgres: "$key_conf"
	chmod 600 "$key_conf"
fi
# Restart rather than start: a preloaded library is read only at server
# start, and the build above may have installed a new one.
pg_ctlcluster 15 "$cluster" status >/dev/null 2>&1 && pg_ctlcluster 15 "$cluster" stop
pg_ctlcluster 15 "$cluster" start

# A merchant's endpoint: logs each webhook and checks its signature.
if ! python3 -c "import socket; socket.create_connection(('127.0.0.1', $receiver_port), 1)" 2>/dev/null; then
	nohup python3 test/webhook_receiver.py --log "$state/webhooks.log" --port "$receiver_port" \
		>"$state/receiver.out" 2>&1 &
	sleep 0.5
fi

: > "$state/webhooks.log"	# this run's webhooks only

psql_demo() { runuser -u postgres -- psql -X -p "$port" "$@"; }
psql_demo -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'paycore_demo'" | grep -q 1 ||
	psql_demo -d postgres -qc "CREATE DATABASE paycore_demo"
psql_demo -d paycore_demo -v ON_ERROR_STOP=1 -v receiver_port="$receiver_port" \
	-v receiver_log="$state/webhooks.log" -f scripts/demo.sql
