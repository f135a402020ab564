#!/usr/bin/env bash
# The share-ou and share-encrypted examples built with Packer against the
# emulator (their build.pkr.hcl as shipped, a source pointed at the
# emulator), checked from the targets' side; and every AWS call amishare
# makes in them is one the documented IAM policies allow.
. "$(dirname "$0")/test-lib.sh"

EXAMPLES=$TEST_TOP/packer-examples
export PACKER_CHECKPOINT_DISABLE=1 CHECKPOINT_DISABLE=1
export PACKER_CONFIG_DIR=$TEST_DIR/.packer.d PACKER_CACHE_DIR=$TEST_DIR/.packer-cache

if ! command -v packer >/dev/null; then
	echo "Bail out! packer is not installed (make deps installs it)"
	exit 1
fi

start_fakeaws
use_account 111111111111
OU=arn:aws:organizations::100000000000:ou/o-amishare01/ou-ams1-prodnest
ORG_ROLE=arn:aws:iam::100000000000:role/AmishareOrgReader

# source.pkr.hcl for the emulator; "encrypted" adds the customer key.
emulator_source() {
	cat <<-\EOF
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
	  ami_name                   = "golden-${formatdate("YYYYMMDDhhmmss", timestamp())}"
	  source_ami_filter {
	    filters     = { name = "amzn2-ami-hvm-*-x86_64-gp2" }
	    owners      = ["amazon"]
	    most_recent = true
	  }
	  tags = { Name = "golden-al2" }
	EOF
	if [ "${1:-}" = encrypted ]; then
		cat <<-\EOF
		  encrypt_boot       = true
		  kms_key_id         = "alias/golden-ami"
		  region_kms_key_ids = { "eu-west-1" = "alias/golden-ami" }
		EOF
	fi
	echo "}"
}

# amishare as the post-processor runs it, after clearing the emulator's
# request log so that the log holds amishare's calls only.
cat >"$TEST_DIR/amishare-logged" <<EOF
#!/bin/sh
"$FAKEAWS/ctl" "$FAKEAWS_URL" reset-stats >/dev/null || exit 3
exec "$AMS_BIN" "\$@"
EOF
chmod +x "$TEST_DIR/amishare-logged"

pbuild() { # EXAMPLE [encrypted] -- packer vars...: build in run-EXAMPLE
	local ex=$1 kind=$2
	shift 3
	mkdir -p "tpl-$ex" "run-$ex" &&
	cp "$EXAMPLES/$ex/build.pkr.hcl" "tpl-$ex/" &&
	emulator_source "$kind" >"tpl-$ex/source.pkr.hcl" &&
	(cd "run-$ex" && timeout 100 packer build -color=false \
		-var "endpoint=$FAKEAWS_URL" \
		-var "amishare=$TEST_DIR/amishare-logged" "$@" "../tpl-$ex/") \
		>build.log 2>&1 || { cat build.log; return 1; }
}

# calls ACCOUNT: "service:Action" amishare called as ACCOUNT, sorted.
calls() {
	fakeaws_ctl log --account "$1" --limit 100000 | python3 -c '
import json, sys
d = json.load(sys.stdin)
entries = d["entries"] if isinstance(d, dict) else d
print("\n".join(sorted({"%s:%s" % (e["service"], e["action"])
                        for e in entries})))'
}

# allowed POLICY_JSON|- [EXTRA...]: fails naming each call in "calls"
# that neither the policy's actions nor EXTRA allow.
allowed() {
	python3 - "$@" <calls <<-\PY
	import json, fnmatch, sys
	pol = {"Statement": []}
	if sys.argv[1] != "-":
	    pol = json.load(open(sys.argv[1]))
	ok = list(sys.argv[2:])
	for s in pol["Statement"]:
	    a = s["Action"]
	    ok += a if isinstance(a, list) else [a]
	bad = [c for c in sys.stdin.read().split()
	       if not any(fnmatch.fnmatchcase(c, p) for p in ok)]
	print("not in the documented policy: %s" % bad if bad else "ok")
	sys.exit(1 if bad else 0)
	PY
}

test_expect_success 'share-ou: shares with the OU and tags every member' '
	pbuild share-ou plain -- -var "ou_arn=$OU" -var "org_role=$ORG_ROLE" &&
	cat build.log &&
	grep "(shell-local): amishare share: ok: 2 images x 2 accounts: 4 ok" build.log &&
	m=run-share-ou/packer-manifest.json &&
	E=$(ami_of $m us-east-1) && W=$(ami_of $m eu-west-1) &&
	awsview perms 111111111111:us-east-1:$E 111111111111:eu-west-1:$W >p &&
	test "$(grep -c " ou:$OU$" p)" = 2 &&
	awsview tags 333333333333:us-east-1:$E 444444444444:eu-west-1:$W \
		222222222222:us-east-1:$E >t &&
	cat t &&
	grep -x "333333333333 us-east-1 $E .*Approved=true,Name=golden-al2.*" t &&
	grep -x "444444444444 eu-west-1 $W .*Approved=true,Name=golden-al2.*" t &&
	grep -x "222222222222 us-east-1 $E not-visible" t
