# Demo workspace: only the built-in terraform_data resource, so no provider download.
# Variables pick the scenario; see README.md.

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "enable_ledger_db" {
  type    = bool
  default = false
}

variable "api_token" {
  type      = string
  sensitive = true
  default   = "demo-secret-canary-7f3a"
}

module "network" {
  source  = "./modules/network"
  region  = var.region
  subnets = ["a", "b"]
}

module "payments" {
  source           = "./modules/payments"
  region           = var.region
  subnet_ids       = module.network.subnet_ids
  api_token        = var.api_token
  enable_ledger_db = var.enable_ledger_db
}

resource "terraform_data" "dns" {
  input = {
    name     = "payments.example.internal"
    endpoint = module.payments.endpoint
    owner    = "team-platform"
  }
}

output "endpoint" {
  value = module.payments.endpoint
}
