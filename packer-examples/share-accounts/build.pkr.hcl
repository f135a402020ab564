# Share the AMI with a list of accounts and write its tags in each of them,
# right after the build: the manifest post-processor records the AMI of
# every Region, then shell-local runs amishare on that manifest. Packer
# gives shell-local PACKER_BUILD_NAME and PACKER_RUN_UUID, from which
# amishare picks exactly this build of this run out of the manifest.

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

variable "share_tags" {
  type = map(string)
  default = {
    Approved     = "true"
    ImageVersion = "{build.name}-{date}"
  }
  description = "Tags added to the shared AMI besides its own ({build.name}, {packer.run_uuid}, {custom.os}, {date}, {git.commit} ... are filled in by amishare)."
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
      output      = local.manifest
      strip_path  = true
      custom_data = { os = "amzn2" }
    }

    post-processor "shell-local" {
      # One KEY=VALUE per line: amishare reads AMISHARE_TAG like --tag.
      environment_vars = [
        "AMISHARE_TAG=${join("\n", [for k, v in var.share_tags : "${k}=${v}"])}",
      ]
      inline = [
        "${var.amishare} share --manifest ${local.manifest} --accounts ${join(",", var.target_accounts)} --role-name ${var.target_role} --report ${local.report}",
      ]
    }
  }
}
