#!/usr/bin/env bash
# Engine bench: the seed config over N items from the bundled mock API on 127.0.0.1, two
# sluice binaries (e.g. main before and after a change) interleaved in one run: wall time and
# peak RSS (GNU time) of each sync into a fresh SQLite file. Usage: bench/engine.sh OLD NEW [ITEMS] [ROUNDS]
# Optional: MOCK_ARGS (e.g. "--latency-ms 50"), OLD_ARGS / NEW_ARGS (e.g. "--concurrency 1") to
# compare one binary with itself under two settings.
set -euo pipefail
OLD=$1; NEW=$2; N=${3:-100000}; ROUNDS=${4:-3}
W=$(mktemp -d); trap 'kill $MOCK 2>/dev/null; rm -rf $W' EXIT
PORT=$((20000 + RANDOM % 20000))
$NEW mock-api --items $N --port $PORT ${MOCK_ARGS:-} >/dev/null 2>&1 & MOCK=$!
sleep 0.5
sed "s#https://api.example.com#http://127.0.0.1:$PORT#" "$(dirname "$0")/../examples/inventory.json" > $W/inv.json
export API_KEY=demo-secret-key SLUICE_CACHE_DIR=$W/cache
for bin in $OLD $NEW; do $bin run -q --config $W/inv.json --db $W/warm.db >/dev/null; rm -f $W/warm.db*; done
for r in $(seq $ROUNDS); do
  for which in old new; do
    bin=$OLD; args=${OLD_ARGS:-}; [ $which = new ] && bin=$NEW && args=${NEW_ARGS:-}
    /usr/bin/time -f "$which %e s %M KB" $bin run -q $args --config $W/inv.json --db $W/$which-$r.db >/dev/null 2>>$W/times || true
    tail -1 $W/times
  done
done
