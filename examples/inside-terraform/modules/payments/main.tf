# The payments module checks its own inputs against the contract the platform team
# stored: a plan with a bad input fails here, in the contract's words.

terraform {
  required_providers {
    iom = {
      source = "iom-dev/iom"
    }
  }
}

variable "region" {
  type = string
}

variable "api_token" {
  type      = string
  sensitive = true
}

locals {
  # The messages name the input and the rule, never a value, so they may be shown even
  # though api_token makes the list sensitive.
  violations = nonsensitive(provider::iom::contract_violations("payments-service", {
    region    = var.region
    api_token = var.api_token
  }))
}

resource "terraform_data" "api" {
  input = { region = var.region }

  lifecycle {
    precondition {
      condition     = length(local.violations) == 0
      error_message = join("\n", local.violations)
    }
  }
}

output "endpoint" {
  value = terraform_data.api.id
}
