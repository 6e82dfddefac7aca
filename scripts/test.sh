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
cargo test --workspace
