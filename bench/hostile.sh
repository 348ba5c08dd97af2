#!/usr/bin/env bash
# Peak RSS and time of `leakline analyze` on a newline-less region (issue 15: a NUL-filled
# hole after a crash): 1 GiB of NUL bytes alone, and between two valid combined lines.
# The line is capped at 64 KiB (counted oversized), its rest hashed, not parsed, so memory
# stays a few chunks and time is linear.
#
#   bash bench/hostile.sh                                    # release build, 1024 MiB
#   LEAKLINE_BIN=target/release/leakline bash bench/hostile.sh 256
#
# Target: peak RSS under 100 MB whatever the size. Exits 1 above it.
set -euo pipefail
cd "$(dirname "$0")/.."
MIB="${1:-1024}"
OUT="${BENCH_DIR:-target/bench}"
LIMIT_KB=$((100 * 1024))
mkdir -p "$OUT"
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
if [ -z "${LEAKLINE_BIN:-}" ]; then
  cargo build --release --quiet --bin leakline
  LEAKLINE_BIN=target/release/leakline
fi
line() { printf '203.0.113.9 - - [05/Dec/2026:10:00:0%s +0000] "GET /%s HTTP/1.1" 200 10 "-" "curl/8"\n' "$1" "$2"; }
alone="$OUT/nul-$MIB.log"
framed="$OUT/nul-framed-$MIB.log"
head -c "$((MIB * 1024 * 1024))" /dev/zero >"$alone"
{ line 0 a; cat "$alone"; printf '\n'; line 1 b; } >"$framed"
status=0
for f in "$alone" "$framed"; do
  # Exit 4 (evidence incomplete) is expected for the NUL-only file: nothing in it is a log.
  /usr/bin/time -f "%e %M" -o "$OUT/time.hostile" "$LEAKLINE_BIN" analyze --access "x=$f" \
    --format json --out "$OUT/hostile.json" || [ $? -eq 4 ]
  read -r secs kb < <(tail -n 1 "$OUT/time.hostile")
  python3 - "$f" "$secs" "$kb" "$OUT/hostile.json" <<'PY'
import json, sys
path, secs, kb, doc = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s = json.load(open(doc))["sources"][0]
print(f"{path}: {secs:.2f} s, peak RSS {kb / 1024:.0f} MB; lines {s['lines']}, events {s['events']}, "
      f"oversized {s['oversized']}, malformed {s['malformed']}")
PY
  [ "$kb" -le "$LIMIT_KB" ] || { echo "FAIL: peak RSS ${kb} KB over ${LIMIT_KB} KB" >&2; status=1; }
done
rm -f "$alone" "$framed"
exit $status
