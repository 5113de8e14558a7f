#!/usr/bin/env bash
# Installs the official SDKs that `cargo test --test it sdk` (and
# `messages`) run against the gateway: the OpenAI and Anthropic Python SDKs
# into a venv at target/sdk/venv and the OpenAI Node SDK into
# target/sdk/node. Idempotent: an SDK already installed at the pinned major
# version is left alone.
#
# Needs python3 and node/npm. On Debian, python3's venv module comes from
# the python3-venv package; it is installed with apt-get when missing.
set -euo pipefail

PY_SPEC='openai>=3,<4'
PY_MAJOR=3
ANTHROPIC_SPEC='anthropic>=2,<3'
ANTHROPIC_MAJOR=2
NODE_SPEC='openai@^7'
NODE_MAJOR=7

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sdk="$root/target/sdk"
venv="$sdk/venv"
node_dir="$sdk/node"

say() { printf 'install-sdks: %s\n' "$*"; }
die() { printf 'install-sdks: error: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is required"
command -v node >/dev/null || die "node is required"
command -v npm >/dev/null || die "npm is required"

mkdir -p "$sdk"

# --- Python SDK --------------------------------------------------------------
if [ -x "$venv/bin/python" ] && "$venv/bin/python" - "$PY_MAJOR" <<'PY' 2>/dev/null
import sys, openai
sys.exit(0 if openai.__version__.split(".")[0] == sys.argv[1] else 1)
PY
then
    say "python openai $("$venv/bin/python" -c 'import openai; print(openai.__version__)') already installed"
else
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        command -v apt-get >/dev/null || die "python3's venv module is missing and apt-get is not available"
        say "installing python3-venv"
        sudo_cmd=()
        [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
        "${sudo_cmd[@]}" apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq python3-venv >/dev/null
    fi
    # A venv left half-made by an interrupted run is rebuilt from scratch.
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$PY_SPEC"
    say "python openai $("$venv/bin/python" -c 'import openai; print(openai.__version__)') installed in target/sdk/venv"
fi

# --- Anthropic Python SDK (same venv) ----------------------------------------
if "$venv/bin/python" - "$ANTHROPIC_MAJOR" <<'PY' 2>/dev/null
import sys, anthropic
sys.exit(0 if anthropic.__version__.split(".")[0] == sys.argv[1] else 1)
PY
then
    say "python anthropic $("$venv/bin/python" -c 'import anthropic; print(anthropic.__version__)') already installed"
else
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$ANTHROPIC_SPEC"
    say "python anthropic $("$venv/bin/python" -c 'import anthropic; print(anthropic.__version__)') installed in target/sdk/venv"
fi

# --- Node SDK ----------------------------------------------------------------
node_version() {
    node -e 'try { const v = require(process.argv[1]).version; console.log(v) } catch { process.exit(1) }' \
        "$node_dir/node_modules/openai/package.json" 2>/dev/null
}
if v="$(node_version)" && [ "${v%%.*}" = "$NODE_MAJOR" ]; then
    say "node openai $v already installed"
else
    mkdir -p "$node_dir"
    [ -f "$node_dir/package.json" ] || printf '{ "private": true }\n' >"$node_dir/package.json"
    npm install --prefix "$node_dir" --silent --no-audit --no-fund --loglevel=error "$NODE_SPEC" >/dev/null
    v="$(node_version)" || die "npm did not install openai into target/sdk/node"
    say "node openai $v installed in target/sdk/node"
fi
