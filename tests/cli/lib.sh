# Shared scaffolding of the shell tests: `source` it with the lntune binary and fixtures dir as
# $1 and $2. Gives $lntune, $fx, a scratch $work removed on exit (holding LNTUNE_CACHE_DIR),
# ok/bad counters and finish.
set -uo pipefail
lntune=$1 fx=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Token caches of the runs stay in the scratch folder, not in the user's ~/.cache.
export LNTUNE_CACHE_DIR="$work/token-cache"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# Prints the plain closing line and exits non-zero on any failure.
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" = 0 ]
}
