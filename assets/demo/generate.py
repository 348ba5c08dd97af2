#!/usr/bin/env python3
"""Generate the bundled demo case for `leakline demo` (deterministic: same output every run).

Story (2026-03-14, UTC) — an internal LLM gateway behind two edge nodes gets exposed:
  09:00  internal traffic only (edge-a writes nginx `combined`, edge-b nginx JSON)
  09:40  the weekly external perimeter scan (nmap) sees 443 filtered: not exposed
  ~10:05 a firewall change exposes the gateway (not logged anywhere)
  10:17  first scanner hit from the internet (Censys), then Shodan, masscan, nuclei probes
  10:38  a human's first success: a python client lists the models, then pulls completions
  11:02  responders get the alert and scan from outside: 443 open; nuclei confirms
  11:15  containment (firewall rule restored); 11:20 the responders' re-scan sees 443 filtered
  11:52  re-exposure (a deploy reverted the rule): scanners and the same human come back
  12:05  end of the recording; the gateway is still exposed

Writes, next to this script: logs/edge-a/access.log, logs/edge-b/access.json, scans/*,
story.json (captions + scan appearance times for the replay), expected.json (ground truth),
leakline.toml (to run `leakline analyze` / `watch` on the finished files).

Usage: python3 assets/demo/generate.py
"""

import json
import os
import random
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
UTC = timezone.utc
DAY = datetime(2026, 3, 14, tzinfo=UTC)
START = DAY.replace(hour=9)
END = DAY.replace(hour=12, minute=5)
GW_IP = "203.0.113.10"
GW_HOST = "api.acme-ml.example"

rng = random.Random(20260314)


def at(hms):
    h, m, s = (int(x) for x in hms.split(":"))
    return DAY.replace(hour=h, minute=m, second=s)


INTERNAL_CLIENTS = ["10.20.3.14", "10.20.3.15", "10.20.7.2", "10.31.0.8"]
INTERNAL_UAS = ["Go-http-client/2.0", "evalrunner/3.2 (+internal)", "python-httpx/0.27.0"]
INTERNAL_PATHS = [("POST", "/v1/chat/completions"), ("POST", "/v1/embeddings"), ("GET", "/v1/models")]

CENSYS = "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)"
SHODAN = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/ Safari/537.36 (compatible; Shodan)"
MASSCAN = "masscan/1.3 (https://github.com/robertdavidgraham/masscan)"
NUCLEI = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Nuclei - Open-source project (github.com/projectdiscovery/nuclei)"
PYREQ = "python-requests/2.32.3"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
SCANNER_UAS = {CENSYS, SHODAN, MASSCAN, NUCLEI}

# Exposure: windows during which the gateway answers the internet.
EXPOSED = [(at("10:05:00"), at("11:15:00")), (at("11:48:00"), END)]


def exposed(t):
    return any(a <= t < b for a, b in EXPOSED)


requests = []  # dicts: time, client, method, path, status, bytes, ua, edge


def req(t, client, method, path, status, size, ua, edge=None):
    requests.append(
        dict(time=t, client=client, method=method, path=path, status=status, bytes=size, ua=ua,
             edge=edge or rng.choice("ab"))
    )


# Internal background traffic on both edges.
t = START
while True:
    t += timedelta(seconds=rng.randint(6, 16))
    if t >= END:
        break
    method, path = rng.choice(INTERNAL_PATHS)
    status = 200 if rng.random() > 0.03 else 401
    size = rng.randint(800, 9000) if status == 200 else 146
    req(t, rng.choice(INTERNAL_CLIENTS), method, path, status, size, rng.choice(INTERNAL_UAS))

