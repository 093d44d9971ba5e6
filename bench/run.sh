#!/usr/bin/env bash
# paycore's benchmark (issue 4): `make bench`, or bench/run.sh, as root.
#
# Installs what it needs from Debian's packages, builds and installs paycore,
# starts a throwaway PostgreSQL cluster tuned as bench/postgresql.bench.conf
# says and a local nginx (bench/nginx.conf) that answers 200 to every POST,
# runs the six scenarios, and writes bench/results/latest.md (one markdown
# table, also printed) and bench/results/latest-latency.png (quick runs:
# quick.md and quick-latency.png).  Everything it starts
# is stopped and removed on exit, failure and Ctrl-C included.
#
#   BENCH_QUICK=1    a smaller version of everything (under 2 minutes), for CI
#   BENCH_PROFILE=1  also load pg_stat_statements and write results/profile.md
#   BENCH_KEEP=1     keep the run's directory (logs, data files) for a post-mortem
#
# The figures are for comparing paycore with its lower bounds on the same
# machine in the same run, A and B alternating (ABBA) so that drift in the
# machine's speed cancels out.  Nothing here is a test: no figure fails it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")
quick=${BENCH_QUICK:-0}
profile=${BENCH_PROFILE:-0}
PGBIN=/usr/lib/postgresql/15/bin
# Debian's interpreter, the one python3-psycopg2 is installed for (a python3
# earlier on PATH, from pyenv or a virtualenv, would not see it).
PY=/usr/bin/python3
export LANG=C.UTF-8 LC_ALL=C.UTF-8

# --- sizes ------------------------------------------------------------------
merchants=4                   # webhooks spread over 4 merchants: the worker lets one merchant
                              # hold at most half of paycore.max_concurrency
cores=$(nproc)
if [ "$quick" = 1 ]; then
	rounds=2 seconds=2        # per pgbench run; each scenario alternates A and B rounds times
	refund_pool=2000 login_users=6
	burst_orders=5000 burst_rounds=1
	isolated=60 stream_rate=20 stream_seconds=5
	history=100000
else
	# Five short rounds rather than three long ones, in the same time: on a
	# shared 2-core VM one side's throughput can move by a fifth from one
	# 10 s run to the next, and the median of five alternations is less at
	# the mercy of one such run.
	rounds=5 seconds=6
	refund_pool=20000 login_users=40
	burst_orders=20000 burst_rounds=3
	isolated=300 stream_rate=20 stream_seconds=15
	history=2000000
fi

say() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

