#!/usr/bin/env bash
# Real-software check of live follow under fast rotation (issue 22). Not a timing.
#
#   sudo bash bench/rotation.sh [SECS] [ROTATE_EVERY] [RATE]      (defaults 180 6 50)
#   sudo LEAKLINE_BIN=target/debug/leakline bash bench/rotation.sh 120   (no release build)
#
# Installs nginx, logrotate, tmux, curl and jq (apt-get), runs a private nginx on 127.0.0.1:18080
# writing the same traffic to a combined and a JSON access log (clients from X-Forwarded-For via
# real_ip), sends about RATE requests/s for SECS seconds from five external and three internal
# simulated clients, and forces logrotate every ROTATE_EVERY seconds, alternating a rename
# rotation (create, compress, delaycompress, postrotate reopen) and copytruncate (compress,
# delaycompress).
# Followed at the same time by:
#   - `watch --headless --out` on the combined log only (h1) and on both logs (h2),
#   - the dashboard (`watch`, in tmux) on the combined log only, exported with `E` at the end,
# then `analyze` on the files left. Prints the external requests each one counted next to the
# external lines in the files (every generation kept: `rotate 10000`) and the lines the
# follower read that copytruncate destroyed (named by `live_only` gaps), the `source_error`s
# and the `live_only` gaps. Exit 0 when:
#   h1 = dashboard = files + live_only lines, analyze = files, h2 = 2 x h1, no source_error.
# Loopback only; bounded: at most SECS x RATE requests, everything under one temp dir.
set -euo pipefail
SECS=${1:-180}
EVERY=${2:-6}
RATE=${3:-50}
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if ! command -v nginx >/dev/null || ! command -v logrotate >/dev/null \
    || ! command -v tmux >/dev/null || ! command -v jq >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light logrotate tmux curl jq \
        >/dev/null 2>&1 \
        || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx logrotate tmux curl jq \
            >/dev/null
fi
echo "nginx: $(nginx -v 2>&1)  logrotate: $(logrotate --version 2>&1 | head -1)"
# LEAKLINE_BIN: an already built binary (a debug build follows 50 lines/s easily).
if [ -z "${LEAKLINE_BIN:-}" ]; then
    cargo build --release --bin leakline -q
fi
LL="${LEAKLINE_BIN:-$ROOT/target/release/leakline}"

W=$(mktemp -d /tmp/leakline-rotation.XXXXXX)
LOGS="$W/logs"
mkdir -p "$LOGS" "$W/dash" "$W/tmp"
echo "work dir: $W"

cat >"$W/nginx.conf" <<EOF
worker_processes 1;
pid $W/nginx.pid;
error_log $W/error.log;
user root;
events { worker_connections 256; }
http {
    client_body_temp_path $W/tmp; proxy_temp_path $W/tmp; fastcgi_temp_path $W/tmp;
    uwsgi_temp_path $W/tmp; scgi_temp_path $W/tmp;
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
    log_format json escape=json '{"time_iso8601":"\$time_iso8601","remote_addr":"\$remote_addr",'
        '"request":"\$request","status":\$status,"body_bytes_sent":\$body_bytes_sent,'
        '"http_user_agent":"\$http_user_agent"}';
    access_log $LOGS/access.log combined;
    access_log $LOGS/access.json json;
    server {
        listen 127.0.0.1:18080;
        location / { return 200 "ok\n"; }
    }
}
EOF

# Both with delaycompress, so that both name generations alike (.1 plain, .2.gz on).
common="rotate 10000
    missingok
    compress
    delaycompress"
cat >"$W/rename.conf" <<EOF
$LOGS/access.log $LOGS/access.json {
    $common
    create 0644 root root
    sharedscripts
    postrotate
        kill -USR1 \$(cat $W/nginx.pid)
    endscript
}
EOF
cat >"$W/copytruncate.conf" <<EOF
$LOGS/access.log $LOGS/access.json {
    $common
    copytruncate
}
EOF

service='[[service]]
name = "gateway"
addresses = ["127.0.0.1:18080"]'
printf 'name = "rotation h1"\ninternal = ["10.0.0.0/8"]\n\n%s\naccess = ["%s/access.log*"]\n' \
    "$service" "$LOGS" >"$W/one.toml"
printf 'name = "rotation h2"\ninternal = ["10.0.0.0/8"]\n\n%s\naccess = ["%s/access.log*", "%s/access.json*"]\n' \
    "$service" "$LOGS" "$LOGS" >"$W/two.toml"

