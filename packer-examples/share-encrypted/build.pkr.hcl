# Share an encrypted AMI: the launch permission, createVolumePermission on
# its snapshots (--share-snapshots, so targets can copy the image or create
# volumes from it), and one KMS grant per key and target account
# (--kms-grants) so the targets can launch it. Reruns change nothing that
# is already true.

variable "target_accounts" {
  type        = list(string)
  default     = ["222222222222", "333333333333"]
  description = "Accounts to share the AMI with and tag it in."
}

variable "target_role" {
  type        = string
  default     = "AmishareTagger"
  description = "Role amishare assumes in every target account to write the tags."
}

variable "amishare" {
  type        = string
  default     = "amishare"
  description = "The amishare command: a name on PATH, or a path."
}

locals {
  manifest = "packer-manifest.json"
  report   = "amishare-report.json"
}

build {
  sources = ["source.amazon-ebs.golden"]

  # Your provisioners go here.

  post-processors {
    post-processor "manifest" {
      output     = local.manifest
      strip_path = true
    }

    post-processor "shell-local" {
      inline = [
        "${var.amishare} share --manifest ${local.manifest} --accounts ${join(",", var.target_accounts)} --role-name ${var.target_role} --share-snapshots --kms-grants --tag Approved=true --report ${local.report}",
      ]
    }
  }
}
