#!/usr/bin/env bash
# Benchmark of `plan-guard check`: generates workspaces of about N terraform_data instances
# (modules with count, references across modules, sensitive and unknown values), plans each
# with the real Terraform, and prints plan size, plan-guard's median wall time, its peak
# RSS, and the ratio to a bare serde_json parse of the same file.
#   bash bench/run.sh [N ...]      (default: 1000 10000 50000)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/install-terraform.sh" >/dev/null
tf="$repo/.tools/bin/terraform"
cargo build --quiet --release -p plan-guard --examples --manifest-path "$repo/Cargo.toml"
pg="$repo/target/release/plan-guard"
baseline="$repo/target/release/examples/parse_baseline"
out="$repo/bench/out"
mkdir -p "$out"
runs=5

gen() { # N DIR
  local n="$1" dir="$2" per=10
  local mods=$(( (n + per - 1) / per ))
  mkdir -p "$dir/modules/unit"
  cat >"$dir/modules/unit/main.tf" <<'TF'
variable "region" { type = string }
variable "upstream" { type = string }
variable "secret" {
  type      = string
  sensitive = true
}
resource "terraform_data" "base" {
  input = { region = var.region, upstream = var.upstream, owner = "bench" }
}
resource "terraform_data" "item" {
  count = 9
  input = { region = var.region, base = terraform_data.base.id, secret = var.secret, owner = "bench" }
}
output "id" { value = terraform_data.base.id }
TF
  {
    echo 'variable "secret" {'
    echo '  type      = string'
    echo '  sensitive = true'
    echo '  default   = "bench-canary"'
    echo '}'
    echo 'resource "terraform_data" "root" { input = { region = "eu-west-1", owner = "bench" } }'
    echo "module \"unit\" {"
    echo "  source   = \"./modules/unit\""
    echo "  count    = $mods"
    echo "  region   = count.index % 7 == 0 ? \"us-east-1\" : \"eu-west-1\""
    echo "  upstream = terraform_data.root.id"
    echo "  secret   = var.secret"
    echo "}"
  } >"$dir/main.tf"
}

printf '%-8s %8s %12s %12s %10s %8s %10s\n' instances "plan MB" "check ms" "parse ms" "ratio" "RSS MB" "RSS/file"
for n in "${@:-1000 10000 50000}"; do
  dir="$out/ws-$n"
  plan="$out/plan-$n.json"
  if [ ! -s "$plan" ]; then
    rm -rf "$dir" && gen "$n" "$dir"
    "$tf" -chdir="$dir" init -input=false >/dev/null
    "$tf" -chdir="$dir" plan -input=false -out=tfplan -parallelism=32 >/dev/null
    "$tf" -chdir="$dir" show -json tfplan >"$plan"
  fi
  bytes=$(stat -c %s "$plan")
  times=()
  for _ in $(seq $runs); do
    s=$(date +%s%N)
    "$pg" check "$plan" --model "$repo/examples/governance" --workspace payments-prod --format json --output /dev/null || true
    times+=($(( ($(date +%s%N) - s) / 1000000 )))
  done
  check_ms=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  parse_ms=$("$baseline" "$plan" $runs)
  rss_kb=$( { /usr/bin/time -f '%M' "$pg" check "$plan" --model "$repo/examples/governance" --format json --output /dev/null >/dev/null || true; } 2>&1 | tail -1)
  awk -v n="$n" -v b="$bytes" -v c="$check_ms" -v p="$parse_ms" -v r="$rss_kb" 'BEGIN {
    printf "%-8s %8.1f %12d %12.1f %10.2f %8.1f %10.2f\n", n, b/1048576, c, p, c/p, r/1024, r*1024/b }'
done
