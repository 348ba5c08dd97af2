#!/usr/bin/env bash
# Throughput and memory of `leakline analyze` against GoAccess and `wc -l`, on the same
# generated nginx "combined" files (1 M and 5 M lines), in one run.
#
#   bash bench/analyze.sh                 # from the repository root
#   LEAKLINE_SHARED=/path/to/shared bash bench/analyze.sh
#   BENCH_SIZES="1000000" bash bench/analyze.sh   # a quicker run
#
# Targets (issue 4): >= 4 M lines/s end to end (>= 100x GoAccess), peak RSS <= 150 MB and flat
# between 1 M and 5 M lines. Generated files are kept in target/bench/ for re-runs.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${LEAKLINE_SHARED:-../shared}"
GEN="$SHARED/bench/gen_access.py"
OUT="${BENCH_DIR:-target/bench}"
SIZES="${BENCH_SIZES:-1000000 5000000}"
[ -f "$GEN" ] || { echo "bench: $GEN not found (set LEAKLINE_SHARED)" >&2; exit 1; }
mkdir -p "$OUT"

need_apt=()
command -v goaccess >/dev/null || need_apt+=(goaccess)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

cargo build --release --quiet --bin leakline
LEAKLINE=target/release/leakline

# run LABEL CMD... -> prints "wall_seconds max_rss_kb cpu_seconds" measured by /usr/bin/time
run() {
  local log="$OUT/time.$1"; shift
  /usr/bin/time -f "%e %M %U %S" -o "$log" "$@" >/dev/null 2>"$log.err" || {
    echo "bench: command failed: $*" >&2; cat "$log.err" >&2; exit 1; }
  awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' "$log"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
printf '%-9s %-10s %9s %9s %12s %10s %12s\n' lines tool wall_s cpu_s lines/s rss_MB time_vs_ll
for n in $SIZES; do
  f="$OUT/access-$n.log"
  [ -s "$f" ] || python3 "$GEN" --lines "$n" --out "$f"
  cat "$f" >/dev/null   # warm the page cache so every tool reads from memory
  read -r wc_s wc_kb wc_c < <(run wc wc -l "$f")
  read -r ll_s ll_kb ll_c < <(run leakline "$LEAKLINE" analyze --access "bench=$f" --format json --out "$OUT/analysis-$n.json")
  read -r ga_s ga_kb ga_c < <(run goaccess goaccess "$f" --log-format=COMBINED -o "$OUT/goaccess-$n.json")
  python3 - "$n" "$wc_s" "$wc_kb" "$wc_c" "$ll_s" "$ll_kb" "$ll_c" "$ga_s" "$ga_kb" "$ga_c" <<'PY'
import sys
n = int(sys.argv[1])
wc_s, wc_kb, wc_c, ll_s, ll_kb, ll_c, ga_s, ga_kb, ga_c = map(float, sys.argv[2:])
rate = lambda s: n / max(s, 0.01)
for tool, s, kb, c in (("wc -l", wc_s, wc_kb, wc_c), ("leakline", ll_s, ll_kb, ll_c), ("goaccess", ga_s, ga_kb, ga_c)):
    ratio = "1" if tool == "leakline" else "%.2fx" % (s / max(ll_s, 0.01))
    print("%-9d %-10s %9.2f %9.2f %12.0f %10.1f %12s" % (n, tool, s, c, rate(s), kb / 1024, ratio))
print("%-9d leakline: %.0fx GoAccess's speed, %.1fx wc -l's time, peak RSS %.1f MB" % (n, ga_s / max(ll_s, 0.01), ll_s / max(wc_s, 0.01), ll_kb / 1024))
PY
done
