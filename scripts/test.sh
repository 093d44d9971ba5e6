#!/usr/bin/env bash
# The whole test suite: pg_regress, isolation and pgTAP on a throwaway
# cluster (Debian's pg_virtualenv), then the TAP tests, which make their own
# clusters.  Ends with "Total: N passed, N failed" (one count per test file)
# and exits non-zero on any failure.  Run as root on Debian: it installs what
# it needs first.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

scripts/deps.sh || exit 1
export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
make -s && make -s install || exit 1

logs=$(mktemp -d /tmp/paycore-test.XXXXXX)
chmod 755 "$logs"
# UTF-8 clusters: names like 张三 are part of the tests.
export LANG=C.UTF-8 LC_ALL=C.UTF-8

# -t and a port of our own: runs never collide with another cluster.
PGPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') \
pg_virtualenv -t -v 15 \
	-o shared_preload_libraries=paycore \
	-o paycore.encryption_key=paycore-test-key \
	scripts/run-suites.sh 2>&1 | tee "$logs/suites.log"
suites_rc=${PIPESTATUS[0]}

# The TAP tests run initdb, which refuses root: run them as postgres over a
# copy of the tree that postgres can write to.
mkdir -p "$logs/tree"
cp -a "$top"/. "$logs/tree"/
chown -R postgres: "$logs"
runuser -u postgres -- make -C "$logs/tree" -s installcheck REGRESS= ISOLATION= \
	PROVE_FLAGS=--timer 2>&1 | tee "$logs/tap.log"
tap_rc=${PIPESTATUS[0]}

# Count test files: pg_regress and the isolation tester print one line per
# test ("name ... ok" / "... FAILED"); prove and pg_prove end with
# "Files=N" and list each failed file in their summary ("path (Wstat: ...").
logs_text() { cat "$logs/suites.log" "$logs/tap.log"; }
regress_line='^(test +| +)[^ /]+ +\.\.\. '
regress_passed=$(logs_text | grep -cE "$regress_line"'ok ')
regress_failed=$(logs_text | grep -cE "$regress_line"'(FAILED|failed)')
prove_files=$(logs_text | sed -nE 's/^Files=([0-9]+),.*/\1/p' | awk '{n += $1} END {print n + 0}')
prove_failed=$(logs_text | grep -cE '^[^ ]+\.(sql|pl) +\(Wstat: ')
passed=$((regress_passed + prove_files - prove_failed))
failed=$((regress_failed + prove_failed))
if { [ "$suites_rc" -ne 0 ] || [ "$tap_rc" -ne 0 ]; } && [ "$failed" -eq 0 ]; then
	failed=1
fi
echo
echo "logs: $logs"
echo "Total: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
