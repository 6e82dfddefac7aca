variable "region" {
  type = string
}

variable "subnets" {
  type = list(string)
}

resource "terraform_data" "vpc" {
  input = { region = var.region, cidr = "10.0.0.0/16", owner = "team-platform" }
}

resource "terraform_data" "subnet" {
  for_each = toset(var.subnets)
  input    = { region = var.region, vpc = terraform_data.vpc.id, zone = each.key, owner = "team-platform" }
}

output "subnet_ids" {
  value = [for s in terraform_data.subnet : s.id]
}
