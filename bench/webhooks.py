#!/usr/bin/python3
"""Scenarios 4, 5 and 6's claim timing, driven from Python because they need
client-side timestamps (pgbench and psql cannot say when a COMMIT returned).

Runs with Debian's /usr/bin/python3 and python3-psycopg2 (run.sh installs it);
connects through the libpq environment run.sh sets (PGHOST, PGPORT, ...).
Each subcommand prints one JSON object per measurement on stdout, for
bench/report.py.

  webhooks.py burst    --orders N --merchants M --log ACCESS_LOG
  webhooks.py latency  --isolated N --rate R --seconds S --merchants M --log ACCESS_LOG --data DIR
  webhooks.py claim    --repeat K --merchants M --source src/queue.c --label L --data DIR
  webhooks.py drain    [--timeout S]
"""
import argparse
import json
import os
import random
import re
import statistics
import sys
import time

import psycopg2

CLK_TCK = os.sysconf("SC_CLK_TCK")


def connect(autocommit=True):
    conn = psycopg2.connect("")
    conn.autocommit = autocommit
    return conn


def one(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0]


def emit(record):
    print(json.dumps(record), flush=True)


# --- CPU accounting from /proc ---------------------------------------------

def process_cpu_seconds(pid):
    """utime + stime of a process, in seconds (fields 14 and 15 of stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_cpu():
    """(busy, total) jiffies over all cores; busy excludes idle and iowait."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    total = sum(values[:8])          # guest time is already in user
    return total - values[3] - values[4], total


def worker_pid(conn):
    pid = one(conn, "SELECT pid FROM paycore.worker_status WHERE running")
    if pid is None:
        sys.exit("webhooks.py: the paycore worker is not running")
    return pid


# --- the queue and nginx's log ----------------------------------------------

def wait_drained(conn, timeout):
    """Until no notification is pending (those in flight are still pending)."""
    start = time.time()
    checked = start
    while one(conn, "SELECT EXISTS (SELECT FROM paycore.notifications WHERE status = 'pending')"):
        now = time.time()
        if now - checked > 5:
            # nginx answers 200 to everything: a failed attempt means the
            # benchmark itself is broken, and its retry would only be due
            # 15 s later.  Say so rather than wait.
            checked = now
            failed = one(conn, "SELECT min(last_error) FROM paycore.notifications"
                               " WHERE status = 'pending' AND attempts > 0")
            if failed:
                sys.exit("webhooks.py: webhook deliveries are failing: %s" % failed)
        if now - start > timeout:
            sys.exit("webhooks.py: notifications still pending after %ss" % timeout)
        # Cheap (the partial index's first entry) and rare enough not to
        # compete with the worker for the 2 cores.
        time.sleep(0.02)
    return time.time()


def wait_autovacuum_idle(conn, timeout):
    """Until no autovacuum worker runs in any database; the seconds waited.
    The earlier scenarios leave their tables to autovacuum, which would
    otherwise run beside the worker during the first bursts."""
    start = time.time()
    while one(conn, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"):
        if time.time() - start > timeout:
            break
        time.sleep(0.1)
    return time.time() - start


def read_log(path, offset, wanted, timeout=5.0):
    """First arrival ($msec) of each wanted event id in nginx's access log,
    read from byte offset on.  nginx flushes its log buffer every 200 ms, so
    wait until every wanted id is there.  $msec is truncated to the
    millisecond: each arrival gets half of one added, so that it is within
    +-0.5 ms and a set of them is not biased low."""
    arrivals = {}
    deadline = time.time() + timeout
    while True:
        with open(path) as f:
            f.seek(offset)
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[1] in wanted and parts[2] == "200":
                    t = float(parts[0]) + 0.0005
                    if parts[1] not in arrivals or t < arrivals[parts[1]]:
                        arrivals[parts[1]] = t
        if len(arrivals) == len(wanted) or time.time() > deadline:
            return arrivals
        time.sleep(0.1)


def log_size(path):
    return os.path.getsize(path) if os.path.exists(path) else 0


# --- scenario 4: a burst of paid orders in one transaction ------------------

def burst(args):
    conn = connect()
    wait_drained(conn, 120)
    # Start from the state autovacuum leaves an idle queue in: dead rows of
    # the previous runs gone, statistics taken while nothing was pending.
    # Without this the figure would depend on when autovacuum last ran
    # (the worker's plans follow the statistics).
    with conn.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) paycore.notifications")
    autovacuum_wait = wait_autovacuum_idle(conn, 120)
    pid = worker_pid(conn)
    before_id = one(conn, "SELECT coalesce(max(id), 0) FROM paycore.notifications")
    offset = log_size(args.log)

    writer = connect(autocommit=False)
    with writer.cursor() as cur:
        # Materialised so that each order is created exactly once.
        cur.execute("""
            WITH o AS MATERIALIZED (
                SELECT paycore.create_order(1 + g %% %s, 'W' || nextval('bench.keys'),
                                            10000, 'CNY', 'alipay') AS id
                  FROM generate_series(1, %s) g)
            SELECT count(paycore.confirm_payment(o.id, 'CHW-' || o.id, 10000)) FROM o""",
                    (args.merchants, args.orders))
    worker_before = process_cpu_seconds(pid)
    busy_before, total_before = machine_cpu()
    writer.commit()
    committed = time.time()
    drained = wait_drained(conn, 600)
    worker_after = process_cpu_seconds(pid)
    busy_after, total_after = machine_cpu()

    with conn.cursor() as cur:
        cur.execute("SELECT event_id, extract(epoch FROM delivered_at) FROM paycore.notifications"
                    " WHERE id > %s", (before_id,))
        rows = cur.fetchall()
        # Each claim stamps its batch with one attempted_at: the number of
        # distinct values is the number of claim transactions.
        cur.execute("SELECT count(DISTINCT attempted_at), count(*) FROM paycore.delivery_attempts"
                    " WHERE notification_id > %s", (before_id,))
        claims, attempts = cur.fetchone()
    if len(rows) != args.orders:
        sys.exit("webhooks.py: expected %d notifications, found %d" % (args.orders, len(rows)))
    arrivals = read_log(args.log, offset, {r[0] for r in rows})
    if len(arrivals) != args.orders:
        sys.exit("webhooks.py: nginx logged %d of %d events" % (len(arrivals), args.orders))
    last_arrival = max(arrivals.values())
    last_recorded = max(float(r[1]) for r in rows)
    window = drained - committed
    emit({
        "scenario": "burst", "orders": args.orders,
        "deliveries_per_s": args.orders / (last_arrival - committed),
        "first_ms": (min(arrivals.values()) - committed) * 1000,
        "last_ms": (last_arrival - committed) * 1000,
        "recorded_ms": (last_recorded - committed) * 1000,
        "worker_cpu": (worker_after - worker_before) / window,
        "worker_us_per_delivery": (worker_after - worker_before) / args.orders * 1e6,
        "machine_busy": (busy_after - busy_before) / (total_after - total_before),
        "claims": claims, "attempts": attempts, "autovacuum_wait_s": autovacuum_wait,
    })


