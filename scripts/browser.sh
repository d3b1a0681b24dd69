# shellcheck shell=bash
# run_browser_tests: the browser tests (tests/browser) in Debian's Chromium, against the debug
# binary, on SQLite and — when HOLDFAST_TEST_POSTGRES_URL is set — on PostgreSQL.
# Installs what they need first: Debian's chromium (only if /usr/bin/chromium is missing), and
# node + npm if missing (the tests need Node 20 or newer); then `npm ci` from the committed
# package-lock.json (playwright-core only: it downloads no browser). Then the simulations
# (tests/sim: sync.js in Node, many tabs, random histories). Fails if a test fails.

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: $* not installed and this is not root: install Debian's $* package(s)" >&2
    return 1
  fi
  echo "installing Debian's $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Each step checks its own status: called as `run_browser_tests || die …`, `set -e` does not
# apply inside.
run_browser_tests() {
  cargo build -p holdfast --locked || return 1
  # The binary cargo just built, wherever the target directory is.
  export HOLDFAST_BIN="${HOLDFAST_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/debug/holdfast}"
  if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium || return 1
  fi
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm || return 1
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]') || return 1
  if [ "$major" -lt 20 ]; then
    echo "error: the browser tests need Node 20 or newer; this is $(node --version)" >&2
    return 1
  fi
  (
    cd tests/browser || exit 1
    npm ci --no-audit --no-fund --loglevel=error || exit 1
    # One file at a time: each starts servers and a Chromium of its own.
    node --test --test-concurrency=1
  ) || return 1
  # The simulations: the page's autosave (sync.js) in Node against the same binary; no
  # browser, no packages.
  (
    cd tests/sim || exit 1
    node --test
  )
}
