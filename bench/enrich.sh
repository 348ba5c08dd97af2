#!/usr/bin/env bash
# Cost of offline enrichment (issue 20): `leakline analyze --format json` on the same
# generated nginx "combined" file (5 M lines) with and without an ASN and a City database.
# Target: within 5 % of the time without them (lookups are once per actor, never per
# request; the databases are checked in full on a thread of their own while the logs are
# read). Record the result in docs/analyze.md.
#
#   bash bench/enrich.sh                                   # test databases of tests/fixtures
#   MMDB_ASN=GeoLite2-ASN.mmdb MMDB_CITY=GeoLite2-City.mmdb bash bench/enrich.sh   # real ones
#   BENCH_SIZES="200000" BENCH_RUNS=1 bash bench/enrich.sh # a small smoke run
#
# Real GeoLite2 databases (a MaxMind account is needed) make the comparison honest: the
# test builds hold a few hundred networks, the real City database ~60 MB. Runs alternate
# (without, with) BENCH_RUNS times and the medians are compared.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${LEAKLINE_SHARED:-../shared}"
GEN="$SHARED/bench/gen_access.py"
OUT="${BENCH_DIR:-target/bench}"
SIZES="${BENCH_SIZES:-5000000}"
RUNS="${BENCH_RUNS:-5}"
ASN="${MMDB_ASN:-tests/fixtures/enrich/GeoLite2-ASN-Test.mmdb}"
CITY="${MMDB_CITY:-tests/fixtures/enrich/GeoLite2-City-Test.mmdb}"
[ -f "$GEN" ] || { echo "bench: $GEN not found (set LEAKLINE_SHARED)" >&2; exit 1; }
for db in "$ASN" "$CITY"; do [ -f "$db" ] || { echo "bench: $db not found" >&2; exit 1; }; done
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
mkdir -p "$OUT"
cargo build --release --quiet --bin leakline
LEAKLINE=target/release/leakline

# run LOG CMD... -> "wall_seconds max_rss_kb"
run() {
  local log="$1"; shift
  /usr/bin/time -f "%e %M" -o "$log" "$@" >/dev/null 2>"$log.err" || {
    echo "bench: command failed: $*" >&2; cat "$log.err" >&2; exit 1; }
  cat "$log"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "databases: $ASN, $CITY"
printf '%-9s %-12s %9s %9s\n' lines run wall_s rss_MB
for n in $SIZES; do
  f="$OUT/access-$n.log"
  [ -s "$f" ] || python3 "$GEN" --lines "$n" --out "$f"
  cat "$f" >/dev/null
  without=(); with=()
  for i in $(seq "$RUNS"); do
    read -r s kb < <(run "$OUT/time.plain" "$LEAKLINE" analyze --access "bench=$f" --format json --out "$OUT/plain-$n.json")
    printf '%-9s %-12s %9.2f %9.1f\n' "$n" "without#$i" "$s" "$(echo "$kb / 1024" | bc -l)"
    without+=("$s")
    read -r s kb < <(run "$OUT/time.enriched" "$LEAKLINE" analyze --access "bench=$f" --format json \
      --mmdb "$ASN" --mmdb "$CITY" --out "$OUT/enriched-$n.json")
    printf '%-9s %-12s %9.2f %9.1f\n' "$n" "with#$i" "$s" "$(echo "$kb / 1024" | bc -l)"
    with+=("$s")
  done
  python3 - "$n" "$OUT/enriched-$n.json" "${without[*]}" "${with[*]}" <<'PY'
import json, statistics, sys
n, doc = int(sys.argv[1]), json.load(open(sys.argv[2]))
a = statistics.median(map(float, sys.argv[3].split()))
b = statistics.median(map(float, sys.argv[4].split()))
actors = doc["actors"]
known = sum(1 for x in actors if x["asn"] or x["country"])
print("%d lines, %d actors (%d with an ASN or country): median %.2f s without, %.2f s with: %+.1f %% (target <= +5 %%)"
      % (n, len(actors), known, a, b, 100 * (b - a) / a))
PY
done
