#!/usr/bin/env bash
# The test command: installs missing test tools, then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-deps.sh
cargo test --all-targets
