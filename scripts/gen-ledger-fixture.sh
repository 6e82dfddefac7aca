#!/usr/bin/env bash
# Writes a real evidence ledger with the plan-guard binary built from this checkout, for
# the test that later builds still verify and list what this one stored
# (plan-guard/tests/fixtures/ledger/). Every kind of record: a signed check, a refused and
# an accepted approval (signed with key.pub's key), a governed apply with its post-verify
# probes, an observation, a reconciliation (which is not signed); and what `evidence
# list`, `verify`, `show` and `export` print for it. Run after changing what a record holds only when the
# change is meant to be read by older builds too; otherwise keep the old fixture.
#
# Usage: scripts/gen-ledger-fixture.sh [OUT_DIR]   (needs .tools from scripts/install-terraform.sh)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/plan-guard/tests/fixtures/ledger}
target=${CARGO_TARGET_DIR:-$repo/target}
cargo build -q -p plan-guard --manifest-path "$repo/Cargo.toml"
pg="$target/debug/plan-guard"
tf=${TERRAFORM_BINARY:-$repo/.tools/bin/terraform}
export TF_CLI_CONFIG_FILE=${TF_CLI_CONFIG_FILE:-$repo/.tools/terraformrc}
unset IOM_STORE IOM_SIGNING_KEY TF_WORKSPACE WORKSPACE

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$repo/examples/workspace" "$tmp/work"
cp -r "$repo/examples/governance" "$tmp/gov"
rm -rf "$tmp/gov/tests"
# The post-verify http probe asks a port nothing listens on: a failed probe is recorded too.
echo 'payments_health_url = "http://127.0.0.1:9/health"' >"$tmp/gov/terraform.tfvars"
store="sqlite://$tmp/ledger.db"
cd "$tmp/work"
"$tf" init -input=false -no-color >/dev/null
"$tf" workspace new -no-color payments-prod >/dev/null
"$tf" plan -input=false -no-color -out=tfplan -var enable_ledger_db=true >/dev/null
"$pg" evidence keygen --private-key "$tmp/key" --public-key "$tmp/key.pub" >/dev/null
set +e
"$pg" check tfplan --model "$tmp/gov" --store "$store" --init-store --workspace payments-prod \
  --actor alice --format json --signing-key "$tmp/key" >"$tmp/report.json"
code=$?
set -e
[ "$code" = 3 ] || { echo "check exited $code, expected 3 (escalate)" >&2; exit 1; }
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["decision_id"])' "$tmp/report.json")
"$pg" approve "$id" --actor alice --reason "my own change" --store "$store" --yes \
  --signing-key "$tmp/key" >/dev/null 2>&1 && { echo "self-approval was accepted" >&2; exit 1; }
"$pg" approve "$id" --actor bob --reason "reviewed in the change board" --store "$store" --yes \
  --signing-key "$tmp/key" >/dev/null
set +e
"$pg" apply --plan tfplan --store "$store" --model "$tmp/gov" --signing-key "$tmp/key" -- \
  "$tf" apply -input=false -no-color tfplan >/dev/null 2>&1
set -e
"$tf" show -json >"$tmp/state.json"
"$pg" observe "$tmp/state.json" --workspace payments-prod --store "$store" >/dev/null
"$tf" plan -refresh-only -input=false -no-color -out=refresh -var enable_ledger_db=true >/dev/null
"$pg" reconcile refresh --workspace payments-prod --model "$tmp/gov" --store "$store" >/dev/null || true

# One file: the last connection folds the write-ahead log into the database.
"$pg" evidence list --store "$store" >"$tmp/list.txt"
[ ! -s "$tmp/ledger.db-wal" ] || { echo "the ledger's WAL was not folded in" >&2; exit 1; }
mkdir -p "$out"
cp "$tmp/ledger.db" "$out/ledger.db"
cp "$tmp/key.pub" "$out/key.pub"
# What this build prints for it, read from a copy (reading leaves WAL files beside it).
mkdir "$tmp/copy" && cp "$out/ledger.db" "$tmp/copy/"
fixture="sqlite://$tmp/copy/ledger.db"
"$pg" evidence list --store "$fixture" >"$out/list.txt"
"$pg" evidence show "$id" --store "$fixture" >"$out/show.json"
"$pg" evidence export --store "$fixture" >"$out/export.jsonl"
echo "$id" >"$out/decision_id"
git -C "$repo" rev-parse HEAD >"$out/written-by-commit"
echo "wrote $out"