nginx -c "$W/nginx.conf" -p "$W"
cleanup() {
    [ -f "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null || true
    tmux kill-session -t leakline-rotation 2>/dev/null || true
    [ -n "${H1:-}" ] && kill "$H1" 2>/dev/null || true
    [ -n "${H2:-}" ] && kill "$H2" 2>/dev/null || true
}
trap cleanup EXIT
sleep 1

"$LL" watch --config "$W/one.toml" --headless --stats-every 0 --out "$W/h1.json" \
    >"$W/h1.jsonl" 2>"$W/h1.err" &
H1=$!
"$LL" watch --config "$W/two.toml" --headless --stats-every 0 --out "$W/h2.json" \
    >"$W/h2.jsonl" 2>"$W/h2.err" &
H2=$!
tmux new-session -d -s leakline-rotation -x 160 -y 48 \
    "cd $W/dash && LEAKLINE_OPERATOR=bench $LL watch --config $W/one.toml 2>$W/dash.err"
sleep 3

# Traffic: five external clients (203.0.113.1-5) and three internal (10.0.0.1-3).
traffic() {
    local n=0 end=$((SECONDS + SECS)) pause
    pause=$(awk "BEGIN { print 1 / $RATE }")
    while [ $SECONDS -lt $end ]; do
        local k=$((n % 8)) ip
        if [ $k -lt 5 ]; then ip="203.0.113.$((k + 1))"; else ip="10.0.0.$((k - 4))"; fi
        curl -s -o /dev/null -H "X-Forwarded-For: $ip" -A "bench/$k" \
            "http://127.0.0.1:18080/v1/models?n=$n" || true
        n=$((n + 1))
        sleep "$pause"
    done
    echo "$n" >"$W/sent"
}
traffic &
T=$!
r=0
while kill -0 "$T" 2>/dev/null; do
    sleep "$EVERY"
    if [ $((r % 2)) -eq 0 ]; then conf=rename; else conf=copytruncate; fi
    logrotate -f -s "$W/logrotate.state" "$W/$conf.conf" 2>>"$W/logrotate.err" || true
    r=$((r + 1))
done
wait "$T"
echo "rotations: $r ($(wc -l <"$W/logrotate.err") logrotate warnings)"
sleep 12 # past --rotate-wait: every rotated file read and closed

tmux send-keys -t leakline-rotation E
sleep 3
tmux send-keys -t leakline-rotation q
kill -INT "$H1" "$H2"
wait "$H1" "$H2" || true
H1= H2=
"$LL" analyze --config "$W/one.toml" --format json --out "$W/analyze.json" >/dev/null 2>&1 || true

ext='^203\.0\.113\.'
files=$(cd "$LOGS" && zcat -f access.log access.log.* | grep -c "$ext" || true)
files_json=$(cd "$LOGS" && zcat -f access.json access.json.* | grep -c '"remote_addr":"203\.0\.113\.' || true)
sum='[.services[].windows[].external_requests] | add // 0'
h1=$(jq "$sum" "$W/h1.json")
h2=$(jq "$sum" "$W/h2.json")
an=$(jq "$sum" "$W/analyze.json")
report=$(ls "$W"/dash/leakline-report-*.json 2>/dev/null | head -1)
dash=$([ -n "$report" ] && jq "$sum" "$report" || echo "no export")
# External lines the followers read that copytruncate destroyed, quoted in `live_only` gaps.
live() { jq -r 'select(.kind == "live_only") | .reason' "$1" | grep -o '203\.0\.113\.' | wc -l; }
live1=$(live "$W/h1.jsonl")
live2=$(live "$W/h2.jsonl")
errors1=$(grep -c '"type":"source_error"' "$W/h1.jsonl" || true)
errors2=$(grep -c '"type":"source_error"' "$W/h2.jsonl" || true)
echo "requests sent: $(cat "$W/sent") (5 in 8 external)"
echo "external lines in the files: combined $files, json $files_json"
echo "live_only lines named: h1 $live1, h2 $live2"
echo "external requests: headless one log $h1, dashboard $dash, analyze $an, headless two logs $h2"
echo "source_error lines: h1 $errors1, h2 $errors2"
ok=1
[ "$h1" -eq $((files + live1)) ] || { echo "MISMATCH: headless one log"; ok=0; }
[ "$dash" = "$h1" ] || { echo "MISMATCH: dashboard vs headless"; ok=0; }
[ "$an" -eq "$files" ] || { echo "MISMATCH: analyze vs files"; ok=0; }
[ "$h2" -eq $((files + files_json + live2)) ] || { echo "MISMATCH: headless two logs"; ok=0; }
[ "$errors1" -eq 0 ] && [ "$errors2" -eq 0 ] || { echo "MISMATCH: source_error reported"; ok=0; }
[ $ok -eq 1 ] && echo "EXACT" || { echo "see $W"; exit 1; }
