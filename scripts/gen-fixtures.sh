#!/usr/bin/env bash
# Generates the committed plan fixtures under plan-guard/tests/fixtures/plans/<name>/ with
# the project's own real Terraform (scripts/install-terraform.sh). Every plan.json is the
# unedited output of `terraform show -json` on a plan saved with `terraform plan -out`.
#
#   bash scripts/gen-fixtures.sh            every fixture
#   bash scripts/gen-fixtures.sh NAME ...   only these
#
# Each fixture directory holds:
#   ABOUT      one line: what the fixture exercises
#   config/    the configuration that was planned (the working directory of the plan)
#   before/    when present: the configuration applied first, so the plan has a prior state
#   upstream/  when present: a second workspace applied first, read with terraform_remote_state
#   plan.json  `terraform show -json tfplan`
#
# The configurations are written by this script (edit them here, not in the fixture
# directories). After each plan the script checks that the plan has the changes the fixture
# is about (so a different Terraform cannot silently produce a fixture that exercises
# nothing), that no temporary path leaked into it, and, for fixtures with the canary
# CANARY-SENSITIVE-41c9, that the canary appears only where Terraform marks it sensitive.
set -euo pipefail

die() { echo "gen-fixtures: $*" >&2; exit 1; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${IOM_TOOLS:-$repo/.tools}"
tf115="$tools/bin/terraform"
tf103="$tools/bin/terraform-1.0.3"
out="$repo/plan-guard/tests/fixtures/plans"
[ -x "$tf115" ] || die "no Terraform at $tf115: run bash scripts/install-terraform.sh first"
[ -f "$tools/terraformrc" ] || die "no $tools/terraformrc: run bash scripts/install-terraform.sh first"
command -v python3 >/dev/null || die "python3 is needed to check the generated plans"

# A reproducible environment: the project's CLI config (hashicorp/null from the local
# mirror), no update check, and nothing from the caller that would change a plan.
export TF_CLI_CONFIG_FILE="$tools/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
unset TF_WORKSPACE TF_DATA_DIR TF_LOG TF_LOG_PATH TF_INPUT
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -E '^TF_(VAR_|CLI_ARGS)' || true)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
wanted=("$@")
generated=()

# ---------------------------------------------------------------------------- helpers

