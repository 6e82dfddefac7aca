#!/usr/bin/env bash
# Benchmark of terraform-provider-iom: its start-to-handshake time, and the wall time of
# `terraform plan` and `apply` for N iom resources against N terraform_data resources (the
# built-in provider: no plugin process) as the baseline, with hashicorp/null (a plugin built
# on HashiCorp's own SDK) as the reference for what any plugin costs.
#   bash bench/provider.sh [N ...]      (default: 10 100 1000)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The sizes asked for, else the defaults (as three words, not the one "10 100 1000").
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 100 1000)
for n in "${sizes[@]}"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "bench/provider.sh: N is a number of resources, not '$n'" >&2; exit 1; }
done
bash "$repo/scripts/install-terraform.sh" >/dev/null
tf="$repo/.tools/bin/terraform"
cargo build --quiet --release -p terraform-provider-iom --manifest-path "$repo/Cargo.toml"
# Where cargo put it: target/ unless CARGO_TARGET_DIR (or a cargo config) says otherwise.
target="$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
provider="$target/release/terraform-provider-iom"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
export CHECKPOINT_DISABLE=1

# Handshake: from exec to the go-plugin line on stdout, median of 11 starts, with AutoMTLS
# as Terraform runs it (a CA-flagged client certificate in PLUGIN_CLIENT_CERT).
handshake_ms() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-521 -keyout "$out/client.key" \
    -out "$out/client.pem" -days 1 -nodes -subj /CN=localhost \
    -addext basicConstraints=critical,CA:TRUE 2>/dev/null
  python3 - "$provider" "$out/client.pem" <<'PY'
import os, subprocess, sys, time, statistics
env = dict(os.environ, TF_PLUGIN_MAGIC_COOKIE="d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
           PLUGIN_PROTOCOL_VERSIONS="6", PLUGIN_MIN_PORT="10000", PLUGIN_MAX_PORT="25000",
           PLUGIN_CLIENT_CERT=open(sys.argv[2]).read())
times = []
for _ in range(11):
    start = time.perf_counter()
    p = subprocess.Popen([sys.argv[1]], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline()
    times.append((time.perf_counter() - start) * 1000)
    p.kill(); p.wait()
    assert line.startswith(b"1|6|"), line
print(f"{statistics.median(times):.1f}")
PY
}

mkdir -p "$out/plugins"
cp "$provider" "$out/plugins/"
# hashicorp/null (HashiCorp's Go plugin SDK, protocol 5) from the project's mirror is the
# reference for what any plugin provider costs over the built-in baseline.
mirror="$repo/.tools/providers"
cat >"$out/cli.tfrc" <<TFRC
provider_installation {
  dev_overrides {
    "registry.terraform.io/iom-dev/iom" = "$out/plugins"
  }
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/null"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/null"]
  }
}
TFRC
export TF_CLI_CONFIG_FILE="$out/cli.tfrc"

timed() { # prints wall ms of a command
  local s e
  s=$(date +%s%N)
  "$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
  e=$(date +%s%N)
  echo $(( (e - s) / 1000000 ))
}

median_plan() { # DIR: median wall ms of three plans
  local a b c
  a=$(timed "$tf" -chdir="$1" plan -input=false -parallelism=10)
  b=$(timed "$tf" -chdir="$1" plan -input=false -parallelism=10)
  c=$(timed "$tf" -chdir="$1" plan -input=false -parallelism=10)
  printf '%s\n' "$a" "$b" "$c" | sort -n | sed -n 2p
}

echo "handshake (exec to go-plugin line, median of 11): $(handshake_ms) ms"
echo "plans: median of 3; applies: one run each, from an empty state; times in ms"
echo "the last four columns: overhead over terraform_data of iom and null, for plan and apply"
printf '%-6s %10s %10s %10s %11s %11s %11s %9s %9s %9s %9s\n' N "data plan" "iom plan" "null plan" \
  "data apply" "iom apply" "null apply" "iom" "null" "iom" "null"
for n in "${sizes[@]}"; do
  base="$out/data-$n" iom="$out/iom-$n" null="$out/null-$n"
  mkdir -p "$base" "$iom" "$null"
  cat >"$base/main.tf" <<TF
resource "terraform_data" "p" {
  count = $n
  input = { name = "p\${count.index}", actions = { delete = "block" } }
}
TF
  cat >"$iom/main.tf" <<TF
terraform {
  required_providers {
    iom = { source = "iom-dev/iom" }
  }
}
provider "iom" {
  store = "sqlite://$iom/model.db"
}
resource "iom_profile" "p" {
  count   = $n
  name    = "p\${count.index}"
  actions = { delete = "block" }
}
TF
  cat >"$null/main.tf" <<TF
terraform {
  required_providers {
    null = { source = "hashicorp/null", version = "2.1.2" }
  }
}
resource "null_resource" "p" {
  count    = $n
  triggers = { name = "p\${count.index}", delete = "block" }
}
TF
  "$tf" -chdir="$base" init -input=false >/dev/null
  "$tf" -chdir="$null" init -input=false >/dev/null
  dp=$(median_plan "$base")
  ip=$(median_plan "$iom")
  np=$(median_plan "$null")
  da=$(timed "$tf" -chdir="$base" apply -input=false -auto-approve -parallelism=10)
  ia=$(timed "$tf" -chdir="$iom" apply -input=false -auto-approve -parallelism=10)
  na=$(timed "$tf" -chdir="$null" apply -input=false -auto-approve -parallelism=10)
  awk -v n="$n" -v dp="$dp" -v ip="$ip" -v np="$np" -v da="$da" -v ia="$ia" -v na="$na" 'BEGIN {
    printf "%-6s %10d %10d %10d %11d %11d %11d %8.0f%% %8.0f%% %8.0f%% %8.0f%%\n", n, dp, ip, np, da, ia, na,
      (ip-dp)*100/dp, (np-dp)*100/dp, (ia-da)*100/da, (na-da)*100/da }'
done
