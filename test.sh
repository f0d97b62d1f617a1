#!/usr/bin/env bash
# Runs every test: connector unit tests natively, the sink, transport and mock API against
# real SQLite files and real HTTP on 127.0.0.1, and the end-to-end tests of the `sluice`
# binary with the real connector component.
set -euo pipefail
cd "$(dirname "$0")"
rustup target add wasm32-wasip2 >/dev/null
cargo test --workspace "$@"
