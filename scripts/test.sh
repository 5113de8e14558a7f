#!/usr/bin/env bash
# Runs the whole test suite: unit tests, the integration tests over real
# HTTP on loopback (one binary, tests/it), and the official OpenAI Python
# and Node SDKs against the gateway. Installs the SDKs first (idempotent),
# and makes sure a real PostgreSQL server is there: the storage tests run
# against it as well as against the embedded SQLite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-sdks.sh
SWITCHYARD_TEST_POSTGRES=$(bash scripts/ensure-postgres.sh)
export SWITCHYARD_TEST_POSTGRES
cargo test --locked --all-targets
