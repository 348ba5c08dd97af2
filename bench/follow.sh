#!/bin/sh
# Live-follow benchmark (not part of the tests). Builds the bench harness once in release mode
# (the `bench` profile) and runs, in-process against a real file in a temp dir:
#   1. append-to-state latency: a writer appends combined lines every 10 ms at RATE lines/s;
#      latency = time from each write() to the engine having applied that many events
#      (target: median <= 250 ms at 50 000 lines/s);
#   2. sustained follow throughput: a writer appends as fast as the follower keeps up (at most
#      2 M lines ahead, rename-rotating every 256 MiB); events applied per second and RSS
#      sampled every second (target: >= 500 000 lines/s, RSS flat); once with one external
#      line in three (the scenario's mix), once with every line external (worst case).
# Usage: bench/follow.sh [LATENCY_SECS=20] [RATE=50000] [THROUGHPUT_SECS=60]
set -eu
cd "$(dirname "$0")/.."
lat_secs=${1:-20}
rate=${2:-50000}
tp_secs=${3:-60}
cargo bench --bench follow --no-run
echo "== append-to-state latency (${lat_secs} s at ${rate} lines/s)"
cargo bench --bench follow -- latency "$lat_secs" "$rate"
echo "== sustained throughput (${tp_secs} s)"
cargo bench --bench follow -- throughput "$tp_secs" 3
echo "== sustained throughput, every line external (${tp_secs} s)"
cargo bench --bench follow -- throughput "$tp_secs" 1