# --- what it needs ----------------------------------------------------------
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install_dependencies() {
	# paycore's own build and run dependencies (make, gcc, PostgreSQL 15, libcurl).
	"$top/scripts/deps.sh"
	local missing=()
	installed nginx-light || installed nginx || installed nginx-core || missing+=(nginx-light)
	installed postgresql-client-15 || missing+=(postgresql-client-15)   # pgbench
	installed python3-psycopg2 || missing+=(python3-psycopg2)           # webhooks.py
	command -v gnuplot >/dev/null || missing+=(gnuplot-nox)             # latency.png
	[ "${#missing[@]}" -eq 0 ] && return
	if [ "$(id -u)" -ne 0 ]; then
		echo "bench: missing packages (${missing[*]}); run this as root to install them" >&2
		exit 1
	fi
	say "installing ${missing[*]}"
	# Debian starts a package's service on install: nginx would take port 80
	# and stay behind.  policy-rc.d is Debian's switch for "start nothing";
	# set it only for this install, and only if the machine has none.
	local policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || { [ -n "$policy" ] && rm -f "$policy"; exit 1; }
	[ -n "$policy" ] && rm -f "$policy"
	return 0
}

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- clean-up: nothing of the run survives it -------------------------------
WORK="" nginx_pid=""
cleanup() {
	local status=$?
	trap - EXIT INT TERM
	if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
		kill -QUIT "$nginx_pid" 2>/dev/null || true     # graceful: workers finish, then exit
		wait "$nginx_pid" 2>/dev/null || true
	fi
	if [ -n "$WORK" ] && [ -f "$WORK/pgdata/postmaster.pid" ]; then
		# immediate: a throwaway cluster needs no shutdown checkpoint of 4 GB of buffers
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pgdata" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	if [ "$status" -ne 0 ] && [ -n "$WORK" ]; then
		echo "bench: failed (exit $status); the end of the server log:" >&2
		tail -n 30 "$WORK/postgres.log" >&2 2>/dev/null || true
		tail -n 10 "$WORK/nginx/error.log" >&2 2>/dev/null || true
	fi
	if [ -n "$WORK" ]; then
		if [ "${BENCH_KEEP:-0}" = 1 ]; then
			echo "bench: kept $WORK" >&2
		else
			rm -rf "$WORK"
		fi
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the server -------------------------------------------------------------
pg_ctl_() { (cd "$WORK" && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pgdata" -l "$WORK/postgres.log" -w "$@" >/dev/null); }

start_postgres() {
	local pgport key
	pgport=$(free_port)
	key=$(head -c 24 /dev/urandom | base64)
	mkdir -p "$WORK/pgdata" "$WORK/sock"
	chown postgres: "$WORK/pgdata" "$WORK/sock"
	runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pgdata" -U postgres --auth=trust \
		-E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log"
	# The recommended settings, as a file of their own, and then what is
	# particular to this run.  Unix socket only: the run's own directory, so
	# no other cluster on the machine can collide with it.
	install -o postgres -m 644 "$here/postgresql.bench.conf" "$WORK/pgdata/postgresql.bench.conf"
	local preload=paycore
	[ "$profile" = 1 ] && preload=paycore,pg_stat_statements
	cat >>"$WORK/pgdata/postgresql.conf" <<-EOF
		include 'postgresql.bench.conf'
		listen_addresses = ''
		port = $pgport
		unix_socket_directories = '$WORK/sock'
		shared_preload_libraries = '$preload'
		paycore.database = 'paycore_bench'
		paycore.encryption_key = '$key'
	EOF
	if [ "$profile" = 1 ]; then
		printf "pg_stat_statements.track = all\ntrack_functions = all\n" >>"$WORK/pgdata/postgresql.conf"
	fi
	export PGHOST="$WORK/sock" PGPORT="$pgport" PGUSER=postgres PGDATABASE=paycore_bench
	# paycore.database must exist when the worker starts (it reads it once):
	# create it on a first start without the worker, then start for real.
	pg_ctl_ start -o "-c shared_preload_libraries="
	"$PGBIN/createdb" paycore_bench
	pg_ctl_ stop -m fast
	pg_ctl_ start
}

psql_() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
sql() { psql_ -At -c "$1"; }

start_nginx() {
	nginx_port=$(free_port)
	mkdir -p "$WORK/nginx"
	sed -e "s|@WORK@|$WORK|g" -e "s|@PORT@|$nginx_port|g" "$here/nginx.conf" >"$WORK/nginx/nginx.conf"
	local nginx=/usr/sbin/nginx
	"$nginx" -t -q -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf"
	"$nginx" -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" &
	nginx_pid=$!
	# A POST with a JSON body and an event id must get its 200, and its line
	# must reach the access log: otherwise scenarios 4 and 5 measure nothing.
	"$PY" - "$nginx_port" "$WORK/nginx/access.log" <<-'EOF'
		import http.client, sys, time
		port, log = int(sys.argv[1]), sys.argv[2]
		for _ in range(100):
		    try:
		        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
		        c.request("POST", "/webhooks/check", body=b'{"id": "evt_check"}',
		                  headers={"Content-Type": "application/json", "Paycore-Event-Id": "evt_check"})
		        r = c.getresponse()
		        r.read()
		        break
		    except OSError:
		        time.sleep(0.05)
		else:
		    sys.exit("bench: nginx does not answer on 127.0.0.1:%d" % port)
		if r.status != 200:
		    sys.exit("bench: nginx answered %d to a POST, not 200" % r.status)
		for _ in range(50):
		    try:
		        if " evt_check 200 POST " in open(log).read():
		            sys.exit(0)
		    except FileNotFoundError:
		        pass
		    time.sleep(0.1)
		sys.exit("bench: nginx did not log the POST with its event id")
	EOF
}

setup_database() {
	psql_ -c "CREATE EXTENSION paycore CASCADE" 2>&1 | grep -v '^NOTICE' || true
	[ "$profile" = 1 ] && psql_ -c "CREATE EXTENSION pg_stat_statements"
	psql_ -f "$here/raw.sql"
	# Merchants whose notify_url is the local nginx.
	sql "SELECT count(*) FROM generate_series(1, $merchants) g,
	            LATERAL paycore.create_merchant('Bench merchant ' || g,
	                                            'http://127.0.0.1:$nginx_port/webhooks/' || g)" >/dev/null
	# The same, without raw tables, in a database the worker does not serve.
	"$PGBIN/createdb" paycore_alone
	psql_ -d paycore_alone -c "CREATE EXTENSION paycore CASCADE" 2>&1 | grep -v '^NOTICE' || true
	psql_ -d paycore_alone -c "CREATE SCHEMA bench; CREATE SEQUENCE bench.keys"
	psql_ -d paycore_alone -Atc "SELECT count(*) FROM generate_series(1, $merchants) g,
	        LATERAL paycore.create_merchant('Bench merchant ' || g, 'http://127.0.0.1:$nginx_port/alone/' || g)" >/dev/null
	for _ in $(seq 100); do
		[ "$(sql "SELECT running FROM paycore.worker_status")" = t ] && return
		sleep 0.1
	done
	echo "bench: the paycore worker did not start" >&2
	exit 1
}

# --- measuring --------------------------------------------------------------
results() { cat >>"$WORK/results.jsonl"; }
webhooks() { "$PY" "$here/webhooks.py" "$@"; }
drain() { webhooks drain --timeout 300; }

# CPU ticks: "busy total worker" (machine-wide busy excludes idle and iowait).
cpu_snapshot() {
	local pid
	pid=$(sql "SELECT pid FROM paycore.worker_status")
	awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat | tr '\n' ' '
	sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12+$13}'
}

# One pgbench run: scenario side clients script round [pgbench -D options...].
# Side "alone" runs in paycore_alone, a database the worker does not serve,
# with alone_opts after the other options (its own pool's ids).
alone_opts=()
pgbench_run() {
	local scenario=$1 side=$2 clients=$3 script=$4 round=$5 out before after db=paycore_bench
	shift 5
	if [ "$side" = alone ]; then
		db=paycore_alone
		set -- "$@" "${alone_opts[@]}"
	fi
	drain    # the previous run's webhooks must not be delivered during this one
	# WAL written by the whole server during the run (the worker's included):
	# bytes and full-page images a transaction say what the disk must absorb.
	local wal_before wal_after
	wal_before=$(sql "SELECT wal_bytes, wal_fpi FROM pg_stat_wal" | tr '|' ' ')
	before=$(cpu_snapshot)
	out=$("$PGBIN/pgbench" -n -M prepared -c "$clients" -j "$clients" -T "$seconds" \
		-f "$here/$script" "$@" "$db" 2>&1) || { echo "$out" >&2; exit 1; }
	after=$(cpu_snapshot)
	local backlog
	backlog=$(sql "SELECT count(*) FROM paycore.notifications WHERE status = 'pending'")
	# (the worker reports its WAL statistics about once a second: the window
	# is shifted by up to a second, the same at both ends)
	wal_after=$(sql "SELECT wal_bytes, wal_fpi FROM pg_stat_wal" | tr '|' ' ')
	awk -v scenario="$scenario" -v side="$side" -v clients="$clients" -v round="$round" \
		-v before="$before" -v after="$after" -v backlog="$backlog" \
		-v wal_before="$wal_before" -v wal_after="$wal_after" '
		/^tps = / { tps = $3 }
		/^latency average = / { lat = $4 }
		/^number of failed transactions: / { failed = $5 }
		/^number of transactions actually processed: / { tx = $6 }
		END {
			split(before, b, " "); split(after, a, " ")
			split(wal_before, wb, " "); split(wal_after, wa, " ")
			if (tps == "" || tx == 0) { print "bench: pgbench printed no tps" > "/dev/stderr"; exit 1 }
			printf "{\"scenario\": \"%s\", \"side\": \"%s\", \"clients\": %d, \"round\": %d, \"tps\": %s, \"latency_ms\": %s, \"failed\": %d, \"machine_busy\": %.4f, \"worker_cpu_ticks\": %d, \"busy_ticks\": %d, \"backlog\": %d, \"wal_bytes_per_tx\": %.0f, \"fpi_per_tx\": %.3f}\n",
				scenario, side, clients, round, tps, lat, failed + 0, (a[1] - b[1]) / (a[2] - b[2]), a[3] - b[3], a[1] - b[1], backlog,
				(wa[1] - wb[1]) / tx, (wa[2] - wb[2]) / tx
		}' <<<"$out" | results
	say "  $scenario $side c=$clients round $round: $(awk '/^tps = /{printf "%.0f tps", $3}' <<<"$out")"
}

# rotate scenario clients side=script... -- pgbench options
# Runs every side once a round, the order rotating from round to round
# (A B, B A, A B for two sides; A B C, B C A, C A B for three), so that no
# side always runs first or last while the machine drifts.
rotate() {
	local scenario=$1 clients=$2 sides=() r i n
	shift 2
	while [ "$1" != -- ]; do sides+=("$1"); shift; done
	shift
	n=${#sides[@]}
	for r in $(seq "$rounds"); do
		for i in $(seq 0 $((n - 1))); do
			local pick=${sides[$(((r - 1 + i) % n))]}
			pgbench_run "$scenario" "${pick%%=*}" "$clients" "${pick#*=}" "$r" "$@"
		done
	done
}

scenario_order_path() {
	say "1. order path: paycore vs raw lower bound"
	rotate order 1 paycore=order_paycore.pgbench raw=order_raw.pgbench -- -D merchants=$merchants
	# At 4 clients also paycore without its deliveries: the same transactions
	# in a database the worker does not serve, to separate what the
	# transaction path costs from what delivering its webhooks costs.
	rotate order 4 paycore=order_paycore.pgbench raw=order_raw.pgbench alone=order_paycore.pgbench \
		-- -D merchants=$merchants
}

# A pool of paid orders to refund, made through the API: "min max" of its ids.
refund_pool_in() {
	psql_ -d "$1" -Atc "WITH o AS MATERIALIZED (
	        SELECT paycore.create_order(1 + g % $merchants, 'P' || nextval('bench.keys'), 1000000, 'CNY', 'alipay') AS id
	          FROM generate_series(1, $refund_pool) g)
	    SELECT min(id), max(id), count(paycore.confirm_payment(id, 'CHP-' || id, 1000000)) FROM o" | cut -d'|' -f1,2 | tr '|' ' '
}

scenario_refund_path() {
	say "2. refund path: a pool of $refund_pool paid orders on each side"
	local plo phi rlo rhi alo ahi
	# paycore's pool through its API; its order.paid webhooks are drained
	# before the first measurement.
	read -r plo phi < <(refund_pool_in paycore_bench)
	read -r alo ahi < <(refund_pool_in paycore_alone)
	read -r rlo rhi < <(sql "WITH o AS (
	        INSERT INTO raw.orders (merchant_id, out_trade_no, amount, currency, payment_method, status,
	                                channel_trade_no, paid_at, expires_at)
	        SELECT 1 + g % $merchants, 'P' || nextval('bench.keys'), 1000000, 'CNY', 'alipay', 'paid',
	               'CHP-' || g, now(), now() + interval '30 minutes'
	          FROM generate_series(1, $refund_pool) g RETURNING id)
	    SELECT min(id), max(id) FROM o" | tr '|' ' ')
	if [ $((phi - plo + 1)) -ne "$refund_pool" ] || [ $((rhi - rlo + 1)) -ne "$refund_pool" ] ||
		[ $((ahi - alo + 1)) -ne "$refund_pool" ]; then
		echo "bench: the refund pools are not contiguous" >&2
		exit 1
	fi
	rotate refund 1 paycore=refund_paycore.pgbench raw=refund_raw.pgbench \
		-- -D plo="$plo" -D phi="$phi" -D rlo="$rlo" -D rhi="$rhi"
	# At 4 clients also without deliveries, as for the order path.
	alone_opts=(-D plo="$alo" -D phi="$ahi")
	rotate refund 4 paycore=refund_paycore.pgbench raw=refund_raw.pgbench alone=refund_paycore.pgbench \
		-- -D plo="$plo" -D phi="$phi" -D rlo="$rlo" -D rhi="$rhi"
	alone_opts=()
}

scenario_credentials() {
	local cost
	cost=$(sql "SHOW paycore.bcrypt_cost")
	say "3. register_user / authenticate vs bare crypt, bcrypt cost $cost, $cores clients"
	# Users to log in as, registered at the default cost like any other.
	sql "SELECT count(paycore.register_user('login' || g, 'correct horse 42', '4111 1111 1111 1111', 'Bench User'))
	       FROM generate_series(1, $login_users) g" >/dev/null
	rotate credentials "$cores" register=register_paycore.pgbench login=login_paycore.pgbench \
		crypt=crypt_bare.pgbench -- -D users="$login_users" -D cost="$cost"
}

scenario_webhook_burst() {
	say "4. webhook throughput: $burst_orders paid orders in one transaction, $burst_rounds times"
	local r
	for r in $(seq "$burst_rounds"); do
		webhooks burst --orders "$burst_orders" --merchants "$merchants" --log "$WORK/nginx/access.log" | results
		say "  round $r: $(tail -n 1 "$WORK/results.jsonl" | "$PY" -c 'import json,sys; r=json.load(sys.stdin); print("%.0f deliveries/s, worker CPU %.0f%%" % (r["deliveries_per_s"], 100*r["worker_cpu"]))')"
	done
}

scenario_latency() {
	say "5. commit-to-webhook latency: $isolated isolated, then $stream_rate/s for ${stream_seconds}s"
	webhooks latency --isolated "$isolated" --rate "$stream_rate" --seconds "$stream_seconds" \
		--merchants "$merchants" --log "$WORK/nginx/access.log" --data "$WORK" | results
}

claim_time() {
	webhooks claim --repeat 20 --merchants "$merchants" --source "$top/src/queue.c" \
		--label "$1" --data "$WORK" | results
}

scenario_growth() {
	say "6. growth: loading $history orders and $history delivered notifications"
	local t0
	t0=$(date +%s)
	psql_ -v n="$history" -v merchants="$merchants" -f "$here/history.sql" >/dev/null
	printf '{"scenario": "load", "rows": %d, "seconds": %d}\n' "$history" $(($(date +%s) - t0)) | results
	claim_time history
	say "   order path again, 4 clients"
	rotate growth 4 paycore=order_paycore.pgbench -- -D merchants=$merchants
}

# --- the run ----------------------------------------------------------------
started=$(date +%s)
install_dependencies
say "building and installing paycore"
make -C "$top" -s >/dev/null
make -C "$top" -s install >/dev/null

WORK=$(mktemp -d /tmp/paycore-bench.XXXXXX)
chmod 755 "$WORK"
chown postgres: "$WORK"   # the server writes its log here; root (nginx, clients) can write anyway
: >"$WORK/results.jsonl"
say "cluster and nginx in $WORK ($([ "$quick" = 1 ] && echo quick mode || echo full run))"
start_postgres
start_nginx
setup_database
claim_time empty

scenario_order_path
scenario_refund_path
scenario_credentials
scenario_webhook_burst
scenario_latency
scenario_growth

# --- the report -------------------------------------------------------------
mkdir -p "$here/results"
# A quick run (CI's) writes beside the full results, never over them.
name=latest
[ "$quick" = 1 ] && name=quick
if [ "$profile" = 1 ]; then
	psql_ -f "$here/profile.sql" >"$here/results/profile.md"
fi
pg_version=$(sql "SELECT version()")
settings=$(grep -E '^[a-z_.]+ *=' "$here/postgresql.bench.conf" | sed 's/ *#.*//')
paycore_settings=$(sql "SELECT string_agg(name || ' = ' || setting || coalesce(unit, ''), E'\n' ORDER BY name)
                          FROM pg_settings WHERE name LIKE 'paycore.%' AND name <> 'paycore.encryption_key'")
"$PY" "$here/report.py" \
	--results "$WORK/results.jsonl" --out "$here/results/$name.md" --plot "$name-latency.png" \
	--quick "$quick" --rounds "$rounds" --seconds "$seconds" --merchants "$merchants" \
	--history "$history" --burst-orders "$burst_orders" --isolated "$isolated" \
	--stream "$stream_rate/s for ${stream_seconds}s" --refund-pool "$refund_pool" \
	--pg-version "$pg_version" --settings "$settings" --paycore-settings "$paycore_settings" \
	--claim-plan "$WORK/claim_history.txt" --elapsed "$(($(date +%s) - started))"
gnuplot -e "isolated='$WORK/latency_isolated.dat'; stream='$WORK/latency_stream.dat'; out='$here/results/$name-latency.png'" \
	"$here/latency.gp"
say "wrote bench/results/$name.md and bench/results/$name-latency.png in $(($(date +%s) - started)) s"
