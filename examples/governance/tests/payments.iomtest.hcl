# Unit tests of the example governance (run: plan-guard test examples/governance/tests).
# Each test plans ../../workspace with the real Terraform and states the verdicts the
# governance must give, so a change to a rule that alters them fails here first.

model = "../"

test "a plain rollout of the workspace is allowed" {
  terraform_dir = "../../workspace"
  workspace     = "payments-prod"
  verdict       = "allow"
  changes = {
    "module.payments.terraform_data.api[0]" = "allow"
    "terraform_data.dns"                    = "allow"
  }
}

test "the ledger database is critical and escalates" {
  terraform_dir = "../../workspace"
  vars          = { enable_ledger_db = true }
  workspace     = "payments-prod"
  verdict       = "escalate"
  changes = {
    "module.payments.terraform_data.ledger_db[0]" = "escalate"
    "module.payments.terraform_data.api[1]"       = "allow"
  }
  # Only the intent's critical list escalates it: the payments contract's inputs hold.
  findings = {
    "module.payments.terraform_data.ledger_db[0]" = ["escalate intent:payments-prod/critical"]
  }
}

test "payments data stays in EU regions" {
  terraform_dir = "../../workspace"
  vars          = { region = "us-east-1" }
  workspace     = "payments-prod"
  verdict       = "block"
  changes = {
    "module.payments.terraform_data.api[0]" = "block"
    "module.payments.terraform_data.queue"  = "block"
  }
}

test "outside payments workspaces the intent does not apply" {
  terraform_dir = "../../workspace"
  vars          = { region = "us-east-1" }
  workspace     = "marketing-dev"
  ungoverned    = "allow"
  changes = {
    "terraform_data.dns" = "allow"
  }
}

test "the payments contract goes wherever the module call goes" {
  terraform_dir = "../../workspace"
  workspace     = "marketing-dev"
  ungoverned    = "allow"
  verdict       = "escalate"
  changes = {
    # prod-safe does not govern marketing-dev: the contract's pre-condition escalates.
    "module.payments.terraform_data.api[0]" = "escalate"
    "terraform_data.dns"                    = "allow"
  }
}
