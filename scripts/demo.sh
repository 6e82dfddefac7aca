#!/usr/bin/env bash
# The demo: installs the project's own Terraform, builds plan-guard, plans the example
# workspace in three scenarios with the real Terraform and checks each plan against the
# example governance, printing the reports. Exit 0 when every verdict is the expected one.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/install-terraform.sh" >/dev/null
export TERRAFORM_BINARY="$repo/.tools/bin/terraform"
cargo build --quiet --release -p plan-guard --manifest-path "$repo/Cargo.toml"
pg="$repo/target/release/plan-guard"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$repo/examples/workspace/." "$work/"
"$TERRAFORM_BINARY" -chdir="$work" init -input=false -no-color >/dev/null

status=0
run() {
  local name="$1" expected="$2"
  shift 2
  echo "=== scenario: $name (terraform plan $*)"
  "$TERRAFORM_BINARY" -chdir="$work" plan -input=false -no-color -out=tfplan "$@" >/dev/null
  "$TERRAFORM_BINARY" -chdir="$work" show -json tfplan >"$work/$name.json"
  set +e
  "$pg" check "$work/$name.json" --model "$repo/examples/governance" --workspace payments-prod
  local code=$?
  set -e
  echo "=== exit code $code (expected $expected)"
  echo
  [ "$code" = "$expected" ] || status=1
}

run allow 0
run escalate 3 -var enable_ledger_db=true
run block 2 -var region=us-east-1
exit "$status"
