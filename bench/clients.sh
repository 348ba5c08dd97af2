#!/usr/bin/env bash
# Millions of distinct clients (issue 19): `leakline analyze` and `leakline watch --headless`
# on logs where every line comes from a new external address, next to an ordinary log of the
# same length.
#
#   bash bench/clients.sh                          # 2 M and 20 M distinct clients
#   BENCH_SIZES="50000" bash bench/clients.sh      # a smoke run
#   BENCH_SKIP_WATCH=1 bash bench/clients.sh       # analyze only
#   LEAKLINE_BIN=target/debug/leakline BENCH_SIZES=50000 bash bench/clients.sh  # no release build
#
# Records, per size N:
#   analyze (json, default --actors 10000, and md): wall time, CPU, peak RSS (/usr/bin/time -v),
#     output size; the same for an ordinary N-line log (LEAKLINE_SHARED's gen_access.py) when
#     available, for the "<= 3x the ordinary time" target;
#   watch --headless fed as fast as a writer can append (the file grows while it is read):
#     peak RSS, the last `stats` line before the stop (lines read, behind_bytes), the time
#     from SIGINT to exit, and whether --out was written (and its gaps naming unread bytes).
# Targets: analyze 2 M distinct <= 200 MB peak, <= 3x the ordinary 2 M-line time, JSON <= 20 MB;
# 20 M distinct <= 1.5 GB; watch 2 M <= 400 MB peak, exit within 5 s of SIGINT with --out.
# Generated files are kept in target/bench/ (about 110 bytes a line) for re-runs.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${LEAKLINE_SHARED:-../shared}"
GEN="$SHARED/bench/gen_access.py"
OUT="${BENCH_DIR:-target/bench}"
SIZES="${BENCH_SIZES:-2000000 20000000}"
WATCH_SECS="${BENCH_WATCH_SECS:-120}"
mkdir -p "$OUT"
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

if [ -n "${LEAKLINE_BIN:-}" ]; then
  LEAKLINE="$LEAKLINE_BIN"
else
  cargo build --release --quiet --bin leakline
  LEAKLINE=target/release/leakline
fi

# distinct N FILE [FIRST]: N combined-format lines, line i from the i-th address after FIRST
# (IPv4 from 11.0.0.0, every 8th line an IPv6 address from 2001:db8::/32, so both tables and
# both prefix lengths are exercised), 1 s apart, deterministic.
distinct() {
  python3 - "$1" "$2" "${3:-0}" <<'PY'
import sys, ipaddress
n, path, first = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
base4 = int(ipaddress.IPv4Address("11.0.0.0"))
base6 = int(ipaddress.IPv6Address("2001:db8::"))
paths = ["/", "/v1/models", "/.env", "/v1/chat/completions", "/wp-login.php"]
agents = ["zgrab/0.x", "curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"]
start = 1795046400  # 2026-11-18T00:00:00Z
import time
with open(path, "a", buffering=1 << 20) as f:
    out = []
    for i in range(first, first + n):
        if i % 8 == 7:
            ip = str(ipaddress.IPv6Address(base6 + (i * 0x10001 << 64) + i))
        else:
            ip = str(ipaddress.IPv4Address(base4 + i))
        t = time.gmtime(start + i)
        stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", t)
        out.append('%s - - [%s] "GET %s HTTP/1.1" %d %d "-" "%s"\n' % (
            ip, stamp, paths[i % 5], (200, 404, 401)[i % 3], (i * 7919) % 5000, agents[i % 3]))
        if len(out) >= 65536:
            f.write("".join(out)); out.clear()
    f.write("".join(out))
PY
}

# measure LABEL CMD... : "wall_s cpu_s max_rss_mb" from /usr/bin/time -v
measure() {
  local log="$OUT/time.$1"; shift
  /usr/bin/time -v -o "$log" "$@" >/dev/null 2>"$log.err" || {
    echo "bench: command failed: $*" >&2; tail -5 "$log.err" >&2; exit 1; }
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
    /User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident/ { r = $2 }
    END { printf "%.2f %.2f %.1f\n", w, u + s, r / 1024 }' "$log"
}