'

test_expect_success 'share-ou: amishare stays within the documented permissions' '
	calls 111111111111 >calls && cat calls &&
	grep -qx "ec2:ModifyImageAttribute" calls &&
	grep -qx "sts:AssumeRole" calls &&
	allowed "$TEST_TOP/ci/iam/build-account-policy.json" &&
	calls 100000000000 >calls && cat calls &&
	grep -q "^organizations:List" calls &&
	allowed - organizations:ListAccountsForParent \
		organizations:ListOrganizationalUnitsForParent &&
	calls 333333333333 >calls && cat calls &&
	grep -qx "ec2:CreateTags" calls &&
	allowed "$TEST_TOP/ci/iam/target-role-policy.json"
'

test_expect_success 'share-encrypted: customer keys in both Regions' '
	python3 - "$FAKEAWS_URL" <<-\PY
	import json, sys
	import botocore.session
	s = botocore.session.get_session()
	for region in ("us-east-1", "eu-west-1"):
	    kms = s.create_client("kms", region_name=region, endpoint_url=sys.argv[1])
	    policy = {"Version": "2012-10-17", "Statement": [
	        {"Effect": "Allow", "Action": "kms:*", "Resource": "*",
	         "Principal": {"AWS": "arn:aws:iam::111111111111:root"}},
	        {"Effect": "Allow", "Resource": "*",
	         "Principal": {"AWS": ["arn:aws:iam::222222222222:root",
	                               "arn:aws:iam::333333333333:root"]},
	         "Action": ["kms:DescribeKey", "kms:Decrypt", "kms:ReEncrypt*",
	                    "kms:GenerateDataKey*", "kms:CreateGrant"]}]}
	    key = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"]
	    kms.create_alias(AliasName="alias/golden-ami", TargetKeyId=key)
	PY
'

test_expect_success 'share-encrypted: snapshots shared, a grant per key and target' '
	pbuild share-encrypted encrypted -- &&
	cat build.log &&
	grep "(shell-local): amishare share: ok: 2 images x 2 accounts: 4 ok" build.log &&
	m=run-share-encrypted/packer-manifest.json &&
	E=$(ami_of $m us-east-1) && W=$(ami_of $m eu-west-1) &&
	python3 - "$FAKEAWS_URL" "$E" "$W" >snaps <<-\PY &&
	import sys
	import botocore.session
	s = botocore.session.get_session()
	for region, ami in (("us-east-1", sys.argv[2]), ("eu-west-1", sys.argv[3])):
	    ec2 = s.create_client("ec2", region_name=region, endpoint_url=sys.argv[1])
	    img = ec2.describe_images(ImageIds=[ami])["Images"][0]
	    for bdm in img["BlockDeviceMappings"]:
	        ebs = bdm.get("Ebs", {})
	        if ebs.get("SnapshotId"):
	            assert ebs.get("Encrypted"), bdm
	            print(region, ebs["SnapshotId"])
	PY
	cat snaps && test "$(wc -l <snaps)" = 2 &&
	while read -r region snap; do
		awsview snapperms "111111111111:$region:$snap" >sp &&
		grep "222222222222" sp && grep "333333333333" sp || exit 1
	done <snaps &&
	python3 - "$FAKEAWS_URL" >grants <<-\PY &&
	import sys
	import botocore.session
	s = botocore.session.get_session()
	for region in ("us-east-1", "eu-west-1"):
	    kms = s.create_client("kms", region_name=region, endpoint_url=sys.argv[1])
	    for g in kms.list_grants(KeyId="alias/golden-ami")["Grants"]:
	        print(region, g.get("Name"), g["GranteePrincipal"])
	PY
	cat grants &&
	test "$(grep -c " amishare-222222222222 " grants)" = 2 &&
	test "$(grep -c " amishare-333333333333 " grants)" = 2 &&
	awsview tags 222222222222:eu-west-1:$W >t &&
	grep "Approved=true" t
'

test_expect_success 'share-encrypted: within the documented permissions' '
	calls 111111111111 >calls && cat calls &&
	grep -qx "kms:CreateGrant" calls &&
	grep -qx "ec2:ModifySnapshotAttribute" calls &&
	allowed "$TEST_TOP/ci/iam/build-account-policy.json" \
		kms:DescribeKey kms:ListGrants kms:CreateGrant &&
	calls 222222222222 >calls && cat calls &&
	grep -qx "ec2:CreateTags" calls &&
	allowed "$TEST_TOP/ci/iam/target-role-policy.json"
'

test_done
