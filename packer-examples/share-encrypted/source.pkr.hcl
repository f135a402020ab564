# An encrypted golden image: the root snapshot is encrypted with a customer
# managed KMS key in every Region. An AMI under the AWS managed key
# (aws/ebs) cannot be shared; the key policy must let the target accounts
# use the key (see ../README.md).

variable "region" {
  type        = string
  default     = "us-east-1"
  description = "Region the image is built in."
}

variable "copy_regions" {
  type        = list(string)
  default     = ["eu-west-1"]
  description = "Regions the AMI is copied to; each needs a key in region_kms_key_ids."
}

variable "kms_key_id" {
  type        = string
  default     = "alias/golden-ami"
  description = "Customer managed key for the build Region."
}

variable "region_kms_key_ids" {
  type        = map(string)
  default     = { "eu-west-1" = "alias/golden-ami" }
  description = "Customer managed key for each copy Region."
}

variable "instance_type" {
  type    = string
  default = "t3.micro"
}

source "amazon-ebs" "golden" {
  region             = var.region
  ami_regions        = var.copy_regions
  instance_type      = var.instance_type
  ssh_username       = "ec2-user"
  ami_name           = "golden-al2-encrypted-${formatdate("YYYYMMDDhhmmss", timestamp())}"
  encrypt_boot       = true
  kms_key_id         = var.kms_key_id
  region_kms_key_ids = var.region_kms_key_ids

  source_ami_filter {
    filters = {
      name                = "amzn2-ami-hvm-*-x86_64-gp2"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["amazon"]
    most_recent = true
  }

  tags = {
    Name      = "golden-al2-encrypted"
    Team      = "platform"
    Encrypted = "true"
  }
}
