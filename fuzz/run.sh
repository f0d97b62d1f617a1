#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 45) each, from a copy of its checked-in seed
# corpus (fuzz/corpus/<target>), on stable Rust (RUSTC_BOOTSTRAP=1 lets cargo-fuzz use the
# flags it needs). Fails on any panic, crash or timeout; libFuzzer writes the input that
# did it under fuzz/artifacts/<target>/. Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${1:-45}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(config on_response flatten parts row_hash headers egress)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
for t in "${TARGETS[@]}"; do
  mkdir -p "$WORK/$t"; cp corpus/$t/* "$WORK/$t/"
  echo "fuzz: $t for ${SECONDS_EACH}s"
  if ! cargo fuzz run -O "$t" "$WORK/$t" -- -max_total_time="$SECONDS_EACH" -timeout=10 \
      -rss_limit_mb=2048 -seed=1 >"$WORK/$t.log" 2>&1; then
    tail -40 "$WORK/$t.log"
    echo "fuzz: $t FAILED (the input is under fuzz/artifacts/$t/)"
    exit 1
  fi
  grep -E "^Done" "$WORK/$t.log" || true
done