# External: scanners (404 on probes, 200 on /v1/models once they find it).
SCANNERS = [
    ("162.142.125.221", CENSYS, ["/", "/", "/v1/models"]),
    ("71.6.199.23", SHODAN, ["/", "/.git/config", "/v1/models"]),
    ("45.83.64.9", MASSCAN, ["/", "/.env"]),
    ("185.242.226.88", NUCLEI, ["/api/v1/status", "/.env", "/.git/config", "/v1/models", "/v1/chat/completions"]),
]
FIRST_SCAN_HIT = at("10:17:42")
REEXPOSED_FIRST = at("11:52:13")
for i, (ip, ua, paths) in enumerate(SCANNERS):
    for window_start in (FIRST_SCAN_HIT, REEXPOSED_FIRST):
        base = window_start + timedelta(minutes=7 * i)
        for j, path in enumerate(paths):
            when = base + timedelta(seconds=97 * j + (0 if i == 0 and j == 0 else rng.randint(1, 40)))
            if not exposed(when):
                continue
            ok = path == "/v1/models"
            req(when, ip, "GET", path, 200 if ok else 404, rng.randint(2400, 5800) if ok else 153, ua)

# The human: 198.51.100.23 finds the open API (from a scanner list?) and starts pulling.
HUMAN = "198.51.100.23"
HUMAN_FIRST = at("10:38:05")
req(HUMAN_FIRST, HUMAN, "GET", "/v1/models", 200, 5704, PYREQ)
t = HUMAN_FIRST
while True:
    t += timedelta(seconds=rng.randint(20, 55))
    if t >= at("11:14:50"):
        break
    if rng.random() < 0.12:
        req(t, HUMAN, "POST", "/v1/chat/completions", 429, 97, PYREQ)
    else:
        path = rng.choice(["/v1/chat/completions", "/v1/chat/completions", "/v1/embeddings"])
        req(t, HUMAN, "POST", path, 200, rng.randint(120_000, 780_000), PYREQ)
req(at("11:14:50"), HUMAN, "POST", "/v1/chat/completions", 200, 412_337, PYREQ)

# A second person with a browser, poking around.
BROWSER = "203.0.113.77"
for k, (m, p, st, sz) in enumerate([
    ("GET", "/", 404, 153), ("GET", "/docs", 404, 153), ("GET", "/v1/models", 200, 5704),
    ("POST", "/v1/chat/completions", 200, 18_244), ("POST", "/v1/chat/completions", 200, 22_901),
]):
    req(at("10:52:31") + timedelta(seconds=40 * k), BROWSER, m, p, st, sz, FIREFOX)

# Re-exposure: the human returns with a loop.
t = at("11:55:40")
while t < at("12:04:30"):
    req(t, HUMAN, "POST", "/v1/chat/completions", 200, rng.randint(150_000, 650_000), PYREQ)
    t += timedelta(seconds=rng.randint(18, 40))

requests.sort(key=lambda r: (r["time"], r["client"]))

# ---------------------------------------------------------------------------------------------
# Access logs.

os.makedirs(os.path.join(HERE, "logs/edge-a"), exist_ok=True)
os.makedirs(os.path.join(HERE, "logs/edge-b"), exist_ok=True)
os.makedirs(os.path.join(HERE, "scans"), exist_ok=True)
with open(os.path.join(HERE, "logs/edge-a/access.log"), "w") as f:
    for r in requests:
        if r["edge"] != "a":
            continue
        ts = r["time"].strftime("%d/%b/%Y:%H:%M:%S +0000")
        f.write(f'{r["client"]} - - [{ts}] "{r["method"]} {r["path"]} HTTP/1.1" {r["status"]} '
                f'{r["bytes"]} "-" "{r["ua"]}"\n')
with open(os.path.join(HERE, "logs/edge-b/access.json"), "w") as f:
    for r in requests:
        if r["edge"] != "b":
            continue
        rec = {
            "time_iso8601": r["time"].strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "remote_addr": r["client"],
            "http_x_forwarded_for": "-",
            "request_method": r["method"],
            "request_uri": r["path"],
            "server_protocol": "HTTP/1.1",
            "status": str(r["status"]),
            "body_bytes_sent": str(r["bytes"]),
            "http_referer": "",
            "http_user_agent": r["ua"],
            "request_time": f"{rng.uniform(0.05, 3.5):.3f}",
            "host": GW_HOST,
        }
        f.write(json.dumps(rec) + "\n")

