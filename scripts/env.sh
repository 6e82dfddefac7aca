# Source this file (bash or zsh) to use the project's own Terraform in the current shell:
#
#   . scripts/env.sh
#
# Puts $IOM_TOOLS/bin (default <repo>/.tools/bin) first on PATH and exports
#   TERRAFORM_BINARY       the Terraform 1.15 launcher (what plan-guard runs for binary plans)
#   TERRAFORM_1_0_BINARY   Terraform 1.0.3, when installed
#   TF_CLI_CONFIG_FILE     the project's CLI config (hashicorp/null from the local mirror),
#                          unless it already names a file that exists
#   CHECKPOINT_DISABLE=1   no update check: there is no network to check with
#
# A sourced file must not change the caller's shell options, so unlike the scripts it
# does not `set -euo pipefail`; it only sets variables and reports a missing install.

if [ -n "${BASH_SOURCE:-}" ]; then
  _iom_env_src="${BASH_SOURCE[0]}"
elif [ -n "${ZSH_VERSION:-}" ]; then
  # shellcheck disable=SC2296
  _iom_env_src="${(%):-%x}"
else
  _iom_env_src="$0"
fi
_iom_repo="$(cd "$(dirname "$_iom_env_src")/.." && pwd)"
_iom_tools="${IOM_TOOLS:-$_iom_repo/.tools}"

if [ ! -x "$_iom_tools/bin/terraform" ]; then
  echo "env.sh: no Terraform in $_iom_tools/bin: run bash $_iom_repo/scripts/install-terraform.sh first" >&2
else
  case ":$PATH:" in
    *":$_iom_tools/bin:"*) PATH="$_iom_tools/bin:$(printf '%s' ":$PATH:" | sed "s#:$_iom_tools/bin:#:#g; s#^:##; s#:\$##")" ;;
    *) PATH="$_iom_tools/bin:$PATH" ;;
  esac
  export PATH
  export TERRAFORM_BINARY="$_iom_tools/bin/terraform"
  if [ -x "$_iom_tools/bin/terraform-1.0.3" ]; then
    export TERRAFORM_1_0_BINARY="$_iom_tools/bin/terraform-1.0.3"
  fi
  if [ -z "${TF_CLI_CONFIG_FILE:-}" ] || [ ! -f "$TF_CLI_CONFIG_FILE" ]; then
    if [ -f "$_iom_tools/terraformrc" ]; then
      export TF_CLI_CONFIG_FILE="$_iom_tools/terraformrc"
    fi
  fi
  export CHECKPOINT_DISABLE=1
fi
unset _iom_env_src _iom_repo _iom_tools