size_mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1048576 }'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; $(date -u +%FT%TZ)"
printf '%-10s %-28s %8s %8s %9s %10s\n' lines run wall_s cpu_s rss_MB output_MB
for n in $SIZES; do
  f="$OUT/clients-$n.log"
  [ -s "$f" ] || distinct "$n" "$f"
  cat "$f" >/dev/null
  read -r s c r < <(measure "clients-$n-json" "$LEAKLINE" analyze --access "bench=$f" --format json --out "$OUT/clients-$n.json")
  printf '%-10s %-28s %8s %8s %9s %10s\n' "$n" "analyze json (distinct)" "$s" "$c" "$r" "$(size_mb "$OUT/clients-$n.json")"
  python3 - "$OUT/clients-$n.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
g = d["actor_groups"][0]
print("           actors_total %d, actors_listed %d, prefix groups %d (listed %d)" % (
    d["actors_total"], d["actors_listed"], g["total"], len(g["groups"])))
PY
  read -r s c r < <(measure "clients-$n-md" "$LEAKLINE" analyze --access "bench=$f" --format md --out "$OUT/clients-$n.md")
  printf '%-10s %-28s %8s %8s %9s %10s\n' "$n" "analyze md (distinct)" "$s" "$c" "$r" "$(size_mb "$OUT/clients-$n.md")"
  if [ -f "$GEN" ]; then
    o="$OUT/access-$n.log"
    [ -s "$o" ] || python3 "$GEN" --lines "$n" --out "$o"
    cat "$o" >/dev/null
    read -r s c r < <(measure "ordinary-$n-json" "$LEAKLINE" analyze --access "bench=$o" --format json --out "$OUT/ordinary-$n.json")
    printf '%-10s %-28s %8s %8s %9s %10s\n' "$n" "analyze json (ordinary)" "$s" "$c" "$r" "$(size_mb "$OUT/ordinary-$n.json")"
  fi

  [ -n "${BENCH_SKIP_WATCH:-}" ] && continue
  # watch: a writer appends the N distinct lines as fast as it can while watch follows the
  # file; SIGINT once a stats line says every line was read, or after WATCH_SECS (then with a
  # backlog: the stop must not wait for it, and --out must name it as unread).
  w="$OUT/watch-$n.log"; rm -f "$w" "$OUT/watch-$n.json"; : > "$w"
  /usr/bin/time -v -o "$OUT/time.watch-$n" "$LEAKLINE" watch --headless --access "bench=$w" \
    --stats-every 1 --out "$OUT/watch-$n.json" >"$OUT/watch-$n.lines" 2>"$OUT/watch-$n.err" &
  tpid=$!
  sleep 1
  wpid=$(pgrep -P "$tpid" -x leakline || true)
  # the writer: the generated file, copied in 4 MiB blocks as fast as possible
  ( dd if="$f" of="$w" bs=4M oflag=append conv=notrunc status=none ) &
  writer=$!
  for _ in $(seq "$WATCH_SECS"); do
    sleep 1
    read_lines=$(grep '"type":"stats"' "$OUT/watch-$n.lines" | tail -1 | sed -n 's/^{"type":"stats","at":"[^"]*","lines":\([0-9]*\).*/\1/p')
    [ "${read_lines:-0}" -ge "$n" ] && break
  done
  last_stats=$(grep '"type":"stats"' "$OUT/watch-$n.lines" | tail -1 || true)
  t0=$(date +%s.%N)
  kill -INT "${wpid:-$tpid}"
  wait "$tpid" || true
  t1=$(date +%s.%N)
  kill "$writer" 2>/dev/null || true; wait "$writer" 2>/dev/null || true
  rss=$(awk -F': ' '/Maximum resident/ { printf "%.1f", $2 / 1024 }' "$OUT/time.watch-$n")
  stop=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  printf '%-10s %-28s %8s %8s %9s %10s\n' "$n" "watch --headless (distinct)" "-" "-" "$rss" \
    "$( [ -s "$OUT/watch-$n.json" ] && size_mb "$OUT/watch-$n.json" || echo none)"
  echo "           SIGINT to exit: ${stop} s; last stats line before it: ${last_stats:-none}"
  if [ -s "$OUT/watch-$n.json" ]; then
    python3 - "$OUT/watch-$n.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
lines = sum(s["lines"] for s in d["sources"])
unread = [g["reason"] for g in d["gaps"] if "unread" in g["reason"]]
print("           --out: %d lines read, actors_total %d, unread gaps: %s" % (
    lines, d["actors_total"], unread[0] if unread else "none"))
PY
  else
    echo "           --out NOT written"
  fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
