# Example governance for the demo workspace in ../workspace.
#
# plan-guard reads these blocks statically (`plan-guard check --model examples/governance`);
# the same file applies with the iom provider to write them into the model store.

variable "approved_regions" {
  default = ["eu-west-1", "eu-central-1"]
}

resource "iom_profile" "prod" {
  name             = "prod-safe"
  description      = "Production: replacing needs a human, deleting is never automatic."
  actions          = { create = "allow", update = "allow", replace = "escalate", delete = "block" }
  max_blast_radius = 20
  max_changes      = 100
  on_unknown       = "escalate"
  approvers        = ["alice", "group:platform"]
  groups           = { platform = ["bob", "carol"] }

  require_distinct_approver = true
}

resource "iom_profile" "shared" {
  name    = "shared-services"
  actions = { replace = "warn", delete = "escalate" }
}

resource "iom_blueprint" "tagging" {
  name    = "tagged-inputs"
  version = "1.0.0"

  rule {
    id             = "owner-declared"
    resource_types = ["terraform_data"]
    condition      = "has(after.input.owner)"
    outcome        = "warn"
    message        = "every resource input should name its owner"
  }
}

resource "iom_blueprint" "storage" {
  name    = "encrypted-storage"
  version = "1.0.0"

  rule {
    id             = "encrypted-at-rest"
    resource_types = ["terraform_data"]
    condition      = "!has(after.input.encrypted) || after.input.encrypted == true"
    outcome        = "block"
    message        = "stored data must be encrypted at rest"
  }
}

resource "iom_intent" "payments" {
  name        = "payments-prod"
  purpose     = "customer payments, PCI scope"
  environment = "prod"
  owner       = "team-payments"
  profile     = iom_profile.prod.name
  blueprints  = ["${iom_blueprint.storage.name}@${iom_blueprint.storage.version}", iom_blueprint.tagging.name]

  scope {
    workspaces = ["payments-*", "default"]
    modules    = ["module.payments"]
  }

  allowed_resource_types = ["terraform_data"]
  critical               = ["module.payments.terraform_data.ledger_db*"]

  constraint {
    id             = "eu-only"
    resource_types = ["terraform_data"]
    condition      = "!has(after.input.region) || after.input.region in ${jsonencode(var.approved_regions)}"
    outcome        = "block"
    message        = "payments data stays in approved EU regions"
  }
}

resource "iom_intent" "network" {
  name    = "network-prod"
  purpose = "shared network for every product"
  owner   = "team-platform"
  profile = iom_profile.shared.name

  scope {
    modules = ["module.network"]
  }
}

resource "iom_intent" "root" {
  name    = "platform-root"
  purpose = "resources declared in the root module"
  owner   = "team-platform"
  profile = iom_profile.shared.name

  scope {
    workspaces = ["payments-*", "default"]
  }

  allowed_resource_types = ["terraform_data"]
}

variable "payments_health_url" {
  description = "Where the payments API answers its health check once an apply is done."
  default     = "http://127.0.0.1:8080/health"
}

# The operational contract of the payments module call: what it needs (its inputs, one of
# them sensitive), what must hold before an apply, what production forbids, and what a
# governed apply verifies afterwards. Approvers see all of it beside the findings.
resource "iom_contract" "payments" {
  name        = "payments-service"
  description = "The payments API: EU regions only, an API token, verified after apply."
  module      = "module.payments"

  input {
    name     = "region"
    type     = "string"
    required = true
    enum     = var.approved_regions
  }

  input {
    name        = "api_token"
    type        = "string"
    required    = true
    pattern     = "[a-z0-9-]{16,}"
    description = "sensitive: checked, never shown"
  }

  input {
    name = "enable_ledger_db"
    type = "bool"
  }

  pre_condition {
    check   = "profile_active"
    profile = iom_profile.prod.name
    outcome = "escalate"
  }

  pre_condition {
    check = "no_drift"
  }

  constraint {
    profile        = iom_profile.prod.name
    forbid_actions = ["delete"]
  }

  post_verify {
    probe         = "http"
    url           = var.payments_health_url
    expect_status = 200
    retries       = 2
  }

  post_verify {
    probe = "run_record_written"
  }
}

resource "iom_element" "ledger" {
  name    = "payments-ledger"
  kind    = "data"
  matches = ["module.payments.terraform_data.ledger_db*"]
}
