#!/bin/sh
# RSS soak of live follow (not part of the tests): a writer appends RATE lines/s with advancing
# timestamps (one second of log time per wall second), 300 external clients (one line in 20),
# the rest internal, rename-rotating every 256 MiB; RSS is sampled every 10 s for SECS and the
# series, the RSS slope (KiB/s and MiB per hour of log time) and lines/s are printed.
# Target (issue 5): RSS flat over 10 min. See bench/README.md for what grows and why.
# Usage: bench/soak.sh [SECS=600] [RATE=100000] [EXTERNAL_CLIENTS=300] [EXTERNAL_EVERY=20]
#                      [ROTATE_MIB=256] [SPEED=1]
set -eu
cd "$(dirname "$0")/.."
cargo bench --bench follow --no-run
uptime
cargo bench --bench follow -- soak "${1:-600}" "${2:-100000}" "${3:-300}" "${4:-20}" "${5:-256}" "${6:-1}"
uptime
