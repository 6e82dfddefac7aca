#!/usr/bin/env bash
# Python packages the tests use as real consumers of plan-guard's outputs, installed into
# the project's venv (created by install-terraform.sh): junitparser reads the JUnit XML,
# PyYAML reads the CI recipes whose steps the integration tests run, sarif-pydantic (a
# typed SARIF 2.1.0 model) validates the SARIF report.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.tools/venv"
[ -x "$venv/bin/python" ] || bash "$repo/scripts/install-terraform.sh" >/dev/null
if ! "$venv/bin/python" -c 'import junitparser, yaml, sarif_pydantic' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check \
    'junitparser==3.2.0' 'PyYAML==6.0.2' 'sarif-pydantic==0.6.2'
fi
