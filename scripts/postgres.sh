# shellcheck shell=bash
# ensure_postgres: sets HOLDFAST_TEST_POSTGRES_URL to a PostgreSQL server the tests can use
# (trust auth, a superuser that may CREATE DATABASE), starting a throwaway one if none answers.

pg_answers() {
  local url=$1
  command -v psql >/dev/null 2>&1 && psql "$url" -qAtc 'select 1' >/dev/null 2>&1
}

pg_bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

install_postgres() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL is not installed and this is not root: install Debian's 'postgresql' package, or set HOLDFAST_TEST_POSTGRES_URL" >&2
    return 1
  fi
  echo "installing Debian's postgresql package"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client >/dev/null
}

start_throwaway_postgres() {
  local bin port dir runas=()
  bin=$(pg_bin_dir)
  if [ -z "$bin" ]; then
    install_postgres || return 1
    bin=$(pg_bin_dir)
  fi
  [ -n "$bin" ] || { echo "PostgreSQL binaries not found after installing" >&2; return 1; }
  port=${HOLDFAST_TEST_POSTGRES_PORT:-55432}
  dir=$(mktemp -d /tmp/holdfast-pg.XXXXXX)
  if [ "$(id -u)" -eq 0 ]; then
    # initdb refuses to run as root.
    chown postgres:postgres "$dir"
    runas=(runuser -u postgres --)
  fi
  "${runas[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
  "${runas[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null
  HOLDFAST_TEST_PG_STOP="${runas[*]} $bin/pg_ctl -D $dir/data -m fast stop; rm -rf $dir"
  trap 'eval "$HOLDFAST_TEST_PG_STOP" >/dev/null 2>&1 || true' EXIT
  export HOLDFAST_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "started a throwaway PostgreSQL in $dir on port $port"
}

ensure_postgres() {
  if [ -n "${HOLDFAST_TEST_POSTGRES_URL:-}" ]; then
    pg_answers "$HOLDFAST_TEST_POSTGRES_URL" || echo "warning: cannot check $HOLDFAST_TEST_POSTGRES_URL with psql; the tests will say if it is unreachable"
    return 0
  fi
  if ! command -v psql >/dev/null 2>&1; then
    install_postgres || true
  fi
  local local_url="postgres://postgres@127.0.0.1:5432/postgres"
  if pg_answers "$local_url"; then
    export HOLDFAST_TEST_POSTGRES_URL=$local_url
    return 0
  fi
  start_throwaway_postgres || {
    echo "error: no PostgreSQL for the tests: none answers at 127.0.0.1:5432 and a throwaway one could not be started" >&2
    return 1
  }
}

# drop_test_databases: removes the databases the test suites created (holdfast_t…).
drop_test_databases() {
  command -v psql >/dev/null 2>&1 || return 0
  local url=${HOLDFAST_TEST_POSTGRES_URL:-}
  [ -n "$url" ] || return 0
  psql "$url" -qAtc "select datname from pg_database where datname like 'holdfast\_t%'" 2>/dev/null |
    while read -r name; do
      psql "$url" -qc "drop database if exists \"$name\" with (force)" >/dev/null 2>&1 || true
    done
}
