# Payments: an API tier (count), an optional ledger database (count 0 or 1) and a queue
# that waits for the API (depends_on). Every input names its region and encryption.

variable "region" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "api_token" {
  type      = string
  sensitive = true
}

variable "enable_ledger_db" {
  type = bool
}

resource "terraform_data" "api" {
  count = 2
  input = {
    name      = "payments-api-${count.index}"
    region    = var.region
    subnet    = var.subnet_ids[count.index % length(var.subnet_ids)]
    token     = var.api_token
    encrypted = true
    owner     = "team-payments"
  }
}

resource "terraform_data" "ledger_db" {
  count = var.enable_ledger_db ? 1 : 0
  input = {
    name      = "payments-ledger"
    region    = var.region
    encrypted = true
    owner     = "team-payments"
  }
}

resource "terraform_data" "queue" {
  input = {
    name      = "payments-events"
    region    = var.region
    encrypted = true
    owner     = "team-payments"
  }
  depends_on = [terraform_data.api]
}

output "endpoint" {
  value = terraform_data.api[0].id
}
