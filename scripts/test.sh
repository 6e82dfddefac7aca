#!/usr/bin/env bash
# The project's test command (what CI runs): installs the real Terraform the tests drive,
# checks formatting and lints, then runs every test of the workspace.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash scripts/install-terraform.sh
export TERRAFORM_BINARY="$repo/.tools/bin/terraform"
# The tests that drive Terraform fail rather than skip when it is missing.
export IOM_REQUIRE_TERRAFORM=1

# A real PostgreSQL server on loopback: the store and ledger tests run on it as well as
# on SQLite, and must (IOM_REQUIRE_POSTGRES) rather than skip.
bash scripts/install-test-tools.sh
bash scripts/install-chromium.sh
bash scripts/install-postgres.sh
IOM_TEST_POSTGRES_URL="$(bash scripts/pg.sh start)"
IOM_TEST_POSTGRES_CA="$(bash scripts/pg.sh ca)"
export IOM_TEST_POSTGRES_URL IOM_TEST_POSTGRES_CA IOM_REQUIRE_POSTGRES=1
log="$(mktemp)"
trap 'rm -f "$log"; bash scripts/pg.sh stop' EXIT

# Incremental caches only pay off on rebuilds, which a CI run never does; they cost ~1 GB.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# A CI machine once ran out of disk mid-build; say how much there was so a log shows it.
df -h "$repo" | awk 'NR == 2 { print "test: " $4 " free on " $6 " before the build" }'

cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# --no-fail-fast: a failing test binary must not hide the results of the ones after it.
status=0
cargo test --workspace --no-fail-fast 2>&1 | tee "$log" || status=$?
# Getting IOM: cargo install of both binaries, scripts/release.sh's archives installed by
# the real Terraform from both kinds of provider mirror, the GitHub Action's install step.
# They need a release build (one, shared by cargo install and the release script), so a
# plain `cargo test` leaves them out (#[ignore]) and this runs them.
cargo test -p acceptance-tests --test release --no-fail-fast -- --ignored 2>&1 | tee -a "$log" || status=$?
# One closing line for the whole workspace (cargo prints one per test binary), printed
# whether or not a test failed; the exit status is cargo's.
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
