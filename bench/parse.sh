#!/usr/bin/env bash
# Access-log parsing throughput on generated data (not part of the tests).
#
#   bench/parse.sh [LINES]        default 1000000
#
# Generates nginx combined lines with shared/bench/gen_access.py (deterministic), then runs
# the criterion bench `benches/parse.rs` over that file (release build, one core: the
# parser is single-threaded) and times `leakline inspect` end to end.
# The shared directory is a sibling of the repository (`../shared`); override with
# LEAKLINE_SHARED=/path/to/shared.
set -euo pipefail
cd "$(dirname "$0")/.."
lines="${1:-1000000}"
shared="${LEAKLINE_SHARED:-../shared}"
gen="$shared/bench/gen_access.py"
if [[ ! -f "$gen" ]]; then
    echo "bench/parse.sh: $gen not found (set LEAKLINE_SHARED to the shared directory)" >&2
    exit 1
fi
out="target/bench-data"
mkdir -p "$out"
data="$out/combined-$lines.log"
if [[ ! -f "$data" ]]; then
    python3 "$gen" --lines "$lines" --format combined --seed 1 --out "$data"
fi
echo "data: $data ($lines lines, $(wc -c <"$data") bytes)"
LEAKLINE_BENCH_FILE="$data" cargo bench --bench parse -- --noplot
cargo build --release --quiet
start=$(date +%s.%N)
./target/release/leakline inspect "$data"
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n="$lines" \
    'BEGIN { printf "inspect end to end: %.2f s, %.0f lines/s\n", e - s, n / (e - s) }'
