# The judging rules (docs/judging.md), one by one, on real public plans of the corpus
# (plans/). Run by `cargo test -p plan-guard --test it decision_cases` and by
# `plan-guard test plan-guard/tests/corpus`. Each test carries its own small governance;
# the profile prod-safe and the intent app come first in most of them.

test "replace is its own class" {
  plan = "plans/041_tf_requires_replace.json"
  governance = <<-EOT
    resource "iom_profile" "p" {
      name    = "prod-safe"
      actions = { replace = "escalate", delete = "block", update = "warn" }
    }
    resource "iom_intent" "i" {
      name    = "app"
      profile = "prod-safe"
    }
  EOT
  verdict   = "escalate"
  exit_code = 3
  summary   = { replace = 1, delete = 0 }
  findings = {
    "test_instance.test" = ["escalate profile:prod-safe/replace"]
  }
}

test "delete blocks and the plan takes the highest verdict" {
  plan = "plans/025_tf_basic_delete.json"
  governance = <<-EOT
    resource "iom_profile" "p" {
      name    = "prod-safe"
      actions = { replace = "escalate", delete = "block", update = "warn" }
    }
    resource "iom_intent" "i" {
      name    = "app"
      profile = "prod-safe"
    }
  EOT
  verdict   = "block"
  exit_code = 2
  summary   = { warn = 1, block = 1 }
  findings = {
    "test_instance.test-delete" = ["block profile:prod-safe/delete"]
    "test_instance.test"        = ["warn profile:prod-safe/update"]
  }
}

test "unspecified actions allow" {
  plan = "plans/031_tf_modules.json"
  governance = <<-EOT
    resource "iom_profile" "p" {
      name    = "prod-safe"
      actions = { replace = "escalate", delete = "block", update = "warn" }
    }
    resource "iom_intent" "i" {
      name    = "app"
      profile = "prod-safe"
    }
  EOT
  verdict     = "allow"
  exit_code   = 0
  findings    = { "*" = [] }
  governed_by = { "*" = ["app"] }
}

test "permitted types and critical addresses" {
  plan = "plans/031_tf_modules.json"
  governance = <<-EOT
    resource "iom_profile" "p" {
      name    = "prod-safe"
      actions = { replace = "escalate", delete = "block", update = "warn" }
    }
    resource "iom_intent" "i" {
      name                   = "app"
      profile                = "prod-safe"
      allowed_resource_types = ["aws_*"]
      critical               = ["module.module_test_foo.test_instance.test[1]"]
    }
  EOT
  findings = {
    "module.module_test_foo.test_instance.test[1]" = [
      "block intent:app/allowed_resource_types",
      "escalate intent:app/critical",
    ]
    # Not critical: only the type rule.
    "module.module_test_foo.test_instance.test[0]" = ["block intent:app/allowed_resource_types"]
  }
}

test "scope by module prefix and workspace glob" {
  plan = "plans/031_tf_modules.json"
  governance = <<-EOT
    resource "iom_profile" "p" {
      name    = "prod-safe"
      actions = { replace = "escalate", delete = "block", update = "warn" }
    }
    resource "iom_intent" "i" {
      name    = "app"
      profile = "prod-safe"
      scope {
        workspaces = ["pay-*"]
        modules    = ["module.module_test_foo"]
      }
    }
  EOT
  workspace  = "pay-prod"
  ungoverned = "block"
  findings = {
    "module.module_test_foo.test_instance.test[2]" = []
    "module.module_test_bar.test_instance.test"    = ["block model/ungoverned"]
  }
}

test "in another workspace the intent governs nothing" {
  plan = "plans/031_tf_modules.json"
  governance = <<-EOT
    resource "iom_profile" "p" {
      name    = "prod-safe"
      actions = { replace = "escalate", delete = "block", update = "warn" }
    }
    resource "iom_intent" "i" {
      name    = "app"
      profile = "prod-safe"
      scope {
        workspaces = ["pay-*"]
        modules    = ["module.module_test_foo"]
      }
    }
  EOT
  workspace  = "staging"
  ungoverned = "warn"
  changes    = { "*" = "warn" }
  exit_code  = 0
}

