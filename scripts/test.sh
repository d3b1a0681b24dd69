#!/usr/bin/env bash
# Runs every test suite of Holdfast, installing what the tests need first.
#
#   scripts/test.sh
#
# - PostgreSQL: uses HOLDFAST_TEST_POSTGRES_URL if set, else a server answering on
#   127.0.0.1:5432, else starts a throwaway cluster of its own (installing Debian's postgresql
#   package if needed) and stops it at the end.
# - Checks formatting (cargo fmt) and lints (cargo clippy -D warnings), then runs the unit,
#   property and acceptance tests on SQLite and PostgreSQL.
# - Then the browser tests (tests/browser) in Debian's Chromium, on both databases, installing
#   chromium (and node/npm) with apt first if they are missing (scripts/browser.sh); then the
#   simulations (tests/sim: the page's autosave in Node, random histories of many tabs).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# shellcheck source=scripts/postgres.sh
source scripts/postgres.sh
# shellcheck source=scripts/browser.sh
source scripts/browser.sh
say "PostgreSQL"
ensure_postgres
echo "using ${HOLDFAST_TEST_POSTGRES_URL}"

say "cargo fmt --check"
cargo fmt --all -- --check || die "code is not formatted: run 'cargo fmt --all'"

say "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "tests (SQLite and PostgreSQL)"
drop_test_databases
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  # nextest does not run doctests
  cargo test --workspace --locked --doc
else
  echo "cargo-nextest is not installed; using cargo test"
  cargo test --workspace --locked --no-fail-fast
fi

say "browser tests (Chromium; SQLite and PostgreSQL)"
run_browser_tests || die "the browser tests failed"

drop_test_databases
say "all suites passed"