# --- scenario 5: commit-to-webhook latency ----------------------------------

def pay_one(writer, merchants, key):
    """One paid order in its own transaction; the time its COMMIT returned."""
    with writer.cursor() as cur:
        cur.execute("SELECT paycore.confirm_payment(paycore.create_order(%s, %s, 10000, 'CNY', 'alipay'),"
                    " 'CH-' || %s, 10000)", (random.randint(1, merchants), key, key))
    writer.commit()
    return time.time()


def percentile(sorted_values, p):
    """Nearest rank: the smallest value with at least p% of values at or below it."""
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def latency_case(conn, args, name, schedule):
    """Commits one paid order per entry of schedule (seconds from the start,
    or None for "after a random pause") and matches each to nginx's log."""
    wait_drained(conn, 120)
    before_id = one(conn, "SELECT coalesce(max(id), 0) FROM paycore.notifications")
    offset = log_size(args.log)
    writer = connect(autocommit=False)
    run = one(conn, "SELECT nextval('bench.keys')")
    commits = {}
    start = time.time()
    for i, at in enumerate(schedule):
        if at is None:
            # An otherwise idle server: the previous webhook has long left.
            time.sleep(random.uniform(0.03, 0.07))
        else:
            delay = start + at - time.time()
            if delay > 0:
                time.sleep(delay)
        key = "L%d-%d" % (run, i)
        commits[key] = pay_one(writer, args.merchants, key)
    elapsed = time.time() - start
    wait_drained(conn, 120)

    with conn.cursor() as cur:
        # out_trade_no -> event id, and when the worker claimed it (attempted_at
        # is taken just before the claim query, to the microsecond).
        cur.execute("""
            SELECT n.payload #>> '{data,order,out_trade_no}', n.event_id,
                   extract(epoch FROM (SELECT min(a.attempted_at) FROM paycore.delivery_attempts a
                                        WHERE a.notification_id = n.id))
              FROM paycore.notifications n WHERE n.id > %s AND n.event_type = 'order.paid'""",
                    (before_id,))
        events = {key: (event, float(claimed)) for key, event, claimed in cur.fetchall() if key in commits}
    if len(events) != len(commits):
        sys.exit("webhooks.py: %d of %d orders have a notification" % (len(events), len(commits)))
    arrivals = read_log(args.log, offset, {e for e, _ in events.values()})
    if len(arrivals) != len(commits):
        sys.exit("webhooks.py: nginx logged %d of %d events" % (len(arrivals), len(commits)))

    latencies = sorted((arrivals[event] - commits[key]) * 1000
                       for key, (event, _) in events.items())
    to_claim = sorted((claimed - commits[key]) * 1000 for key, (_, claimed) in events.items())
    with open(os.path.join(args.data, "latency_%s.dat" % name), "w") as f:
        f.write("# latency_ms cumulative_fraction\n")
        for i, ms in enumerate(latencies):
            f.write("%.3f %.5f\n" % (ms, (i + 1) / len(latencies)))
    emit({
        "scenario": "latency", "case": name, "count": len(latencies),
        "rate_per_s": len(latencies) / elapsed,
        "p50": percentile(latencies, 50), "p90": percentile(latencies, 90),
        "p99": percentile(latencies, 99), "max": latencies[-1],
        "mean": statistics.fmean(latencies),
        "claim_p50": percentile(to_claim, 50), "claim_p99": percentile(to_claim, 99),
    })


