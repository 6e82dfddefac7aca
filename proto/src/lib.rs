//! Terraform plugin protocol 6 server (placeholder, being written).
