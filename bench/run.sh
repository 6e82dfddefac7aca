#!/usr/bin/env bash
# Benchmark of `plan-guard check`: generates workspaces of about N terraform_data instances
# (modules with count, references across modules, sensitive and unknown values), applies
# each with the real Terraform, then plans a change with creates, updates, replaces and
# deletes, and times a check against bench/governance (a dozen rules, three intents, a
# contract), and prints plan size, plan-guard's median wall time, its peak
# RSS, and the ratio to a bare serde_json parse of the same file.
#   bash bench/run.sh [N ...]      (default: 1000 10000 50000)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The sizes asked for, else the defaults. (Expanding "${@:-1000 10000 50000}" would give
# the defaults as one word, "1000 10000 50000", not three sizes.)
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 50000)
for n in "${sizes[@]}"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "bench/run.sh: N is a number of instances, not '$n'" >&2; exit 1; }
done
echo "bench: sizes ${sizes[*]}" >&2
bash "$repo/scripts/install-terraform.sh" >/dev/null
tf="$repo/.tools/bin/terraform"
# The project's CLI configuration (the bench needs no provider, but Terraform warns without one).
export TF_CLI_CONFIG_FILE="$repo/.tools/terraformrc"
cargo build --quiet --release -p plan-guard --bins --examples --manifest-path "$repo/Cargo.toml"
# Where cargo put them: target/ unless CARGO_TARGET_DIR (or a cargo config) says otherwise.
target="$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
pg="$target/release/plan-guard"
baseline="$target/release/examples/parse_baseline"
stages="$target/release/examples/stages"
out="$repo/bench/out"
mkdir -p "$out"
# Every check records its decision: into a ledger of the benchmark's own, never the
# store $IOM_STORE names or a .iom/ in the working directory.
ledger="sqlite://$out/ledger.db"
runs=5

gen() { # N DIR: a workspace whose `gen` variable moves it from its applied state (1)
  # to the planned one (2): about 10% of units rotate their base (replace, and unknown
  # values downstream), 10% touch their items (update), 10% rotate a sensitive value,
  # 10% shrink their count (delete), and 5% more units appear (create).
  local n="$1" dir="$2" per=10
  local mods=$(( (n + per - 1) / per ))
  mkdir -p "$dir/modules/unit"
  cat >"$dir/modules/unit/main.tf" <<'TF'
variable "gen" { type = number }
variable "slot" { type = number }
variable "region" { type = string }
variable "upstream" { type = string }
variable "secret" {
  type      = string
  sensitive = true
}
locals {
  rotate = var.slot % 10 == 0 ? var.gen : 1
  touch  = var.slot % 10 == 1 ? var.gen : 1
  items  = var.slot % 10 == 2 && var.gen == 2 ? 6 : 9
  secret = var.slot % 10 == 3 && var.gen == 2 ? "${var.secret}-rotated" : var.secret
}
resource "terraform_data" "base" {
  input            = { region = var.region, upstream = var.upstream, owner = "bench" }
  triggers_replace = [local.rotate]
}
resource "terraform_data" "item" {
  count = local.items
  input = { region = var.region, base = terraform_data.base.id, secret = local.secret, owner = "bench", rev = local.touch }
}
output "id" { value = terraform_data.base.id }
TF
  cat >"$dir/main.tf" <<TF
variable "gen" {
  type    = number
  default = 1
}
variable "secret" {
  type      = string
  sensitive = true
  default   = "bench-canary"
}
resource "terraform_data" "root" {
  input = { region = "eu-west-1", owner = "bench" }
}
module "unit" {
  source   = "./modules/unit"
  count    = var.gen == 2 ? $(( mods + mods / 20 )) : $mods
  gen      = var.gen
  slot     = count.index
  region   = count.index % 7 == 0 ? "us-east-1" : "eu-west-1"
  upstream = terraform_data.root.id
  secret   = var.secret
}
TF
}

printf '%-8s %8s %12s %12s %10s %8s %10s %9s %10s\n' instances "plan MB" "check ms" "parse ms" "ratio" "RSS MB" "RSS/file" "core ms" "core ratio"
for n in "${sizes[@]}"; do
  dir="$out/ws-$n"
  plan="$out/plan-$n.json"
  if [ ! -s "$plan" ]; then
    rm -rf "$dir" && gen "$n" "$dir"
    "$tf" -chdir="$dir" init -input=false >/dev/null
    # The state `apply -var gen=1` would leave, written directly (see gen-state.py).
    python3 "$repo/bench/gen-state.py" $(( (n + 9) / 10 )) "$dir/terraform.tfstate"
    "$tf" -chdir="$dir" plan -input=false -out=tfplan -parallelism=32 -var gen=2 >/dev/null
    "$tf" -chdir="$dir" show -json tfplan >"$plan"
  fi
  bytes=$(stat -c %s "$plan")
  # One untimed check first: a check that errors (exit 1) has no time worth reporting.
  code=0
  "$pg" check "$plan" --model "$repo/bench/governance" --store "$ledger" --init-store --workspace bench-estate --actor bench --format json --output /dev/null || code=$?
  [ "$code" != 1 ] || { echo "bench/run.sh: plan-guard check failed on $plan" >&2; exit 1; }
  times=()
  for _ in $(seq $runs); do
    s=$(date +%s%N)
    "$pg" check "$plan" --model "$repo/bench/governance" --store "$ledger" --init-store --workspace bench-estate --actor bench --format json --output /dev/null || true
    times+=($(( ($(date +%s%N) - s) / 1000000 )))
  done
  check_ms=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  parse_ms=$("$baseline" "$plan" $runs)
  rss_kb=$( { /usr/bin/time -f '%M' "$pg" check "$plan" --model "$repo/bench/governance" --store "$ledger" --init-store --workspace bench-estate --actor bench --format json --output /dev/null >/dev/null || true; } 2>&1 | tail -1)
  # The judging core in-process (read and hash, parse, graph and every rule, JSON report;
  # medians of each stage): the command above also starts a process, loads the model,
  # writes the evidence record to the ledger and frees its memory on exit.
  core_ms=$("$stages" "$plan" "$repo/bench/governance" $runs | awk '$1 != "graph" { t += $2 } END { printf "%.1f", t }')
  awk -v n="$n" -v b="$bytes" -v c="$check_ms" -v p="$parse_ms" -v r="$rss_kb" -v k="$core_ms" 'BEGIN {
    printf "%-8s %8.1f %12d %12.1f %10.2f %8.1f %10.2f %9.1f %10.2f\n", n, b/1048576, c, p, c/p, r/1024, r*1024/b, k, k/p }'
done
