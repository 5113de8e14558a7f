#!/usr/bin/env bash
# Makes sure a PostgreSQL server is there for the storage tests and prints
# its URL. Uses SWITCHYARD_TEST_POSTGRES when set, else the local server on
# 127.0.0.1:5432 (trust auth, database `test`); where none answers, installs
# PostgreSQL from Debian's packages and starts a throwaway cluster under
# target/pg on port 55432, which lives until the machine stops.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

answers() { # host port
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$1" -p "$2"
  else
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
  fi
}

if [[ -n "${SWITCHYARD_TEST_POSTGRES:-}" ]]; then
  echo "$SWITCHYARD_TEST_POSTGRES"
  exit 0
fi
if answers 127.0.0.1 5432; then
  echo "postgres://postgres@127.0.0.1:5432/test"
  exit 0
fi

port=55432
url="postgres://postgres@127.0.0.1:$port/postgres"
if answers 127.0.0.1 "$port"; then
  echo "$url"
  exit 0
fi
echo "no PostgreSQL on 127.0.0.1:5432: starting a throwaway one on $port" >&2
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq postgresql) >&2
fi
bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
data="$PWD/target/pg/data"
mkdir -p "$PWD/target/pg"
# PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
run() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [[ $(id -u) == 0 ]]; then chown -R postgres "$PWD/target/pg"; chmod o+x "$PWD" "$PWD/target"; fi
if [[ ! -f "$data/PG_VERSION" ]]; then
  run "$bin/initdb" -D "$data" -U postgres --auth=trust >&2
fi
run "$bin/pg_ctl" -D "$data" -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" -l "$PWD/target/pg/log" -w start >&2
echo "$url"
