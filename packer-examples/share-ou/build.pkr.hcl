# Share the AMI with an organizational unit (every account in it, nested
# OUs included, can launch it) and write its tags in every active member:
# with --org-role, amishare lists the OU's accounts through a role in the
# management account (or a delegated administrator) and tags the image in
# each, as if they had been listed one by one.

variable "ou_arn" {
  type        = string
  default     = "arn:aws:organizations::111122223333:ou/o-abc123def4/ou-ab12-cd34ef56"
  description = "The OU to share the AMI with."
}

variable "org_role" {
  type        = string
  default     = "arn:aws:iam::111122223333:role/AmishareOrgReader"
  description = "Role that may call organizations:List* (management or delegated administrator account)."
}

variable "exclude_accounts" {
  type        = list(string)
  default     = []
  description = "Members to leave untagged (for example accounts without the tagging role)."
}

variable "target_role" {
  type        = string
  default     = "AmishareTagger"
  description = "Role amishare assumes in every member account to write the tags."
}

variable "amishare" {
  type        = string
  default     = "amishare"
  description = "The amishare command: a name on PATH, or a path."
}

locals {
  manifest = "packer-manifest.json"
  report   = "amishare-report.json"
  exclude  = length(var.exclude_accounts) == 0 ? "" : " --exclude-accounts ${join(",", var.exclude_accounts)}"
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
        "${var.amishare} share --manifest ${local.manifest} --ou-arn ${var.ou_arn} --org-role ${var.org_role} --role-name ${var.target_role}${local.exclude} --tag Approved=true --report ${local.report}",
      ]
    }
  }
}
