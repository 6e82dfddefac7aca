# The benchmark's governance: a realistic model with a dozen rules over three
# blueprints, three intents with constraints, two profiles and a contract.

resource "iom_profile" "prod" {
  name             = "prod-safe"
  actions          = { create = "allow", update = "allow", replace = "escalate", delete = "block" }
  max_blast_radius = 200
  max_changes      = 100000
  on_unknown       = "escalate"
  approvers        = ["alice", "group:platform"]
  groups           = { platform = ["bob", "carol"] }
}

resource "iom_profile" "lab" {
  name    = "lab"
  actions = { replace = "warn", delete = "warn" }
}

resource "iom_blueprint" "tagging" {
  name    = "tagging"
  version = "2.1.0"
  rule {
    id             = "owner"
    resource_types = ["terraform_data"]
    condition      = "has(after.input.owner)"
    outcome        = "warn"
  }
  rule {
    id        = "owner-known-team"
    condition = "!has(after.input.owner) || after.input.owner in ['bench', 'payments', 'platform']"
    outcome   = "escalate"
  }
  rule {
    id        = "region-declared"
    condition = "has(after.input.region)"
    outcome   = "warn"
  }
  rule {
    id        = "no-debug"
    condition = "!has(after.input.debug) || after.input.debug == false"
    outcome   = "block"
  }
}

resource "iom_blueprint" "storage" {
  name    = "storage"
  version = "1.0.0"
  rule {
    id             = "encrypted"
    resource_types = ["aws_s3_bucket*", "terraform_data"]
    condition      = "!has(after.input.encrypted) || after.input.encrypted == true"
    outcome        = "block"
  }
  rule {
    id        = "versioned"
    resource_types = ["aws_s3_bucket*"]
    condition = "has(after.versioning)"
    outcome   = "warn"
  }
  rule {
    id      = "retention"
    actions = ["create"]
    condition = "!has(after.input.retention_days) || after.input.retention_days >= 7"
    outcome = "warn"
  }
}

resource "iom_blueprint" "network" {
  name    = "network"
  version = "1.0.0"
  rule {
    id        = "no-public-upstream"
    condition = "!has(after.input.upstream) || !after.input.upstream.startsWith('0.0.0.0')"
    outcome   = "block"
  }
  rule {
    id        = "name-format"
    condition = "address.matches('^(module\\\\.[a-z_]+(\\\\[[0-9]+\\\\])?\\\\.)*terraform_data\\\\.[a-z_]+(\\\\[[0-9]+\\\\])?$')"
    outcome   = "warn"
  }
  rule {
    id        = "type-known"
    condition = "type != ''"
    outcome   = "block"
  }
}

resource "iom_intent" "units" {
  name       = "units-prod"
  profile    = "prod-safe"
  blueprints = ["tagging@2.1.0", "storage", "network"]
  scope {
    workspaces = ["bench-*"]
    modules    = ["module.unit"]
  }
  allowed_resource_types = ["terraform_data"]
  critical               = ["module.unit[0].terraform_data.base"]
  constraint {
    id        = "eu-or-us"
    condition = "!has(after.input.region) || after.input.region in ['eu-west-1', 'us-east-1']"
    outcome   = "block"
  }
  constraint {
    id        = "same-owner"
    condition = "before == null || !has(before.input.owner) || !has(after.input.owner) || before.input.owner == after.input.owner"
    outcome   = "escalate"
  }
}

resource "iom_intent" "root" {
  name       = "root"
  profile    = "prod-safe"
  blueprints = ["tagging"]
  scope {
    workspaces = ["bench-*"]
  }
}

resource "iom_intent" "lab" {
  name    = "lab"
  profile = "lab"
  scope {
    workspaces = ["lab-*"]
  }
}

resource "iom_contract" "unit" {
  name   = "unit"
  module = "module.unit*"
  input {
    name     = "region"
    type     = "string"
    required = true
    enum     = ["eu-west-1", "us-east-1"]
  }
  constraint {
    profile        = "prod-safe"
    forbid_actions = ["delete"]
  }
}