test "ungoverned allow records no finding at all" {
  plan = "plans/031_tf_modules.json"
  governance = <<-EOT
    resource "iom_profile" "p" {
      name    = "prod-safe"
      actions = { replace = "escalate", delete = "block", update = "warn" }
    }
    resource "iom_intent" "i" {
      name    = "app"
      profile = "prod-safe"
      scope {
        workspaces = ["pay-*"]
        modules    = ["module.module_test_foo"]
      }
    }
  EOT
  workspace  = "staging"
  ungoverned = "allow"
  findings   = { "*" = [] }
}

test "every matching intent applies" {
  plan = "plans/031_tf_modules.json"
  governance = <<-EOT
    resource "iom_profile" "p" {
      name    = "prod-safe"
      actions = { replace = "escalate", delete = "block", update = "warn" }
    }
    resource "iom_intent" "i" {
      name    = "app"
      profile = "prod-safe"
    }
    resource "iom_profile" "strict" {
      name    = "strict"
      actions = { create = "escalate" }
    }
    resource "iom_intent" "j" {
      name    = "second"
      profile = "strict"
    }
  EOT
  governed_by = { "module.module_test_bar.test_instance.test" = ["app", "second"] }
  changes     = { "module.module_test_bar.test_instance.test" = "escalate" }
}

test "blueprint rules and constraints evaluate CEL on after" {
  plan = "plans/042_tf_sensitive_values.json"
  governance = <<-EOT
    resource "iom_profile" "p" {
      name    = "prod-safe"
      actions = { replace = "escalate", delete = "block", update = "warn" }
    }
    resource "iom_intent" "i" {
      name       = "app"
      profile    = "prod-safe"
      blueprints = ["ami-policy"]
      constraint {
        id        = "named"
        condition = "address.startsWith('test_instance.')"
        outcome   = "warn"
      }
    }
    resource "iom_blueprint" "b" {
      name    = "ami-policy"
      version = "1.2.0"
      rule {
        id        = "ami-known"
        condition = "after.ami in ['ami-approved']"
        outcome   = "block"
        message   = "only approved images"
      }
      rule {
        id             = "other-types"
        resource_types = ["aws_*"]
        condition      = "false"
        outcome        = "block"
      }
    }
  EOT
  findings = { "test_instance.test" = ["block blueprint:ami-policy@1.2.0/ami-known"] }
  messages = { "test_instance.test" = ["only approved images"] }
}

test "conditions reading unknown values follow on_unknown" {
  plan = "plans/042_tf_sensitive_values.json"
  governance = <<-EOT
    resource "iom_profile" "p" {
      name       = "p"
      on_unknown = "warn"
    }
    resource "iom_intent" "i" {
      name    = "i"
      profile = "p"
      constraint {
        id        = "id-shape"
        condition = "after.id.startsWith('i-')"
        outcome   = "block"
      }
      constraint {
        id        = "ami-known"
        condition = "has(after.ami)"
        outcome   = "block"
      }
    }
  EOT
  findings = { "test_instance.test" = ["warn profile:p/on_unknown"] }
  messages = { "test_instance.test" = ["after.id"] }
}

test "max_changes escalates every change in scope" {
  plan = "plans/031_tf_modules.json"
  governance = <<-EOT
    resource "iom_profile" "p" {
      name             = "p"
      max_changes      = 3
      max_blast_radius = 2
    }
    resource "iom_intent" "i" {
      name    = "i"
      profile = "p"
    }
  EOT
  summary  = { changes = 4 }
  findings = { "*" = ["escalate profile:p/max_changes"] }
}

test "max_blast_radius escalates a change that reaches more" {
  plan = "plans/004_tfjson_110_sensitive_values.json"
  governance = <<-EOT
    resource "iom_profile" "p" {
      name             = "p"
      max_changes      = 3
      max_blast_radius = 2
    }
    resource "iom_intent" "i" {
      name    = "i"
      profile = "p"
    }
  EOT
  blast_radius = { "null_resource.foo" = 4 }
  findings = {
    "null_resource.foo" = ["escalate profile:p/max_blast_radius", "escalate profile:p/max_changes"]
  }
}
