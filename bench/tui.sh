#!/bin/sh
# Key-to-screen latency of the dashboard while ingesting (not part of the tests): a real live
# session follows a file a writer thread appends to at RATE lines/s; the real event loop draws
# into a 120x40 TestBackend; a key (1 2 3 4: switch pane) is injected every INTERVAL_MS and the
# time to the first flushed frame showing that pane is measured (median / p95 / max).
# Target (issue 6): <= 50 ms at 100 000 lines/s. Frame render time alone: cargo bench --bench render.
# Usage: bench/tui.sh [KEYS=250] [RATE=100000] [INTERVAL_MS=100] [EXTERNAL_CLIENTS=300]
set -eu
cd "$(dirname "$0")/.."
cargo bench --bench keys --no-run
uptime
cargo bench --bench keys -- "${1:-250}" "${2:-100000}" "${3:-100}" "${4:-300}"
uptime
