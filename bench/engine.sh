#!/usr/bin/env bash
# Engine bench: the seed config over N items from the bundled mock API on 127.0.0.1, two
# sluice binaries (e.g. main before and after a change) interleaved in one run: wall time and
# peak RSS (GNU time) of each sync into a fresh SQLite file. Usage: bench/engine.sh OLD NEW [ITEMS] [ROUNDS]
# Optional: MOCK_ARGS (e.g. "--latency-ms 50"), OLD_ARGS / NEW_ARGS (e.g. "--concurrency 1") to
# compare one binary with itself under two settings, OLD_WD / NEW_WD to give each side's config
# another write_disposition (JSON, e.g. '{"disposition": "merge", "strategy": "scd2"}'), and
# GENERATIONS (e.g. "0 1") to sync each round once per mock generation (1: 10% of the items
# changed) into the same database, timing each sync, and LIMIT, the records a page asks for
# (100 in the seed config).
set -euo pipefail
OLD=$1; NEW=$2; N=${3:-100000}; ROUNDS=${4:-3}
W=$(mktemp -d); MOCK=""; trap 'kill $MOCK 2>/dev/null; rm -rf $W' EXIT
PORT=$((20000 + RANDOM % 20000))
$NEW mock-api --items $N --port $PORT ${MOCK_ARGS:-} >/dev/null 2>&1 & MOCK=$!
GENERATIONS=${GENERATIONS:-0}
for g in $GENERATIONS; do
  [ $g = 0 ] || { PORT_G=$((PORT + g)); $NEW mock-api --items $N --port $PORT_G --generation $g ${MOCK_ARGS:-} >/dev/null 2>&1 & MOCK="$MOCK $!"; }
done
# Wait for each mock to listen.
for g in $GENERATIONS; do
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$((PORT + g))) 2>/dev/null && break; sleep 0.1; done
done
for which in old new; do
  wd=${OLD_WD:-}; [ $which = new ] && wd=${NEW_WD:-}
  for g in $GENERATIONS; do
    python3 - "$(dirname "$0")/../examples/inventory.json" "http://127.0.0.1:$((PORT + g))" "$wd" "${LIMIT:-}" > $W/$which-$g.json <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["client"]["base_url"] = sys.argv[2]
if sys.argv[3]:
    config["resource_defaults"]["write_disposition"] = json.loads(sys.argv[3])
if sys.argv[4]:
    config["resources"][0]["endpoint"]["paginator"]["limit"] = int(sys.argv[4])
print(json.dumps(config))
PY
  done
done
export API_KEY=demo-secret-key SLUICE_CACHE_DIR=$W/cache
for bin in $OLD $NEW; do $bin run -q --config $W/new-0.json --db $W/warm.db >/dev/null; rm -f $W/warm.db*; done
for r in $(seq $ROUNDS); do
  for which in old new; do
    bin=$OLD; args=${OLD_ARGS:-}; [ $which = new ] && bin=$NEW && args=${NEW_ARGS:-}
    for g in $GENERATIONS; do
      label=$which; [ "$GENERATIONS" = 0 ] || label="$which gen $g"
      /usr/bin/time -f "$label %e s %M KB" $bin run -q $args --config $W/$which-$g.json --db $W/$which-$r.db >/dev/null 2>>$W/times || true
      tail -1 $W/times
    done
  done
done
