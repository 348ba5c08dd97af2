#!/usr/bin/env bash
# The test command: installs missing test tools, then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-deps.sh
# setup-test-deps installed clickhouse-server, so the ClickHouse source tests must run, not
# skip (a bare `cargo test` without the server still skips them, visibly).
export LEAKLINE_REQUIRE_CLICKHOUSE="${LEAKLINE_REQUIRE_CLICKHOUSE:-1}"
cargo test --all-targets
