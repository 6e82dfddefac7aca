# The provider that writes these objects into the model store when this directory is
# applied (plan-guard --model reads the same files without it).
terraform {
  required_providers {
    iom = {
      source = "iom-dev/iom"
    }
  }
}

variable "store" {
  description = "Model store URL; null means $IOM_STORE, else sqlite://.iom/model.db."
  type        = string
  default     = null
}

provider "iom" {
  store = var.store
}
