#!/usr/bin/env bash
# Runs the whole test suite: unit tests, the integration tests over real
# HTTP on loopback (one binary, tests/it), and the official OpenAI Python
# and Node SDKs against the gateway. Installs the SDKs first (idempotent).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-sdks.sh
cargo test --locked --all-targets