def latency(args):
    conn = connect()
    latency_case(conn, args, "isolated", [None] * args.isolated)
    count = int(args.rate * args.seconds)
    latency_case(conn, args, "stream", [i / args.rate for i in range(count)])


# --- scenario 6: the worker's claim query, timed ----------------------------

SQL_TYPES = {"INT4OID": "integer", "INT8OID": "bigint", "INT4ARRAYOID": "integer[]",
             "INT8ARRAYOID": "bigint[]", "TEXTOID": "text", "TEXTARRAYOID": "text[]",
             "FLOAT8OID": "double precision", "TIMESTAMPTZOID": "timestamptz"}


# The most rows a claim asks for: paycore.max_concurrency's default.
CLAIM_BATCH = 32


def claim_statement(source):
    """The claim statement and its parameter types, taken from src/queue.c
    (claim_sql, and the argtypes that queue_claim prepares it with) so that
    the measurement follows the worker's code as it changes."""
    with open(source) as f:
        text = f.read()
    m = re.search(r"claim_sql\s*=\s*((?:\s*\"(?:[^\"\\]|\\.)*\")+)\s*;", text)
    t = re.search(r"\nqueue_claim\(.*?argtypes\[\d+\]\s*=\s*\{([^}]*)\}", text, re.S)
    if not m or not t:
        sys.exit("webhooks.py: claim_sql or queue_claim's argtypes not found in %s" % source)
    sql = "".join(re.findall(r"\"((?:[^\"\\]|\\.)*)\"", m.group(1)))
    types = [SQL_TYPES[name.strip()] for name in t.group(1).split(",")]
    return sql, types


def claim_arguments(types):
    """$1 is the batch size (32, paycore.max_concurrency's default); arrays
    (busy merchants, ids in flight) are empty; a timestamp (where the
    worker's claim cursor stands) is the start of time, as for a first
    claim; any other integer (the rotation grace period, in s; the cursor's
    id) is a day's worth, long enough for any unit."""
    args = []
    for i, t in enumerate(types):
        if i == 0:
            args.append(str(CLAIM_BATCH))
        elif t.endswith("[]"):
            args.append("'{}'")
        elif t == "timestamptz":
            args.append("'-infinity'")
        else:
            args.append("86400")
    return ", ".join(args)


def claim(args):
    """EXPLAIN ANALYZE of the worker's claim of 32 due rows (the default
    max_concurrency), with whatever history the queue holds.  The due rows
    are inserted in the same transaction and rolled back: the worker never
    sees them."""
    conn = connect()
    sql, types = claim_statement(args.source)
    with conn.cursor() as cur:
        cur.execute("PREPARE claim(%s) AS %s" % (", ".join(types), sql))
    times, plan_text = [], ""
    for _ in range(args.repeat):
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("""INSERT INTO paycore.notifications (event_id, merchant_id, event_type, payload)
                           SELECT 'evt_claim_' || nextval('bench.keys'), 1 + g %% %s, 'order.paid', '{}'
                             FROM generate_series(1, %s) g""", (args.merchants, CLAIM_BATCH))
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) EXECUTE claim(%s)" % claim_arguments(types))
            plan_text = "\n".join(r[0] for r in cur.fetchall())
            cur.execute("ROLLBACK")
        # Less any foreign-key check (a claim that updates its rows, as the
        # first worker's did, fires one here only because the rows were
        # inserted by this same transaction; for committed rows whose key did
        # not change PostgreSQL skips it).  Planning is not counted: this is
        # the claim's execution.
        total = float(re.search(r"Execution Time: ([0-9.]+) ms", plan_text).group(1))
        triggers = sum(float(t) for t in re.findall(r"Trigger for constraint [^:]*: time=([0-9.]+)", plan_text))
        times.append(total - triggers)
    with open(os.path.join(args.data, "claim_%s.txt" % args.label), "w") as f:
        f.write(plan_text + "\n")
    emit({"scenario": "claim", "label": args.label, "ms": statistics.median(times),
          "max_ms": max(times), "repeat": args.repeat, "rows": CLAIM_BATCH,
          "notifications": one(conn, "SELECT count(*) FROM paycore.notifications")})


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("burst")
    p.add_argument("--orders", type=int, required=True)
    p.add_argument("--merchants", type=int, required=True)
    p.add_argument("--log", required=True)
    p = sub.add_parser("latency")
    p.add_argument("--isolated", type=int, required=True)
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--merchants", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--data", required=True)
    p = sub.add_parser("claim")
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--merchants", type=int, required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--label", required=True)
    p.add_argument("--data", required=True)
    p = sub.add_parser("drain")
    p.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    if args.command == "drain":
        wait_drained(connect(), args.timeout)
    else:
        {"burst": burst, "latency": latency, "claim": claim}[args.command](args)


if __name__ == "__main__":
    main()
