#!/usr/bin/env bash
# The project's test command (what CI runs): installs the real Terraform the tests drive,
# checks formatting and lints, then runs every test of the workspace.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash scripts/install-terraform.sh
export TERRAFORM_BINARY="$repo/.tools/bin/terraform"

cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --workspace 2>&1 | tee "$log"
# One closing line for the whole workspace (cargo prints one per test binary).
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
