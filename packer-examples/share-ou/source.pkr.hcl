# The golden image: the newest Amazon Linux 2 from Amazon, built in one
# Region and copied to the others (ami_regions). Everything amishare needs
# is in build.pkr.hcl; this file is yours to change.

variable "region" {
  type        = string
  default     = "us-east-1"
  description = "Region the image is built in."
}

variable "copy_regions" {
  type        = list(string)
  default     = ["eu-west-1"]
  description = "Regions the AMI is copied to; amishare shares it in every one."
}

variable "instance_type" {
  type    = string
  default = "t3.micro"
}

source "amazon-ebs" "golden" {
  region        = var.region
  ami_regions   = var.copy_regions
  instance_type = var.instance_type
  ssh_username  = "ec2-user"
  ami_name      = "golden-al2-${formatdate("YYYYMMDDhhmmss", timestamp())}"

  source_ami_filter {
    filters = {
      name                = "amzn2-ami-hvm-*-x86_64-gp2"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["amazon"]
    most_recent = true
  }

  # Copied onto the shared AMI in every target account by amishare.
  tags = {
    Name = "golden-al2"
    Team = "platform"
    OS   = "amazon-linux-2"
  }
}