# ---------------------------------------------------------------------------------------------
# Scans by the responders (external vantage).

NMAP_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<?xml-stylesheet href="file:///usr/bin/../share/nmap/nmap.xsl" type="text/xsl"?>
<!-- Nmap 7.94 scan initiated {startstr} as: nmap -Pn -sV -p 443,6333 -oX {name} {ip} -->
<nmaprun scanner="nmap" args="nmap -Pn -sV -p 443,6333 -oX {name} {ip}" start="{start}" startstr="{startstr}" version="7.94" xmloutputversion="1.05">
<scaninfo type="syn" protocol="tcp" numservices="2" services="443,6333"/>
<verbose level="0"/>
<debugging level="0"/>
<host starttime="{start}" endtime="{end}"><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="{ip}" addrtype="ipv4"/>
<hostnames>
<hostname name="{host}" type="user"/>
</hostnames>
<ports><port protocol="tcp" portid="443"><state state="{state}" reason="{reason}" reason_ttl="{ttl}"/>{service}</port>
<port protocol="tcp" portid="6333"><state state="filtered" reason="no-response" reason_ttl="0"/><service name="unknown" method="table" conf="3"/></port>
</ports>
<times srtt="21933" rttvar="15841" to="100000"/>
</host>
<runstats><finished time="{fin}" timestr="{finstr}" summary="Nmap done at {finstr}; 1 IP address (1 host up) scanned in 12.31 seconds" elapsed="12.31" exit="success"/><hosts up="1" down="0" total="1"/>
</runstats>
</nmaprun>
"""
OPEN_SERVICE = '<service name="https" product="nginx" version="1.24.0" tunnel="ssl" method="probed" conf="10"/>'
CLOSED_SERVICE = '<service name="https" method="table" conf="3"/>'


def nmap(name, end, state):
    start = end - timedelta(seconds=9)
    fin = end + timedelta(seconds=1)
    ctime = lambda d: d.strftime("%a %b %d %H:%M:%S %Y")
    body = NMAP_TEMPLATE.format(
        name=f"scans/{name}", ip=GW_IP, host=GW_HOST, start=int(start.timestamp()),
        startstr=ctime(start), end=int(end.timestamp()), fin=int(fin.timestamp()),
        finstr=ctime(fin), state=state,
        reason="syn-ack" if state == "open" else "no-response",
        ttl="52" if state == "open" else "0",
        service=OPEN_SERVICE if state == "open" else CLOSED_SERVICE,
    )
    with open(os.path.join(HERE, "scans", name), "w") as f:
        f.write(body)
    return {"file": name, "time": fin.strftime("%Y-%m-%dT%H:%M:%SZ")}


scans = [
    nmap("nmap-0940.xml", at("09:40:09"), "filtered"),
    nmap("nmap-1102.xml", at("11:02:39"), "open"),
]
NUCLEI_AT = at("11:04:12")
nuclei = {
    "template": "http/exposures/apis/openai-compatible-api-exposure.yaml",
    "template-id": "openai-compatible-api-exposure",
    "info": {"name": "OpenAI-compatible API - Unauthenticated", "author": ["pdteam"],
             "tags": ["exposure", "api", "llm"], "severity": "high"},
    "type": "http", "host": f"https://{GW_HOST}", "port": "443", "scheme": "https",
    "url": f"https://{GW_HOST}", "matched-at": f"https://{GW_HOST}/v1/models", "ip": GW_IP,
    "timestamp": NUCLEI_AT.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00"), "matcher-status": True,
}
with open(os.path.join(HERE, "scans/nuclei-1104.jsonl"), "w") as f:
    f.write(json.dumps(nuclei) + "\n")
scans.append({"file": "nuclei-1104.jsonl", "time": (NUCLEI_AT + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")})
scans.append(nmap("nmap-1120.xml", at("11:20:10"), "filtered"))

# ---------------------------------------------------------------------------------------------
# Story captions, ground truth, config.

captions = [
    ("09:00:00", "Internal traffic only: the LLM gateway serves the company's own apps."),
    ("09:40:00", "Weekly perimeter scan: 443 filtered, not exposed (negative evidence)."),
    ("10:17:42", "A firewall change went wrong: Censys reaches the gateway from outside."),
    ("10:38:05", "A human's first success: 198.51.100.23 lists models, then pulls data."),
    ("10:52:31", "A second outsider, with a browser, finds the API too."),
    ("11:02:30", "Alert! Responders scan from outside: 443 open; nuclei confirms."),
    ("11:15:00", "Contained: firewall rule restored (last external request 11:14:50)."),
    ("11:20:10", "Re-scan: 443 filtered. The window closed between 11:14:50 and 11:20:10."),
    ("11:48:00", "A deploy reverts the rule (not logged)…"),
    ("11:52:13", "Re-exposure: scanners are back within minutes, and so is 198.51.100.23."),
    ("12:04:30", "End of recording: still exposed. 2 timeline, 3 actors, 4 events, q quit."),
]
story = {
    "start": START.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "end": END.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "captions": [{"time": at(t).strftime("%Y-%m-%dT%H:%M:%SZ"), "text": c} for t, c in captions],
    "scans": scans,
}
with open(os.path.join(HERE, "story.json"), "w") as f:
    json.dump(story, f, indent=2)
    f.write("\n")


def iso(d):
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def window_truth(lo, hi, opened_earliest, closed_latest, status, extra_positive):
    ext = [r for r in requests if lo <= r["time"] <= hi and not r["client"].startswith("10.")]
    first = ext[0]
    human = next(r for r in ext if r["status"] < 400 and r["ua"] not in SCANNER_UAS)
    last_positive = max([ext[-1]["time"]] + [t for t in extra_positive if lo <= t <= hi])
    return {
        "opened_earliest": iso(opened_earliest),
        "opened_latest": iso(first["time"]),
        "closed_earliest": iso(last_positive),
        "closed_latest": iso(closed_latest) if closed_latest else None,
        "status": status,
        "external_requests": len(ext),
        "external_successes": sum(1 for r in ext if 0 < r["status"] < 400),
        "external_bytes": sum(r["bytes"] for r in ext),
        "external_clients": len({r["client"] for r in ext}),
        "first_external": {"time": iso(first["time"]), "client": first["client"]},
        "first_non_scanner_success": {"time": iso(human["time"]), "client": human["client"]},
    }


# nmap evidence time is the host's endtime; nuclei's is its record timestamp.
open_scans = [at("11:02:39"), NUCLEI_AT]
expected = {
    "llm-gateway": [
        window_truth(at("10:00:00"), at("11:20:10"), at("09:40:09"), at("11:20:10"), "closed", open_scans),
        window_truth(at("11:20:11"), END, at("11:20:10"), None, "open", []),
    ]
}
with open(os.path.join(HERE, "expected.json"), "w") as f:
    json.dump(expected, f, indent=2)
    f.write("\n")

with open(os.path.join(HERE, "leakline.toml"), "w") as f:
    f.write(f'''# The bundled demo case (generated by generate.py). `leakline demo` replays these files live;
# `leakline analyze --config assets/demo/leakline.toml` reads them at once.
name = "LLM gateway exposure (demo)"
internal = ["10.0.0.0/8"]

[[service]]
name = "llm-gateway"
addresses = ["{GW_IP}:443", "{GW_HOST}:443"]
access = ["logs/edge-a/access.log", "logs/edge-b/access.json"]
# What was served: requests to these paths are reported on their own, per window.
sensitive = [
  {{ path = "/v1/models", label = "model list" }},
  {{ path = "/internal/**", label = "internal API" }},
]

[[service]]
name = "vector-db"
addresses = ["{GW_IP}:6333"]
access = []

[[scans]]
paths = ["scans/*"]
vantage = "external"
''')
print(f"{len(requests)} requests, {len(scans)} scan files")
