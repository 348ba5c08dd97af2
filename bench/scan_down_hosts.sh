#!/usr/bin/env bash
# Peak RSS of `leakline analyze` on nmap XML with 4 096 down hosts (an `-v` sweep of a /20),
# once with a 1 000-port list and once with `-p-` (65 535 ports). A down host is one
# observation whatever the port list, so memory grows with hosts, not hosts x ports.
#
#   bash bench/scan_down_hosts.sh                                  # release build
#   LEAKLINE_BIN=target/debug/leakline bash bench/scan_down_hosts.sh   # an existing binary
#
# Target (issue 13): under 50 MB peak RSS for 4 096 down hosts. Exits 1 above it.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${BENCH_DIR:-target/bench}"
LIMIT_KB=$((50 * 1024))
mkdir -p "$OUT"
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
if [ -z "${LEAKLINE_BIN:-}" ]; then
  cargo build --release --quiet --bin leakline
  LEAKLINE_BIN=target/release/leakline
fi

status=0
for ports in 1-1000 1-65535; do
  file="$OUT/down-hosts-4096-$ports.xml"
  python3 - "$file" "$ports" <<'PY'
import sys
path, ports = sys.argv[1], sys.argv[2]
with open(path, "w") as f:
    f.write('<?xml version="1.0"?>\n<nmaprun scanner="nmap" args="nmap -v 10.9.0.0/20" '
            'start="1793700000" version="7.94">\n')
    f.write(f'<scaninfo type="syn" protocol="tcp" numservices="0" services="{ports}"/>\n')
    for i in range(4096):
        f.write('<host><status state="down" reason="no-response" reason_ttl="0"/>'
                f'<address addr="10.9.{i // 256}.{i % 256}" addrtype="ipv4"/></host>\n')
    f.write('<runstats><finished time="1793700900"/></runstats>\n</nmaprun>\n')
PY
  events=$(/usr/bin/time -f "%M" -o "$OUT/down-hosts.rss" "$LEAKLINE_BIN" analyze --format json \
    --scan "$file" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sources"][0]["events"])')
  rss=$(cat "$OUT/down-hosts.rss")
  echo "ports $ports: $events observations, peak RSS $((rss / 1024)) MB"
  if [ "$events" -ne 4096 ] || [ "$rss" -gt "$LIMIT_KB" ]; then status=1; fi
done
exit $status
