# Demo workspace: only Terraform's built-in terraform_data resource, so `terraform init`
# downloads nothing. The variables pick the scenario (see README.md):
#   allow     no variables
#   escalate  -var enable_ledger_db=true   (creates a resource the governance calls critical)
#   block     -var region=us-east-1        (inputs leave the approved EU regions)

variable "region" {
  description = "Region every resource's input names; the governance allows only EU regions."
  type        = string
  default     = "eu-west-1"
}

variable "enable_ledger_db" {
  description = "Adds module.payments.terraform_data.ledger_db[0], a critical resource."
  type        = bool
  default     = false
}

variable "api_token" {
  description = "Sensitive: flows into the payments API inputs; must never be printed."
  type        = string
  sensitive   = true
  default     = "demo-secret-canary-7f3a"
}

module "network" {
  source  = "./modules/network"
  region  = var.region
  subnets = ["a", "b"]
}

module "payments" {
  source           = "./modules/payments"
  region           = var.region
  subnet_ids       = module.network.subnet_ids # unknown until the subnets exist
  api_token        = var.api_token
  enable_ledger_db = var.enable_ledger_db

  # Already implied by subnet_ids; stated so the plan also records a module-level depends_on.
  depends_on = [module.network]
}

resource "terraform_data" "dns" {
  input = {
    name     = "payments.example.internal"
    region   = var.region
    endpoint = module.payments.endpoint # the id of an instance inside module.payments
    owner    = "team-platform"
  }
}

output "endpoint" {
  value = module.payments.endpoint
}
