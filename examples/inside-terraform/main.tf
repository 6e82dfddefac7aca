# Governance inside Terraform: the payments contract of ../governance checked by a
# precondition while planning (provider::iom::contract_violations), the model asked in a
# check block and an output, and the contract's post-verify probes run by an action after
# the release is created or updated, with the outcome in the evidence ledger.
#
# Apply ../governance into a store first, then plan and apply here with the same store in
# IOM_STORE (functions read it from the environment: see README.md). Terraform 1.14+.

terraform {
  required_version = ">= 1.14"
  required_providers {
    iom = {
      source = "iom-dev/iom"
    }
  }
}

# Actions record into this store; functions read $IOM_STORE (the provider block never
# reaches them), so set both to the same store.
provider "iom" {}

variable "region" {
  description = "The payments API's region; the contract allows only EU regions."
  type        = string
  default     = "eu-west-1"
}

variable "api_token" {
  description = "Sensitive: checked against the contract, never shown."
  type        = string
  sensitive   = true
  default     = "demo-secret-canary-7f3a"
}

variable "release" {
  description = "The release being deployed; a new one updates terraform_data.release."
  type        = string
  default     = "v1"
}

module "payments" {
  source    = "./modules/payments"
  region    = var.region
  api_token = var.api_token
}

# Run in the order listed: the run record first, so the contract's run_record_written
# probe finds it.
action "iom_record" "release" {
  config {
    kind     = "release"
    message  = "payments API released"
    contract = "payments-service"
  }
}

action "iom_verify" "payments" {
  config {
    contract = "payments-service"
  }
}

resource "terraform_data" "release" {
  input = { endpoint = module.payments.endpoint, release = var.release }

  lifecycle {
    action_trigger {
      events  = [after_create, after_update]
      actions = [action.iom_record.release, action.iom_verify.payments]
    }
  }
}

check "ledger_is_governed" {
  assert {
    condition     = provider::iom::governs(terraform.workspace, "module.payments.terraform_data.api")
    error_message = "No IOM intent governs the payments API in workspace ${terraform.workspace}."
  }
}

output "deleting_payments" {
  description = "What the payments profile says about a delete (block, in ../governance)."
  value       = provider::iom::profile_outcome("prod-safe", "delete")
}
