# Shared network: one VPC and a subnet per name (for_each), each subnet reading the VPC's id.

variable "region" {
  type = string
}

variable "subnets" {
  type = list(string)
}

resource "terraform_data" "vpc" {
  input = {
    name   = "core-vpc"
    region = var.region
    cidr   = "10.0.0.0/16"
    owner  = "team-platform"
  }
}

resource "terraform_data" "subnet" {
  for_each = toset(var.subnets)
  input = {
    name   = "core-subnet-${each.key}"
    region = var.region
    vpc    = terraform_data.vpc.id # unknown at plan time
    zone   = each.key
    owner  = "team-platform"
  }
}

output "subnet_ids" {
  value = [for s in terraform_data.subnet : s.id]
}
