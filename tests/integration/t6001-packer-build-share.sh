#!/usr/bin/env bash
# A real `packer build` against the bundled emulator: the share-accounts
# example's build.pkr.hcl (manifest, then shell-local running amishare)
# with an amazon-ebs source pointed at the emulator in place of the
# example's source.pkr.hcl. Checked from the target accounts' side with
# botocore: the AMI of both Regions is shared and tagged.
. "$(dirname "$0")/test-lib.sh"

EXAMPLE=$TEST_TOP/packer-examples/share-accounts
export PACKER_CHECKPOINT_DISABLE=1 CHECKPOINT_DISABLE=1
export PACKER_CONFIG_DIR=$TEST_DIR/.packer.d PACKER_CACHE_DIR=$TEST_DIR/.packer-cache
export PACKER_NO_COLOR=1

if ! command -v packer >/dev/null; then
	echo "Bail out! packer is not installed (make deps installs it)"
	exit 1
fi

start_fakeaws
use_account 111111111111

# The example's build block, with a source that talks to the emulator:
# no instance to reach (communicator none), no Region or credential
# checks against real AWS, the emulator's public Amazon Linux image.
mkdir "$TEST_DIR/tpl"
cp "$EXAMPLE/build.pkr.hcl" "$TEST_DIR/tpl/"
cat >"$TEST_DIR/tpl/source.pkr.hcl" <<\EOF
variable "endpoint" {
  type = string
}

source "amazon-ebs" "golden" {
  region                     = "us-east-1"
  ami_regions                = ["eu-west-1"]
  custom_endpoint_ec2        = var.endpoint
  skip_region_validation     = true
  skip_metadata_api_check    = true
  skip_credential_validation = true
  communicator               = "none"
  instance_type              = "t3.micro"
  ami_name                   = "golden-al2-${formatdate("YYYYMMDDhhmmss", timestamp())}"

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
    Name = "golden-al2"
    Team = "platform"
  }
}
EOF

pbuild() { # packer build in $TEST_DIR/run; output in build.log
	(cd "$TEST_DIR/run" && timeout 100 packer build -color=false \
		-var "endpoint=$FAKEAWS_URL" -var "amishare=$AMS_BIN" \
		"$TEST_DIR/tpl/") >build.log 2>&1
}
last() { # FIELD of the manifest's last build
	json_get "$TEST_DIR/run/packer-manifest.json" "d[\"builds\"][-1][\"$1\"]"
}
mkdir "$TEST_DIR/run"

test_expect_success 'packer build runs the post-processors; amishare shares' '
	start=$(date +%s) &&
	pbuild || { cat build.log; false; } &&
	cat build.log &&
	test $(($(date +%s) - start)) -lt 60 &&
	grep "(shell-local): amishare share: ok: 2 images x 2 accounts: 4 ok" build.log &&
	test "$(last name)" = golden && test "$(last builder_type)" = amazon-ebs
'

E1=$(ami_of "$TEST_DIR/run/packer-manifest.json" us-east-1 2>/dev/null)
W1=$(ami_of "$TEST_DIR/run/packer-manifest.json" eu-west-1 2>/dev/null)

test_expect_success 'Packer built through the emulator: launch, image, copy' '
	test -n "$E1" && test -n "$W1" && test "$E1" != "$W1" &&
	test "$(api_count RunInstances 111111111111)" = 1 &&
	test "$(api_count CreateImage 111111111111)" = 1 &&
	test "$(api_count CopyImage 111111111111)" = 1 &&
	test "$(api_count TerminateInstances 111111111111)" = 1
'

test_expect_success 'amishare took this build and run from Packer' '
	r=run/amishare-report.json &&
	test "$(json_get $r "d[\"status\"]")" = ok &&
	test "$(json_get $r "d[\"inputs\"][\"run_uuid\"]")" = "$(last packer_run_uuid)" &&
	test "$(json_get $r "d[\"inputs\"][\"build\"]")" = golden &&
	test "$(json_get $r "sorted(i[\"ami_id\"] for i in d[\"images\"])")" = \
		"$(python3 -c "print(sorted([\"$E1\", \"$W1\"]))")"
'

test_expect_success 'both Regions: the targets hold a launch permission' '
	awsview perms 111111111111:us-east-1:$E1 111111111111:eu-west-1:$W1 >out &&
	grep -x "111111111111 us-east-1 $E1 user:222222222222,user:333333333333" out &&
	grep -x "111111111111 eu-west-1 $W1 user:222222222222,user:333333333333" out
'

test_expect_success 'both Regions: every target sees the tags' '
	awsview tags 222222222222:us-east-1:$E1 333333333333:us-east-1:$E1 \
		222222222222:eu-west-1:$W1 333333333333:eu-west-1:$W1 >out &&
	cat out &&
	test "$(grep -c "Approved=true,ImageVersion=golden-[0-9-]*,Name=golden-al2,Team=platform" out)" = 4 &&
	test "$(grep -c "provenance:packer-run-uuid=$(last packer_run_uuid)" out)" = 4 &&
	test "$(grep -c "provenance:build-name=golden" out)" = 4
'

test_expect_success 'an account outside the targets sees nothing' '
	awsview tags 444444444444:us-east-1:$E1 >out &&
	grep -x "444444444444 us-east-1 $E1 not-visible" out
'

test_expect_success 'a second build shares only its own AMIs' '
	pbuild || { cat build.log; false; } &&
	test "$(json_get run/packer-manifest.json "len(d[\"builds\"])")" = 2 &&
	E2=$(ami_of run/packer-manifest.json us-east-1) &&
	test "$E2" != "$E1" &&
	grep "(shell-local): amishare share: ok: 2 images x 2 accounts: 4 ok" build.log &&
	test "$(json_get run/amishare-report.json "sorted(i[\"ami_id\"] for i in d[\"images\"])")" != \
		"$(python3 -c "print(sorted([\"$E1\", \"$W1\"]))")" &&
	awsview tags 333333333333:us-east-1:$E2 >out &&
	grep "Approved=true" out
'

test_done
