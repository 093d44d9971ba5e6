#!/usr/bin/env bash
# Runs inside pg_virtualenv (scripts/test.sh): pg_regress and the isolation
# specs through PGXS, then the pgTAP files with pg_prove.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0

# Separate calls: a failing pg_regress must not keep the isolation specs from running.
make -s installcheck TAP_TESTS= ISOLATION= || rc=1
make -s installcheck TAP_TESTS= REGRESS= || rc=1
for diffs in regression.diffs output_iso/regression.diffs; do
	[ -s "$diffs" ] && { echo "=== $diffs"; cat "$diffs"; }
done

dropdb --if-exists paycore_tap >/dev/null
createdb paycore_tap || exit 1
psql -X -q -d paycore_tap -c 'CREATE EXTENSION pgtap' || exit 1
pg_prove -d paycore_tap --timer test/pgtap/*.sql || rc=1

exit $rc