# begin NAME "what it exercises": starts a fixture (or returns 1 when it is not wanted).
begin() {
  name="$1"
  if [ ${#wanted[@]} -gt 0 ] && [[ " ${wanted[*]} " != *" $name "* ]]; then return 1; fi
  fx="$out/$name"
  ws="$tmp/$name"
  rm -rf "$fx" "$ws"
  mkdir -p "$fx" "$ws"
  printf '%s\n' "$2" >"$fx/ABOUT"
  : >"$ws/expect"
  TF="$tf115"
  errored=false
  marker=CANARY-SENSITIVE-41c9 # must appear only under sensitive masks (see finish)
  unmasked_ok=""               # a regex of JSON paths where the marker may appear unmasked
  echo "gen-fixtures: $name" >&2
}

# file PATH: writes standard input to the fixture's PATH (config/main.tf, before/main.tf, ...).
file() {
  mkdir -p "$(dirname "$fx/$1")"
  cat >"$fx/$1"
}

# stage SUB [DEST]: makes the working directory DEST (default config) hold exactly the
# configuration files of the fixture's SUB, keeping .terraform and the state.
stage() {
  local src="$fx/$1" dest="$ws/${2:-config}"
  [ -d "$src" ] || die "$name: no $1/ to stage"
  mkdir -p "$dest"
  find "$dest" -path "$dest/.terraform" -prune -o -type f \( -name '*.tf' -o -name '*.tfvars' \) -print0 |
    xargs -0 rm -f
  rm -rf "$dest/modules"
  cp -r "$src/." "$dest/"
}

# run DIR ARGS...: runs Terraform in the working directory DIR (config, upstream, ...).
run() {
  local dir="$ws/$1"
  shift
  echo "+ terraform $*" >>"$ws/log"
  if ! "$TF" -chdir="$dir" "$@" >>"$ws/log" 2>&1; then
    tail -n 40 "$ws/log" >&2
    die "$name: terraform $* failed in $dir (log above)"
  fi
}
init() { run "${1:-config}" init -input=false -no-color; }
apply() { run config apply -input=false -auto-approve -no-color "$@"; }

# plan ARGS...: saves the plan of config/ and writes plan.json. A plan Terraform reports
# as failed is accepted only after `errored=true`.
plan() {
  echo "+ terraform plan $*" >>"$ws/log"
  set +e
  "$TF" -chdir="$ws/config" plan -input=false -no-color -out=tfplan "$@" >>"$ws/log" 2>&1
  local code=$?
  set -e
  if [ "$code" != 0 ] && [ "$errored" != true ]; then
    tail -n 40 "$ws/log" >&2
    die "$name: terraform plan $* failed (log above)"
  fi
  [ -f "$ws/config/tfplan" ] || die "$name: terraform plan wrote no plan file"
  "$TF" -chdir="$ws/config" show -json tfplan >"$fx/plan.json" 2>>"$ws/log" ||
    die "$name: terraform show -json failed"
}

# expect ADDRESS ACTIONS [REASON]: the plan must have this change (ACTIONS comma-joined,
# e.g. delete,create), with this action_reason when one is given ("-" = none).
expect() { printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$ws/expect"; }
# expect_top KEY JSON: a top-level field of the plan must have this JSON value.
expect_top() { printf '@%s\t%s\t\n' "$1" "$2" >>"$ws/expect"; }

# state_edit PYTHON: edits config/terraform.tfstate out of band (variable `s` is the state).
state_edit() {
  python3 - "$ws/config/terraform.tfstate" "$1" <<'PY'
import json, sys
path, code = sys.argv[1], sys.argv[2]
with open(path) as f:
    s = json.load(f)
exec(code)
s["serial"] += 1
with open(path, "w") as f:
    json.dump(s, f, indent=2)
PY
}

# finish: checks plan.json against the expectations, the temporary paths and the canary.
finish() {
  python3 - "$fx/plan.json" "$ws/expect" "$tmp" "$marker" "$unmasked_ok" <<'PY' || die "$name: the generated plan is not what the fixture is about"
import json, sys

plan_path, expect_path, tmp, marker, unmasked_ok = sys.argv[1:6]
raw = open(plan_path, encoding="utf-8").read()
plan = json.loads(raw)
errors = []
if tmp in raw:
    errors.append(f"the plan contains the temporary path {tmp}")

changes = {}
for rc in plan.get("resource_changes", []):
    key = rc["address"] + (f" (deposed {rc['deposed']})" if rc.get("deposed") else "")
    changes[key] = rc
for line in open(expect_path, encoding="utf-8").read().splitlines():
    address, actions, reason = line.split("\t")
    if address.startswith("@"):
        got = plan.get(address[1:])
        if got != json.loads(actions):
            errors.append(f"{address[1:]} is {json.dumps(got)}, expected {actions}")
        continue
    rc = changes.get(address)
    if rc is None:
        errors.append(f"no change for {address}; the plan has: {', '.join(sorted(changes))}")
        continue
    got = ",".join(rc["change"]["actions"])
    if got != actions:
        errors.append(f"{address}: actions {got}, expected {actions}")
    if reason:
        got_reason = rc.get("action_reason", "-")
        if got_reason != reason:
            errors.append(f"{address}: action_reason {got_reason}, expected {reason}")

# The canary (or the fixture's own marker) may only appear where a sensitive mask or a
# sensitive flag covers it, or at a path the fixture declares Terraform leaves unmasked.
import re
CANARY = marker
unmasked_re = re.compile(unmasked_ok) if unmasked_ok else None

def masked(mask, path):
    m = mask
    for p in path:
        if m is True:
            return True
        if isinstance(m, dict):
            m = m.get(p)
        elif isinstance(m, list) and isinstance(p, int) and p < len(m):
            m = m[p]
        else:
            return False
    return m is True

def sensitive_vars(module):
    return {k for k, v in module.get("variables", {}).items() if v.get("sensitive")}

root_sensitive = sensitive_vars(plan.get("configuration", {}).get("root_module", {}))

def covered(path):
    p = list(path)
    top = p[0]
    if top in ("resource_changes", "resource_drift") and len(p) >= 4 and p[2] == "change" and p[3] in ("before", "after"):
        change = plan[top][p[1]]["change"]
        return masked(change.get(p[3] + "_sensitive"), p[4:])
    if top == "output_changes" and len(p) >= 3 and p[2] in ("before", "after"):
        change = plan[top][p[1]]
        return masked(change.get(p[2] + "_sensitive"), p[3:])
    if top == "variables" and len(p) >= 3 and p[2] == "value":
        return p[1] in root_sensitive
    if top == "configuration" and p[1:3] == ["root_module", "variables"] and len(p) >= 5 and p[4] == "default":
        return p[3] in root_sensitive
    if top in ("planned_values", "prior_state"):
        node = plan[top]
        if top == "prior_state":
            node, p = node["values"], p[1:]
            if p[0] == "values":
                p = p[1:]
        else:
            p = p[1:]
        # walk root_module / child_modules down to resources[i].values or outputs[name].value
        if p and p[0] == "outputs" and len(p) >= 3 and p[2] == "value":
            return bool(node["outputs"][p[1]].get("sensitive"))
        while p and p[0] in ("root_module", "child_modules"):
            if p[0] == "root_module":
                node, p = node["root_module"], p[1:]
            else:
                node, p = node["child_modules"][p[1]], p[2:]
        if len(p) >= 3 and p[0] == "resources" and p[2] == "values":
            return masked(node["resources"][p[1]].get("sensitive_values"), p[3:])
    return False

def walk(v, path):
    if isinstance(v, dict):
        for k, x in v.items():
            yield from walk(x, path + [k])
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from walk(x, path + [i])
    elif isinstance(v, str) and CANARY in v:
        yield path

found = list(walk(plan, []))
for path in found:
    if unmasked_re and unmasked_re.fullmatch("/".join(map(str, path))):
        continue
    if not covered(path):
        errors.append("canary outside a sensitive mask at " + "/".join(map(str, path)))
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
PY
  local version
  version="$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["terraform_version"], d["format_version"])' "$fx/plan.json")"
  generated+=("$name ($version)")
}

# ---------------------------------------------------------------------------- fixtures

if begin create "create only: count, for_each, a reference to another new resource's id (unknown), a root output"; then
  file config/main.tf <<'EOF'
variable "region" {
  type    = string
  default = "eu-west-1"
}

resource "terraform_data" "vpc" {
  input = { name = "core", region = var.region, cidr = "10.0.0.0/16" }
}

resource "terraform_data" "subnet" {
  count = 2
  input = { name = "subnet-${count.index}", region = var.region, vpc = terraform_data.vpc.id }
}

resource "terraform_data" "bucket" {
  for_each = toset(["logs", "assets"])
  input    = { name = each.key, region = var.region, encrypted = true }
}

output "vpc_id" {
  value = terraform_data.vpc.id
}
EOF
  stage config && init && plan
  expect terraform_data.vpc create
  expect 'terraform_data.subnet[0]' create
  expect 'terraform_data.subnet[1]' create
  expect 'terraform_data.bucket["logs"]' create
  expect 'terraform_data.bucket["assets"]' create
  finish
fi

if begin update "update in place: an input changed after apply; a dependent's input becomes unknown (update); an untouched resource (no-op)"; then
  file before/main.tf <<'EOF'
resource "terraform_data" "app" {
  input = { name = "app", region = "eu-west-1", replicas = 2 }
}

resource "terraform_data" "watcher" {
  input = { name = "watcher", app = terraform_data.app.output }
}

resource "terraform_data" "unchanged" {
  input = { name = "unchanged", region = "eu-west-1" }
}
EOF
  sed 's/replicas = 2/replicas = 3/' "$fx/before/main.tf" | file config/main.tf
  stage before && init && apply
  stage config && plan
  expect terraform_data.app update
  expect terraform_data.watcher update
  expect terraform_data.unchanged no-op
  finish
fi

replace_fixture() { # NAME ABOUT LIFECYCLE ACTIONS
  begin "$1" "$2" || return 0
  local lifecycle="$3"
  for step in before config; do
    local engine=pg15
    [ "$step" = config ] && engine=pg16
    file "$step/main.tf" <<EOF
resource "terraform_data" "db" {
  input            = { name = "ledger", region = "eu-west-1", engine = "$engine", encrypted = true }
  triggers_replace = ["$engine"]
$lifecycle}

resource "terraform_data" "app" {
  input = { name = "app", region = "eu-west-1", db = terraform_data.db.id }
}
EOF
  done
  stage before && init && apply
  stage config && plan
  expect terraform_data.db "$4" replace_because_cannot_update
  expect terraform_data.app update
  finish
}
replace_fixture replace "replace by triggers_replace, default ordering delete-then-create; a dependent reading the replaced id is updated" "" delete,create
replace_fixture replace_cbd "replace by triggers_replace with create_before_destroy: create-then-delete; a dependent reading the replaced id is updated" \
  "
  lifecycle {
    create_before_destroy = true
  }
" create,delete

if begin delete "deletes: resources gone from config (with state dependencies), count shrunk, for_each key removed, for_each added to a single instance, a module call removed, a module call count shrunk" ; then
  file before/main.tf <<'EOF'
resource "terraform_data" "a" {
  input = { name = "a" }
}

resource "terraform_data" "b" {
  input = { name = "b", a = terraform_data.a.id }
}

resource "terraform_data" "c" {
  input      = { name = "c" }
  depends_on = [terraform_data.b]
}

resource "terraform_data" "pool" {
  count = 3
  input = { name = "pool-${count.index}" }
}

resource "terraform_data" "zone" {
  for_each = toset(["a", "b", "c"])
  input    = { name = "zone-${each.key}" }
}

resource "terraform_data" "single" {
  input = { name = "single" }
}

module "legacy" {
  source = "./modules/legacy"
  count  = 2
  a_id   = terraform_data.a.id
}

module "gone" {
  source = "./modules/legacy"
  a_id   = terraform_data.a.id
}
EOF
  file before/modules/legacy/main.tf <<'EOF'
variable "a_id" {
  type = string
}

resource "terraform_data" "svc" {
  input = { name = "legacy-svc", a = var.a_id }
}
EOF
  file config/main.tf <<'EOF'
# terraform_data.a, terraform_data.b and module.gone are gone from the configuration;
# c no longer depends on b. The stored state still records the dependency, but c is a
# no-op, so the plan's prior_state already has c's new (empty) dependencies, while
# module.legacy[0] (an update) keeps its recorded dependency on terraform_data.a.
resource "terraform_data" "c" {
  input = { name = "c" }
}

resource "terraform_data" "pool" {
  count = 1
  input = { name = "pool-${count.index}" }
}

resource "terraform_data" "zone" {
  for_each = toset(["a"])
  input    = { name = "zone-${each.key}" }
}

resource "terraform_data" "single" {
  for_each = toset(["x"])
  input    = { name = "single" }
}

module "legacy" {
  source = "./modules/legacy"
  count  = 1
  a_id   = "none"
}
EOF
  cp -r "$fx/before/modules" "$fx/config/modules"
  stage before && init && apply
  stage config && plan
  expect terraform_data.a delete delete_because_no_resource_config
  expect terraform_data.b delete delete_because_no_resource_config
  expect terraform_data.c no-op
  expect 'terraform_data.pool[0]' no-op
  expect 'terraform_data.pool[1]' delete delete_because_count_index
  expect 'terraform_data.pool[2]' delete delete_because_count_index
  expect 'terraform_data.zone["b"]' delete delete_because_each_key
  expect 'terraform_data.zone["c"]' delete delete_because_each_key
  expect terraform_data.single delete delete_because_wrong_repetition
  expect 'terraform_data.single["x"]' create
  expect 'module.legacy[0].terraform_data.svc' update
  expect 'module.legacy[1].terraform_data.svc' delete delete_because_no_module
  expect module.gone.terraform_data.svc delete delete_because_no_resource_config
  finish
fi

if begin destroy "destroy plan (terraform plan -destroy) of an applied workspace with a module (count), for_each and references"; then
  file config/main.tf <<'EOF'
resource "terraform_data" "network" {
  input = { name = "net", region = "eu-west-1" }
}

resource "terraform_data" "service" {
  for_each = toset(["api", "web"])
  input    = { name = each.key, network = terraform_data.network.id }
}

module "worker" {
  source  = "./modules/worker"
  count   = 2
  network = terraform_data.network.id
  index   = count.index
}

output "network_id" {
  value = terraform_data.network.id
}
EOF
  file config/modules/worker/main.tf <<'EOF'
variable "network" {
  type = string
}

variable "index" {
  type = number
}

resource "terraform_data" "node" {
  input = { name = "worker-${var.index}", network = var.network }
}
EOF
  stage config && init && apply
  plan -destroy
  expect terraform_data.network delete
  expect 'terraform_data.service["api"]' delete
  expect 'terraform_data.service["web"]' delete
  expect 'module.worker[0].terraform_data.node' delete
  expect 'module.worker[1].terraform_data.node' delete
  finish
fi

if begin nested_modules "modules nested 3 levels deep: for_each on the outer module call, count on the middle one, for_each on the inner one, outputs flowing up and inputs down"; then
  file config/main.tf <<'EOF'
module "region" {
  source     = "./modules/region"
  for_each   = toset(["eu-west-1", "eu-central-1"])
  region     = each.key
  tier_count = 2
}

output "clusters" {
  value = { for k, m in module.region : k => m.cluster_ids }
}
EOF
  file config/modules/region/main.tf <<'EOF'
variable "region" {
  type = string
}

variable "tier_count" {
  type = number
}

resource "terraform_data" "network" {
  input = { name = "net-${var.region}", region = var.region }
}

module "cluster" {
  source     = "../cluster"
  count      = var.tier_count
  region     = var.region
  network_id = terraform_data.network.id
  index      = count.index
}

output "cluster_ids" {
  value = module.cluster[*].id
}
EOF
  file config/modules/cluster/main.tf <<'EOF'
variable "region" {
  type = string
}

variable "network_id" {
  type = string
}

variable "index" {
  type = number
}

module "node" {
  source     = "../node"
  for_each   = toset(["blue", "green"])
  region     = var.region
  cluster    = "c${var.index}"
  colour     = each.key
  network_id = var.network_id
}

resource "terraform_data" "control" {
  input = {
    name   = "control-${var.index}"
    region = var.region
    nodes  = [for n in module.node : n.id]
  }
}

output "id" {
  value = terraform_data.control.id
}
EOF
  file config/modules/node/main.tf <<'EOF'
variable "region" {
  type = string
}

variable "cluster" {
  type = string
}

variable "colour" {
  type = string
}

variable "network_id" {
  type = string
}

resource "terraform_data" "vm" {
  count = 2
  input = {
    name    = "${var.cluster}-${var.colour}-${count.index}"
    region  = var.region
    network = var.network_id
  }
}

output "id" {
  value = terraform_data.vm[0].id
}
EOF
  stage config && init && plan
  expect 'module.region["eu-west-1"].terraform_data.network' create
  expect 'module.region["eu-west-1"].module.cluster[0].terraform_data.control' create
  expect 'module.region["eu-central-1"].module.cluster[1].module.node["green"].terraform_data.vm[1]' create
  expect 'module.region["eu-west-1"].module.cluster[0].module.node["blue"].terraform_data.vm[0]' create
  finish
fi

if begin module_refs "references across module boundaries: a root resource reads a module output that is a resource inside the module, a module input fed from a root resource, a module output feeding another module, a local value in between"; then
  file config/main.tf <<'EOF'
resource "terraform_data" "db" {
  input = { name = "ledger", region = "eu-west-1" }
}

module "app" {
  source = "./modules/app"
  name   = "payments"
  db_id  = terraform_data.db.id # module input fed from a root resource
}

locals {
  dns_name = "${module.app.name}.internal"
}

resource "terraform_data" "dns" {
  input = { name = local.dns_name, target = module.app.endpoint } # a resource inside the module
}

module "monitor" {
  source = "./modules/monitor"
  target = module.app.endpoint # a module output into another module's input
}

output "endpoint" {
  value = module.app.endpoint
}
EOF
  file config/modules/app/main.tf <<'EOF'
variable "name" {
  type = string
}

variable "db_id" {
  type = string
}

resource "terraform_data" "server" {
  count = 2
  input = { name = "${var.name}-${count.index}", db = var.db_id }
}

resource "terraform_data" "lb" {
  input = { name = "${var.name}-lb", backends = terraform_data.server[*].id }
}

output "endpoint" {
  value = terraform_data.lb.id
}

output "name" {
  value = var.name
}
EOF
  file config/modules/monitor/main.tf <<'EOF'
variable "target" {
  type = string
}

resource "terraform_data" "check" {
  input = { name = "monitor", target = var.target }
}
EOF
  stage config && init && plan
  expect terraform_data.db create
  expect 'module.app.terraform_data.server[0]' create
  expect module.app.terraform_data.lb create
  expect terraform_data.dns create
  expect module.monitor.terraform_data.check create
  finish
fi

if begin depends_on "depends_on: resource on resource, resource on a module call, module call on a resource, module call on a module call; a data source inside a module that depends on pending changes is read at apply"; then
  file config/main.tf <<'EOF'
resource "terraform_data" "iam" {
  input = { name = "roles" }
}

module "storage" {
  source     = "./modules/storage"
  depends_on = [terraform_data.iam]
}

module "jobs" {
  source     = "./modules/jobs"
  depends_on = [module.storage]
}

resource "terraform_data" "app" {
  input      = { name = "app" }
  depends_on = [terraform_data.iam, module.storage]
}
EOF
  file config/modules/storage/main.tf <<'EOF'
resource "terraform_data" "bucket" {
  count = 2
  input = { name = "bucket-${count.index}", encrypted = true }
}
EOF
  file config/modules/jobs/main.tf <<'EOF'
# A local-backend state that does not exist reads as empty: a data source with no remote.
data "terraform_remote_state" "settings" {
  backend  = "local"
  config   = { path = "${path.module}/no-such.tfstate" }
  defaults = { schedule = "hourly" }
}

resource "terraform_data" "job" {
  input = { name = "nightly", schedule = data.terraform_remote_state.settings.outputs.schedule }
}
EOF
  stage config && init && plan
  expect terraform_data.iam create
  expect terraform_data.app create
  expect 'module.storage.terraform_data.bucket[1]' create
  expect module.jobs.data.terraform_remote_state.settings read read_because_dependency_pending
  expect module.jobs.terraform_data.job create
  finish
fi

if begin data_source "data sources: terraform_remote_state (local backend) read at plan time from another applied workspace, one read at apply because its config is unknown, one because it depends on a pending change"; then
  file upstream/main.tf <<'EOF'
resource "terraform_data" "vpc" {
  input = { name = "shared-vpc", region = "eu-west-1" }
}

output "vpc_id" {
  value = terraform_data.vpc.id
}

output "region" {
  value = "eu-west-1"
}
EOF
  file config/main.tf <<'EOF'
# Reads the state of the sibling workspace ../upstream (applied first).
data "terraform_remote_state" "network" {
  backend = "local"
  config  = { path = "../upstream/terraform.tfstate" }
}

resource "terraform_data" "app" {
  input = {
    name   = "app"
    region = data.terraform_remote_state.network.outputs.region
    vpc    = data.terraform_remote_state.network.outputs.vpc_id
  }
}

resource "terraform_data" "seed" {
  input = { name = "seed" }
}

# Read at apply: its configuration holds a value unknown until terraform_data.seed exists.
data "terraform_remote_state" "deferred" {
  backend  = "local"
  config   = { path = "../upstream/terraform.tfstate" }
  defaults = { seed = terraform_data.seed.id }
}

# Read at apply: it depends on a resource with a pending change.
data "terraform_remote_state" "after_seed" {
  backend    = "local"
  config     = { path = "../upstream/terraform.tfstate" }
  depends_on = [terraform_data.seed]
}

resource "terraform_data" "consumer" {
  input = {
    name   = "consumer"
    seed   = data.terraform_remote_state.deferred.outputs.seed
    region = data.terraform_remote_state.after_seed.outputs.region
  }
}
EOF
  stage upstream upstream && init upstream && run upstream apply -input=false -auto-approve -no-color
  stage config && init && plan
  expect terraform_data.app create
  expect data.terraform_remote_state.deferred read read_because_config_unknown
  expect data.terraform_remote_state.after_seed read read_because_dependency_pending
  expect terraform_data.consumer create
  finish
fi

if begin moved "moved blocks (previous_address): a rename, a module call rename, a resource moved into a module, a single instance moved to count index 0, a rename with an input change"; then
  file before/main.tf <<'EOF'
resource "terraform_data" "old_name" {
  input = { name = "a" }
}

resource "terraform_data" "to_module" {
  input = { name = "b" }
}

resource "terraform_data" "single" {
  input = { name = "c" }
}

resource "terraform_data" "renamed_changed" {
  input = { name = "d", size = 1 }
}

module "old_mod" {
  source = "./modules/svc"
}
EOF
  file before/modules/svc/main.tf <<'EOF'
resource "terraform_data" "x" {
  input = { name = "svc" }
}
EOF
  file config/main.tf <<'EOF'
resource "terraform_data" "new_name" {
  input = { name = "a" }
}

moved {
  from = terraform_data.old_name
  to   = terraform_data.new_name
}

module "svc" {
  source = "./modules/svc"
}

moved {
  from = module.old_mod
  to   = module.svc
}

module "box" {
  source = "./modules/box"
}

moved {
  from = terraform_data.to_module
  to   = module.box.terraform_data.item
}

resource "terraform_data" "multi" {
  count = 2
  input = { name = count.index == 0 ? "c" : "c${count.index}" }
}

moved {
  from = terraform_data.single
  to   = terraform_data.multi[0]
}

resource "terraform_data" "renamed_and_changed" {
  input = { name = "d", size = 2 }
}

moved {
  from = terraform_data.renamed_changed
  to   = terraform_data.renamed_and_changed
}
EOF
  cp -r "$fx/before/modules" "$fx/config/modules"
  file config/modules/box/main.tf <<'EOF'
resource "terraform_data" "item" {
  input = { name = "b" }
}
EOF
  stage before && init && apply
  stage config && init && plan
  expect terraform_data.new_name no-op
  expect module.svc.terraform_data.x no-op
  expect module.box.terraform_data.item no-op
  expect 'terraform_data.multi[0]' no-op
  expect 'terraform_data.multi[1]' create
  expect terraform_data.renamed_and_changed update
  finish
fi

if begin import "import blocks: an import with no change, an import followed by an update, for_each imports into a module, an import with configuration generated by -generate-config-out"; then
  file config/main.tf <<'EOF'
import {
  to = terraform_data.adopted
  id = "3f0e1c52-4b1d-4a8e-9a61-1c0d2b7e5a10"
}

resource "terraform_data" "adopted" {
}

import {
  to = terraform_data.adopted_changed
  id = "8b7d2a40-95c3-4f0b-b1e2-6a9c0d3e4f21"
}

resource "terraform_data" "adopted_changed" {
  input = { name = "legacy", region = "eu-west-1" }
}

import {
  for_each = { a = "0d9e1f2a-3b4c-4d5e-8f60-718293a4b5c6", b = "1e0f2a3b-4c5d-4e6f-9071-8293a4b5c6d7" }
  to       = module.legacy.terraform_data.item[each.key]
  id       = each.value
}

module "legacy" {
  source = "./modules/legacy"
}

# No resource block: `terraform plan -generate-config-out=generated.tf` writes one.
import {
  to = terraform_data.generated
  id = "2f1a3b4c-5d6e-4f70-8192-a3b4c5d6e7f8"
}
EOF
  file config/modules/legacy/main.tf <<'EOF'
resource "terraform_data" "item" {
  for_each = toset(["a", "b"])
}
EOF
  stage config && init && plan -generate-config-out=generated.tf
  cp "$ws/config/generated.tf" "$fx/generated.tf"
  expect terraform_data.adopted no-op
  expect terraform_data.adopted_changed update
  expect 'module.legacy.terraform_data.item["a"]' no-op
  expect terraform_data.generated no-op
  finish
  printf '%s\n' "$(cat "$fx/ABOUT") (generated.tf: what -generate-config-out wrote; not part of config/)" >"$fx/ABOUT"
fi

if begin forget "removed blocks: destroy = false forgets a resource and a whole module call (action forget); destroy = true deletes"; then
  file before/main.tf <<'EOF'
resource "terraform_data" "keep" {
  input = { name = "keep" }
}

resource "terraform_data" "forgotten" {
  input = { name = "forgotten" }
}

resource "terraform_data" "destroyed" {
  input = { name = "destroyed" }
}

module "legacy" {
  source = "./modules/legacy"
}
EOF
  file before/modules/legacy/main.tf <<'EOF'
resource "terraform_data" "item" {
  count = 2
  input = { name = "legacy-${count.index}" }
}
EOF
  file config/main.tf <<'EOF'
resource "terraform_data" "keep" {
  input = { name = "keep" }
}

removed {
  from = terraform_data.forgotten
  lifecycle {
    destroy = false
  }
}

removed {
  from = module.legacy
  lifecycle {
    destroy = false
  }
}

removed {
  from = terraform_data.destroyed
  lifecycle {
    destroy = true
  }
}
EOF
  stage before && init && apply
  stage config && init && plan
  expect terraform_data.keep no-op
  expect terraform_data.forgotten forget
  expect 'module.legacy.terraform_data.item[0]' forget
  expect 'module.legacy.terraform_data.item[1]' forget
  expect terraform_data.destroyed delete
  finish
fi

if begin provisioners "provisioner references: a null_resource (hashicorp/null) and a terraform_data whose only reference to terraform_data.db is in a local-exec provisioner (command, environment), a destroy-time provisioner reading self"; then
  file config/main.tf <<'EOF'
terraform {
  required_providers {
    null = { source = "hashicorp/null" }
  }
}

resource "terraform_data" "db" {
  input = { name = "ledger", region = "eu-west-1" }
}

# The migration reads the database only in its provisioner, as Terraform allows.
resource "null_resource" "migrate" {
  triggers = { schema = "v7" }
  provisioner "local-exec" {
    command = "echo migrating ${terraform_data.db.id}"
  }
}

resource "terraform_data" "notify" {
  input = { name = "notify" }
  provisioner "local-exec" {
    command     = "echo notifying"
    environment = { DB_NAME = terraform_data.db.output.name }
  }
  provisioner "local-exec" {
    when    = destroy
    command = "echo goodbye ${self.id}"
  }
}

resource "terraform_data" "unrelated" {
  input = { name = "unrelated" }
}
EOF
  stage config && init && plan
  expect terraform_data.db create
  expect null_resource.migrate create
  expect terraform_data.notify create
  expect terraform_data.unrelated create
  finish
fi

if begin targeted "an incomplete plan (complete: false): plan -target of one resource of three; the others are left out"; then
  file config/main.tf <<'EOF'
resource "terraform_data" "app" {
  input = { name = "app" }
}

resource "terraform_data" "db" {
  input = { name = "db" }
}

resource "terraform_data" "cache" {
  input = { name = "cache", db = terraform_data.db.id }
}
EOF
  stage config && init && plan -target=terraform_data.app
  expect terraform_data.app create
  expect_top complete false
  finish
fi

# sensitive_config SECRET: the configuration of the two sensitive fixtures, on standard output.
sensitive_config() {
  cat <<EOF
variable "db_password" {
  type      = string
  sensitive = true
  default   = "$1"
}

variable "db_user" {
  type    = string
  default = "app"
}

resource "terraform_data" "db" {
  input = { name = "ledger", region = "eu-west-1", user = var.db_user, password = var.db_password }
}

resource "terraform_data" "whole" {
  input = var.db_password
}

resource "terraform_data" "derived" {
  input = { name = "dsn", region = "eu-west-1", dsn = "postgres://\${var.db_user}:\${var.db_password}@db.internal" }
}

resource "terraform_data" "marked" {
  input = { name = "api", api_key = sensitive("$1-inline") }
}

module "vault" {
  source = "./modules/vault"
  secret = var.db_password
}

output "dsn" {
  value     = terraform_data.derived.input.dsn
  sensitive = true
}

output "vault_secret" {
  value     = module.vault.secret
  sensitive = true
}
EOF
}
sensitive_module() {
  cat <<'EOF'
variable "secret" {
  type      = string
  sensitive = true
}

resource "terraform_data" "entry" {
  input = { name = "vault-entry", value = var.secret }
}

output "secret" {
  value     = terraform_data.entry.input.value
  sensitive = true
}
EOF
}

if begin sensitive "sensitive values on create: a sensitive variable (canary CANARY-SENSITIVE-41c9) in a whole input, in object attributes, in an interpolated string, through a module input into a sensitive output; sensitive() on a literal; the canary appears only under sensitive masks and flags"; then
  sensitive_config CANARY-SENSITIVE-41c9 | file config/main.tf
  sensitive_module | file config/modules/vault/main.tf
  stage config && init && plan
  expect terraform_data.db create
  expect terraform_data.whole create
  expect terraform_data.derived create
  expect terraform_data.marked create
  expect module.vault.terraform_data.entry create
  finish
fi

if begin sensitive_update "sensitive values on update (marker ECHOED-SECRET-7c1e, changed between apply and plan): before/after masks; Terraform does not mark the provider-computed terraform_data output that echoes a sensitive input, so the old secret is unmasked under before.output and prior_state output"; then
  # A marker of its own, not the canary: this plan holds it outside any mask.
  marker=ECHOED-SECRET-7c1e
  unmasked_ok='(resource_changes/[0-9]+/change/(before|after)|prior_state/values/root_module(/child_modules/[0-9]+)*/resources/[0-9]+/values|planned_values/root_module(/child_modules/[0-9]+)*/resources/[0-9]+/values)/output(/.*)?'
  sensitive_config ECHOED-SECRET-7c1e-previous | file before/main.tf
  sensitive_config ECHOED-SECRET-7c1e-current | file config/main.tf
  sensitive_module | file before/modules/vault/main.tf
  sensitive_module | file config/modules/vault/main.tf
  stage before && init && apply
  stage config && plan
  expect terraform_data.db update
  expect terraform_data.whole update
  expect terraform_data.derived update
  expect terraform_data.marked update
  expect module.vault.terraform_data.entry update
  finish
  python3 - "$fx/plan.json" <<'PY' || die "sensitive_update: expected the unmasked echo under before.output"
import json, sys
d = json.load(open(sys.argv[1]))
db = next(r for r in d["resource_changes"] if r["address"] == "terraform_data.db")
assert "ECHOED-SECRET-7c1e-previous" in db["change"]["before"]["output"]["password"]
assert db["change"]["before_sensitive"]["input"]["password"] is True
assert "output" not in db["change"]["before_sensitive"] or db["change"]["before_sensitive"]["output"] in ({}, False)
PY
fi

if begin unknown "values unknown at plan time (after_unknown): ids and outputs of new resources in attributes, lists and nested objects, timestamp(), uuid(), a whole input unknown, for_each instances with unknown attributes, an unknown output"; then
  file config/main.tf <<'EOF'
resource "terraform_data" "seed" {
  input = { name = "seed" }
}

resource "terraform_data" "uses" {
  input = {
    name    = "uses"
    seed_id = terraform_data.seed.id
    ids     = [terraform_data.seed.id, "known"]
    nested  = { deep = { value = terraform_data.seed.output, fixed = 1 } }
    created = timestamp()
    token   = uuid()
  }
}

resource "terraform_data" "whole" {
  input = terraform_data.seed.id
}

resource "terraform_data" "per_item" {
  for_each = toset(["a", "b"])
  input    = { name = each.key, parent = terraform_data.seed.id }
}

output "seed_id" {
  value = terraform_data.seed.id
}
EOF
  stage config && init && plan
  expect terraform_data.seed create
  expect terraform_data.uses create
  expect terraform_data.whole create
  expect 'terraform_data.per_item["b"]' create
  finish
fi

if begin replace_reasons "replace action reasons: tainted (terraform taint), requested (plan -replace=ADDR), lifecycle replace_triggered_by; plus the update that triggers it"; then
  file config/main.tf <<'EOF'
resource "terraform_data" "config" {
  input = { name = "config", version = var.config_version }
}

variable "config_version" {
  type    = number
  default = 1
}

resource "terraform_data" "tainted" {
  input = { name = "tainted" }
}

resource "terraform_data" "requested" {
  input = { name = "requested" }
}

resource "terraform_data" "follower" {
  input = { name = "follower" }
  lifecycle {
    replace_triggered_by = [terraform_data.config]
  }
}
EOF
  stage config && init && apply
  run config taint -no-color terraform_data.tainted
  plan -replace=terraform_data.requested -var config_version=2
  expect terraform_data.config update
  expect terraform_data.tainted delete,create replace_because_tainted
  expect terraform_data.requested delete,create replace_by_request
  expect terraform_data.follower delete,create replace_by_triggers
  finish
fi

if begin deposed "a deposed object (what a create_before_destroy replacement leaves when destroying the old object fails), added to the state out of band, planned for delete beside a create_before_destroy replace of the current object"; then
  for gen in 2 3; do
    step=before
    [ "$gen" = 3 ] && step=config
    file "$step/main.tf" <<EOF
resource "terraform_data" "db" {
  input            = { name = "ledger", generation = $gen }
  triggers_replace = [$gen]
  lifecycle {
    create_before_destroy = true
  }
}
EOF
  done
  stage before && init && apply
  # Terraform runs no destroy-time provisioner for deposed objects and terraform_data's
  # delete cannot fail, so a failed replacement is reproduced in the state: a second object
  # under the same address with a deposed key, as Terraform itself would record it.
  state_edit '
import copy
r = s["resources"][0]
old = copy.deepcopy(r["instances"][0])
old["deposed"] = "5e1f0c2a"
old["attributes"]["id"] = "00000000-0000-4000-8000-0000000000d1"
old["attributes"]["input"]["value"]["generation"] = 1
old["attributes"]["output"]["value"]["generation"] = 1
old["attributes"]["triggers_replace"]["value"] = [1]
r["instances"].append(old)
'
  stage config && plan
  expect 'terraform_data.db (deposed 5e1f0c2a)' delete
  expect terraform_data.db create,delete replace_because_cannot_update
  finish
fi

if begin refresh_only "refresh-only plan after the state was edited out of band (an input region changed): terraform_data reads back what the state holds, so there is no resource_drift; only the root output that reads the edited input changes"; then
  file config/main.tf <<'EOF'
resource "terraform_data" "bucket" {
  input = { name = "assets", region = "eu-west-1", encrypted = true }
}

output "bucket_region" {
  value = terraform_data.bucket.input.region
}
EOF
  stage config && init && apply
  state_edit '
a = s["resources"][0]["instances"][0]["attributes"]
a["input"]["value"]["region"] = "us-east-1"
a["output"]["value"]["region"] = "us-east-1"
'
  plan -refresh-only
  python3 - "$fx/plan.json" <<'PY' || die "refresh_only: expected no resource_drift and a changed output"
import json, sys
d = json.load(open(sys.argv[1]))
assert not d.get("resource_drift"), "terraform_data now reports drift: update the fixture's ABOUT"
assert d["output_changes"]["bucket_region"]["actions"] == ["update"], d["output_changes"]
PY
  finish
fi

if begin errored "an errored plan: a resource precondition fails, Terraform still saves the plan (errored: true, applyable: false) with the failed check and the other resource's change"; then
  file config/main.tf <<'EOF'
variable "region" {
  type    = string
  default = "us-east-1"
}

resource "terraform_data" "bucket" {
  input = { name = "assets", region = var.region }
  lifecycle {
    precondition {
      condition     = startswith(var.region, "eu-")
      error_message = "The bucket must stay in an EU region."
    }
  }
}

resource "terraform_data" "fine" {
  input = { name = "fine", region = "eu-west-1" }
}
EOF
  stage config && init
  errored=true
  plan
  expect terraform_data.fine create
  expect_top errored true
  expect_top applyable false
  finish
fi

if begin checks "checks: a check block that passes, one that fails (a warning, the plan is not errored), one unknown until apply; a resource postcondition; an output precondition; a variable validation"; then
  file config/main.tf <<'EOF'
variable "replicas" {
  type    = number
  default = 3
  validation {
    condition     = var.replicas > 0
    error_message = "At least one replica."
  }
}

resource "terraform_data" "app" {
  input = { name = "app", replicas = var.replicas }
  lifecycle {
    postcondition {
      condition     = self.output.replicas == var.replicas
      error_message = "The output must echo the input."
    }
  }
}

check "replicas_odd" {
  assert {
    condition     = var.replicas % 2 == 1
    error_message = "An odd number of replicas keeps a quorum."
  }
}

check "replicas_small" {
  assert {
    condition     = var.replicas < 3
    error_message = "More than two replicas costs extra."
  }
}

check "app_created" {
  assert {
    condition     = terraform_data.app.id != ""
    error_message = "The app has an id."
  }
}

output "replicas" {
  value = terraform_data.app.input.replicas
  precondition {
    condition     = var.replicas <= 5
    error_message = "At most five replicas."
  }
}
EOF
  stage config && init && plan
  expect terraform_data.app create
  expect_top errored false
  finish
fi

if begin noop "no changes: the plan of an applied workspace whose configuration did not change (every resource no-op)"; then
  file config/main.tf <<'EOF'
resource "terraform_data" "a" {
  input = { name = "a", region = "eu-west-1" }
}

resource "terraform_data" "b" {
  count = 2
  input = { name = "b-${count.index}", a = terraform_data.a.id }
}
EOF
  stage config && init && apply
  plan
  expect terraform_data.a no-op
  expect 'terraform_data.b[1]' no-op
  finish
fi

if begin mixed "every action class in one plan, in and out of modules: create, update, replace (both orderings), delete, read, forget, no-op, a moved instance"; then
  file before/main.tf <<'EOF'
variable "release" {
  type    = string
  default = "r1"
}

resource "terraform_data" "network" {
  input = { name = "net", region = "eu-west-1" }
}

module "payments" {
  source  = "./modules/payments"
  release = var.release
  network = terraform_data.network.id
}

resource "terraform_data" "retired" {
  input = { name = "retired" }
}

resource "terraform_data" "handed_over" {
  input = { name = "handed-over" }
}

resource "terraform_data" "old_dns" {
  input = { name = "dns" }
}
EOF
  file before/modules/payments/main.tf <<'EOF'
variable "release" {
  type = string
}

variable "network" {
  type = string
}

resource "terraform_data" "api" {
  count = 2
  input = { name = "api-${count.index}", release = var.release, network = var.network, encrypted = true }
}

resource "terraform_data" "db" {
  input            = { name = "ledger", engine = "pg15", encrypted = true }
  triggers_replace = ["pg15"]
}

resource "terraform_data" "cache" {
  input            = { name = "cache", engine = "redis7" }
  triggers_replace = ["redis7"]
  lifecycle {
    create_before_destroy = true
  }
}
EOF
  file config/main.tf <<'EOF'
variable "release" {
  type    = string
  default = "r2"
}

resource "terraform_data" "network" {
  input = { name = "net", region = "eu-west-1" }
}

module "payments" {
  source  = "./modules/payments"
  release = var.release
  network = terraform_data.network.id
}

removed {
  from = terraform_data.handed_over
  lifecycle {
    destroy = false
  }
}

resource "terraform_data" "dns" {
  input = { name = "dns" }
}

moved {
  from = terraform_data.old_dns
  to   = terraform_data.dns
}

resource "terraform_data" "audit" {
  input = { name = "audit", api = module.payments.api_ids }
}

data "terraform_remote_state" "settings" {
  backend  = "local"
  config   = { path = "${path.module}/no-such.tfstate" }
  defaults = { audit_id = terraform_data.audit.id }
}
EOF
  file config/modules/payments/main.tf <<'EOF'
variable "release" {
  type = string
}

variable "network" {
  type = string
}

resource "terraform_data" "api" {
  count = 2
  input = { name = "api-${count.index}", release = var.release, network = var.network, encrypted = true }
}

resource "terraform_data" "db" {
  input            = { name = "ledger", engine = "pg16", encrypted = true }
  triggers_replace = ["pg16"]
}

resource "terraform_data" "cache" {
  input            = { name = "cache", engine = "redis8" }
  triggers_replace = ["redis8"]
  lifecycle {
    create_before_destroy = true
  }
}

output "api_ids" {
  value = terraform_data.api[*].id
}
EOF
  stage before && init && apply
  stage config && plan
  expect terraform_data.network no-op
  expect 'module.payments.terraform_data.api[0]' update
  expect module.payments.terraform_data.db delete,create
  expect module.payments.terraform_data.cache create,delete
  expect terraform_data.retired delete delete_because_no_resource_config
  expect terraform_data.handed_over forget
  expect terraform_data.dns no-op
  expect terraform_data.audit create
  expect data.terraform_remote_state.settings read read_because_config_unknown
  finish
fi

# Terraform 1.0.3 has no terraform_data (added in 1.4); hashicorp/null 2.1.2 from the
# project's mirror gives it a resource without a registry.
if begin tf103_modules "Terraform 1.0.3 (plan format 0.2) with hashicorp/null 2.1.2: modules with for_each and count, 3 levels deep, creates, replaces (both orderings), deletes (count index, module removed), a data source read at apply, a sensitive variable and output"; then
  if [ ! -x "$tf103" ]; then
    echo "gen-fixtures: skipping tf103_modules: no $tf103 (Terraform 1.0.3 installs on linux_amd64 only)" >&2
    rm -rf "$fx"
  else
    TF="$tf103"
    for step in before config; do
      if [ "$step" = before ]; then regions='"eu-west-1", "us-east-1"'; nodes=3; rev=1; else regions='"eu-west-1", "eu-central-1"'; nodes=2; rev=2; fi
      file "$step/main.tf" <<EOF
terraform {
  required_version = "~> 1.0.0"
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

variable "token" {
  type      = string
  sensitive = true
  default   = "CANARY-SENSITIVE-41c9-tf103"
}

resource "null_resource" "root" {
  triggers = { name = "root", revision = "$rev" }
}

resource "null_resource" "blue_green" {
  triggers = { name = "blue-green", revision = "$rev" }
  lifecycle {
    create_before_destroy = true
  }
}

module "region" {
  source   = "./modules/region"
  for_each = toset([$regions])
  region   = each.key
  nodes    = $nodes
  root_id  = null_resource.root.id
  token    = var.token
}

data "terraform_remote_state" "settings" {
  backend  = "local"
  config   = { path = "../upstream/terraform.tfstate" }
  defaults = { root = null_resource.root.id }
}

output "nodes" {
  value = { for k, m in module.region : k => m.node_ids }
}

output "token" {
  value     = var.token
  sensitive = true
}
EOF
      file "$step/modules/region/main.tf" <<'EOF'
variable "region" {
  type = string
}

variable "nodes" {
  type = number
}

variable "root_id" {
  type = string
}

variable "token" {
  type      = string
  sensitive = true
}

resource "null_resource" "node" {
  count    = var.nodes
  triggers = { name = "node-${count.index}", region = var.region, token = var.token }
}

module "zone" {
  source = "../zone"
  count  = 1
  region = var.region
  nodes  = null_resource.node[*].id
}

output "node_ids" {
  value = null_resource.node[*].id
}
EOF
      file "$step/modules/zone/main.tf" <<'EOF'
variable "region" {
  type = string
}

variable "nodes" {
  type = list(string)
}

module "leaf" {
  source = "../leaf"
  name   = "${var.region}-leaf"
  nodes  = var.nodes
}
EOF
      file "$step/modules/leaf/main.tf" <<'EOF'
variable "name" {
  type = string
}

variable "nodes" {
  type = list(string)
}

resource "null_resource" "leaf" {
  triggers = { name = var.name, nodes = join(",", var.nodes) }
}
EOF
    done
    file upstream/main.tf <<'EOF'
output "region" {
  value = "eu-west-1"
}
EOF
    stage upstream upstream && init upstream && run upstream apply -input=false -auto-approve -no-color
    stage before && init && apply
    stage config && plan
    expect null_resource.root delete,create
    expect null_resource.blue_green create,delete
    expect 'module.region["eu-central-1"].null_resource.node[0]' create
    expect 'module.region["eu-west-1"].null_resource.node[0]' no-op
    expect 'module.region["eu-west-1"].null_resource.node[2]' delete
    expect 'module.region["us-east-1"].null_resource.node[1]' delete
    expect 'module.region["eu-west-1"].module.zone[0].module.leaf.null_resource.leaf' delete,create
    expect data.terraform_remote_state.settings read
    finish
  fi
fi

if begin contracts "module calls judged by contracts: constant arguments (a good call, a bad enum, a number over its max), an argument computed from a resource (unknown in the plan), root variables passed straight through or interpolated, a replace inside a governed module, and a sensitive root variable"; then
  file before/main.tf <<'EOF'
variable "env" {
  type    = string
  default = "prod"
}

variable "token" {
  type      = string
  sensitive = true
  default   = "CANARY-SENSITIVE-41c9"
}

resource "terraform_data" "ticket" {
  input = { name = "chg-42" }
}

module "service_api" {
  source   = "./modules/service"
  env      = "prod"
  replicas = 3
  ticket   = terraform_data.ticket.id
  token    = var.token
}

module "service_batch" {
  source   = "./modules/service"
  env      = "qa"
  replicas = 2
  ticket   = "chg-7"
  token    = var.token
}

module "other" {
  source   = "./modules/service"
  env      = "lab"
  replicas = 1
  ticket   = "chg-1"
  token    = var.token
}
EOF
  file before/modules/service/main.tf <<'EOF'
variable "env" {
  type = string
}

variable "replicas" {
  type = number
}

variable "ticket" {
  type = string
}

variable "token" {
  type      = string
  sensitive = true
}

resource "terraform_data" "deploy" {
  input            = { env = var.env, replicas = var.replicas, ticket = var.ticket }
  triggers_replace = [var.env]
}

# The token is passed but not stored: terraform_data's `output` copies its input
# without the sensitive mark, which would leave the canary unmasked in the plan.
output "token_length" {
  value     = length(var.token)
  sensitive = true
}
EOF
  # The planned configuration moves the api to a new environment name, which replaces
  # its deployment, and scales the batch service up (an update); `other` stays as applied.
  mkdir -p "$fx/config"
  cp -r "$fx/before/." "$fx/config/"
  sed -i 's/env      = "prod"/env      = "staging"/' "$fx/config/main.tf"
  sed -i 's/replicas = 2$/replicas = 12/' "$fx/config/main.tf"
  # A new call whose arguments pass root variables straight through (known from the
  # plan's `variables` once the source shows `env = var.env`) or interpolate one (never
  # known from the plan), and hand the sensitive token on.
  cat >>"$fx/config/main.tf" <<'EOF'

variable "edge_replicas" {
  type    = number
  default = 20
}

module "service_edge" {
  source   = "./modules/service"
  env      = var.env
  replicas = var.edge_replicas
  ticket   = "${var.env}-1"
  token    = var.token
}
EOF
  stage before && init && apply
  stage config && init && plan
  expect module.service_api.terraform_data.deploy delete,create replace_because_cannot_update
  expect module.service_batch.terraform_data.deploy update
  expect module.service_edge.terraform_data.deploy create
  expect module.other.terraform_data.deploy no-op
  unmasked_ok='^(variables|configuration)'
  finish
fi

if begin contract_vars "contract inputs as Terraform converts them: -var values are recorded in the plan as strings (\"2\", \"1\"), a constant string argument (\"7\") reaches a number variable as a number, and a string variable keeps a numeric-looking value a string"; then
  file config/main.tf <<'EOF'
variable "ledger_generation" {
  type = number
}

variable "ha" {
  type = bool
}

variable "build" {
  type = string
}

module "ledger" {
  source     = "./modules/ledger"
  generation = var.ledger_generation
  ha         = var.ha
  build      = var.build
}

module "ledger_next" {
  source     = "./modules/ledger"
  generation = "7"
  ha         = "false"
  build      = "43"
}
EOF
  file config/modules/ledger/main.tf <<'EOF'
variable "generation" {
  type = number
}

variable "ha" {
  type = bool
}

variable "build" {
  type = string
}

resource "terraform_data" "db" {
  input = { generation = var.generation, ha = var.ha, build = var.build }
}
EOF
  stage config && init && plan -var ledger_generation=2 -var ha=1 -var build=42
  expect module.ledger.terraform_data.db create
  expect module.ledger_next.terraform_data.db create
  expect_top variables '{"build": {"value": "42"}, "ha": {"value": "1"}, "ledger_generation": {"value": "2"}}'
  finish
fi

if begin big_list "a resource whose planned value holds a list of 200 numbers: enough for a rule whose cost grows with the square of the data (a uniqueness check) to outrun a small evaluation budget while a linear rule stays far inside it"; then
  file config/main.tf <<'EOF'
resource "terraform_data" "batch" {
  input = { items = range(200) }
}
EOF
  stage config && init && plan
  expect terraform_data.batch create
  finish
fi

if begin delete_chain "deletes of a dependency chain gone from the configuration: Terraform records state dependencies transitively (dep3 lists old and dep2), so only the graph's reduction tells old's direct dependents (dep2[0], dep2[1]) from the transitive one (dep3)"; then
  file before/main.tf <<'EOF'
resource "terraform_data" "old" {
  input = { name = "old" }
}

resource "terraform_data" "dep2" {
  count = 2
  input = { name = "dep2-${count.index}", old = terraform_data.old.id }
}

resource "terraform_data" "dep3" {
  input = { name = "dep3", dep2 = terraform_data.dep2[0].id }
}
EOF
  file config/main.tf <<'EOF'
resource "terraform_data" "kept" {
  input = { name = "kept" }
}
EOF
  stage before && init && apply
  stage config && plan
  expect terraform_data.old delete
  expect 'terraform_data.dep2[0]' delete
  expect 'terraform_data.dep2[1]' delete
  expect terraform_data.dep3 delete
  expect terraform_data.kept create
  finish
fi

if begin module_instance_refs "a root resource reads the output of one instance of a counted module call (module.mc[1].out): only that instance's resources have it in their blast radius"; then
  file config/main.tf <<'EOF'
module "mc" {
  source = "./modules/svc"
  count  = 2
  name   = "mc-${count.index}"
}

resource "terraform_data" "one_of" {
  input = module.mc[1].out
}
EOF
  file config/modules/svc/main.tf <<'EOF'
variable "name" {
  type = string
}

resource "terraform_data" "x" {
  input = var.name
}

resource "terraform_data" "y" {
  input = terraform_data.x.id
}

output "out" {
  value = terraform_data.y.id
}
EOF
  stage config && init && plan
  expect 'module.mc[0].terraform_data.x' create
  expect 'module.mc[1].terraform_data.y' create
  expect terraform_data.one_of create
  finish
fi

if begin moved_across_modules "moves between modules: module.db's object moved to an undeclared module.scratch is destroyed there (delete, previous_address in module.db), a root resource moved into module.app (a pure move, no-op), a dependent whose state still records the old address (update)"; then
  file before/main.tf <<'EOF'
module "db" {
  source = "./modules/db"
}

module "app" {
  source = "./modules/app"
}

resource "terraform_data" "reader" {
  input = { name = "reader", db = module.db.id }
}

resource "terraform_data" "cfg" {
  input = { name = "cfg" }
}

resource "terraform_data" "cfg_reader" {
  input = { name = "cfg-reader", cfg = terraform_data.cfg.id }
}
EOF
  file before/modules/db/main.tf <<'EOF'
resource "terraform_data" "main" {
  input = { name = "ledger", encrypted = true }
}

output "id" {
  value = terraform_data.main.id
}
EOF
  file before/modules/app/main.tf <<'EOF'
resource "terraform_data" "x" {
  input = { name = "app" }
}
EOF
  file config/main.tf <<'EOF'
module "db" {
  source = "./modules/db"
}

module "app" {
  source = "./modules/app"
}

resource "terraform_data" "reader" {
  input = { name = "reader", db = module.db.id }
}

# module.scratch is declared nowhere: Terraform moves the object there and destroys it.
moved {
  from = module.db.terraform_data.main
  to   = module.scratch.terraform_data.main
}

moved {
  from = terraform_data.cfg
  to   = module.app.terraform_data.cfg
}

resource "terraform_data" "cfg_reader" {
  input = { name = "cfg-reader", cfg = module.app.cfg_id }
}
EOF
  file config/modules/db/main.tf <<'EOF'
output "id" {
  value = "retired"
}
EOF
  file config/modules/app/main.tf <<'EOF'
resource "terraform_data" "x" {
  input = { name = "app" }
}

resource "terraform_data" "cfg" {
  input = { name = "cfg" }
}

output "cfg_id" {
  value = terraform_data.cfg.id
}
EOF
  stage before && init && apply
  stage config && init && plan
  expect module.scratch.terraform_data.main delete delete_because_no_move_target
  expect module.app.terraform_data.cfg no-op
  expect terraform_data.reader update
  expect terraform_data.cfg_reader no-op
  finish
  python3 - "$fx/plan.json" <<'PY' || die "$name: the moves are not recorded as expected"
import json, sys
d = json.load(open(sys.argv[1]))
prev = {rc["address"]: rc.get("previous_address") for rc in d["resource_changes"]}
assert prev["module.scratch.terraform_data.main"] == "module.db.terraform_data.main", prev
assert prev["module.app.terraform_data.cfg"] == "terraform_data.cfg", prev
deps = {r["address"]: r.get("depends_on", []) for r in d["prior_state"]["values"]["root_module"]["resources"]}
assert "module.db.terraform_data.main" in deps["terraform_data.reader"], deps
PY
fi

if begin example_module_count "the example workspace (examples/workspace) with count = 1 on module \"payments\" and -var enable_ledger_db=true: the critical ledger database is module.payments[0].terraform_data.ledger_db[0]"; then
  mkdir -p "$fx/config"
  (cd "$repo/examples/workspace" && find . -name '*.tf' -print0 | xargs -0 -I{} cp --parents {} "$fx/config/")
  sed -i 's|^  source           = "./modules/payments"$|&\n  count            = 1|' "$fx/config/main.tf"
  sed -i 's|module\.payments\.endpoint|module.payments[0].endpoint|g' "$fx/config/main.tf"
  grep -q 'count            = 1' "$fx/config/main.tf" || die "$name: count was not added to module \"payments\""
  stage config && init && plan -var enable_ledger_db=true
  expect 'module.payments[0].terraform_data.ledger_db[0]' create
  expect 'module.payments[0].terraform_data.api[0]' create
  expect terraform_data.dns create
  marker=demo-secret-canary-7f3a
  unmasked_ok='^(variables|configuration)'
  finish
fi

if begin hub_spokes "a hub and twelve spokes (count = 12) that read its id: the spokes' instance keys run past 9, so a report that sorts them as text would put spoke[10] before spoke[2]"; then
  file config/main.tf <<'EOF'
resource "terraform_data" "hub" {
  input = { name = "hub" }
}

resource "terraform_data" "spoke" {
  count = 12
  input = { name = "spoke-${count.index}", hub = terraform_data.hub.id }
}
EOF
  stage config && init && plan
  expect terraform_data.hub create
  expect 'terraform_data.spoke[2]' create
  expect 'terraform_data.spoke[11]' create
  finish
fi

if begin module_sources "module calls from a local path, the public registry (version constraint), a private registry host (pinned, for_each), a git repository (//subdir and ?ref=tag), and a git call nested in the local module (count, ?ref=main): the configuration carries every call's source and version_constraint. Terraform fetches none of them: a module manifest written beside the configuration (.terraform/modules/modules.json) points each remote call at a stand-in directory, and init runs with -get=false"; then
  file config/main.tf <<'EOF'
module "app" {
  source = "./modules/app"
}

module "network" {
  source  = "corp/network/aws"
  version = "~> 1.2"
}

module "db" {
  source   = "registry.corp.example/team/db/aws"
  version  = "1.0.0"
  for_each = toset(["a", "b"])
  name     = each.key
}

module "vpc" {
  source = "git::https://git.corp.example/modules.git//vpc?ref=v1.2.0"
}
EOF
  file config/modules/app/main.tf <<'EOF'
module "inner" {
  source = "git::https://git.corp.example/modules.git?ref=main"
  count  = 1
}

resource "terraform_data" "app" {
  input = "app"
}
EOF
  stage config
  # Stand-ins for the remote modules, and the manifest `terraform init` would have written
  # after fetching them: with -get=false, init installs only providers, and plan loads each
  # call from the directory the manifest names.
  standins="$ws/config/.terraform/standins"
  for m in network vpc inner; do
    mkdir -p "$standins/$m"
    echo 'resource "terraform_data" "x" { input = "x" }' >"$standins/$m/main.tf"
  done
  mkdir -p "$standins/db" "$ws/config/.terraform/modules"
  printf 'variable "name" {}\n\nresource "terraform_data" "x" {\n  input = var.name\n}\n' >"$standins/db/main.tf"
  cat >"$ws/config/.terraform/modules/modules.json" <<'EOF'
{"Modules": [
  {"Key": "", "Source": "", "Dir": "."},
  {"Key": "app", "Source": "./modules/app", "Dir": "modules/app"},
  {"Key": "app.inner", "Source": "git::https://git.corp.example/modules.git?ref=main", "Dir": ".terraform/standins/inner"},
  {"Key": "network", "Source": "registry.terraform.io/corp/network/aws", "Version": "1.2.3", "Dir": ".terraform/standins/network"},
  {"Key": "db", "Source": "registry.corp.example/team/db/aws", "Version": "1.0.0", "Dir": ".terraform/standins/db"},
  {"Key": "vpc", "Source": "git::https://git.corp.example/modules.git//vpc?ref=v1.2.0", "Dir": ".terraform/standins/vpc"}
]}
EOF
  run config init -input=false -no-color -get=false
  plan
  expect module.app.terraform_data.app create
  expect 'module.app.module.inner[0].terraform_data.x' create
  expect 'module.db["a"].terraform_data.x' create
  expect module.network.terraform_data.x create
  expect module.vpc.terraform_data.x create
  finish
fi

if begin plan_set "several plans, one decision: two applied workspaces planned together; upstream/ (network, its plan is upstream.json) replaces the vpc whose id it outputs, config/ (app, plan.json) reads that output with terraform_remote_state and updates its readers in the same set"; then
  file upstream/main.tf <<'EOF'
variable "generation" {
  default = 1
}

resource "terraform_data" "vpc" {
  input            = { name = "shared-vpc" }
  triggers_replace = [var.generation]
}

resource "terraform_data" "dns" {
  input = { zone = "corp.example" }
}

output "vpc_id" {
  value = terraform_data.vpc.id
}
EOF
  file config/main.tf <<'EOF'
# Reads the state of the sibling workspace ../upstream, which is planned in the same set.
data "terraform_remote_state" "network" {
  backend = "local"
  config  = { path = "../upstream/terraform.tfstate" }
}

variable "revision" {
  default = 1
}

variable "api_token" {
  type      = string
  sensitive = true
  default   = "CANARY-SENSITIVE-41c9"
}

resource "terraform_data" "app" {
  count = 2
  input = { vpc = data.terraform_remote_state.network.outputs.vpc_id, revision = var.revision }
}

resource "terraform_data" "token" {
  input            = { revision = var.revision }
  triggers_replace = [var.api_token]
}

resource "terraform_data" "cache" {
  input = { name = "cache" }
}
EOF
  stage upstream upstream && init upstream && run upstream apply -input=false -auto-approve -no-color
  stage config && init && apply
  run upstream plan -input=false -no-color -out=tfplan -var generation=2
  "$TF" -chdir="$ws/upstream" show -json tfplan >"$fx/upstream.json" 2>>"$ws/log" ||
    die "$name: terraform show -json failed in upstream"
  if grep -q "$tmp" "$fx/upstream.json"; then die "$name: upstream.json contains the temporary path"; fi
  python3 - "$fx/upstream.json" <<'PY' || die "$name: upstream.json is not the replace of the vpc"
import json, sys
plan = json.load(open(sys.argv[1]))
actions = {rc["address"]: rc["change"]["actions"] for rc in plan["resource_changes"]}
assert actions["terraform_data.vpc"] == ["delete", "create"], actions
assert actions["terraform_data.dns"] == ["no-op"], actions
PY
  plan -var revision=2
  expect 'terraform_data.app[0]' update
  expect 'terraform_data.app[1]' update
  expect terraform_data.token update
  finish
fi

[ ${#generated[@]} -gt 0 ] || die "no fixture matched: ${wanted[*]}"
printf 'gen-fixtures: wrote %d fixtures under %s\n' "${#generated[@]}" "${out#"$repo"/}"
printf '  %s\n' "${generated[@]}"
