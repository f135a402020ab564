#!/usr/bin/env bash
# The typed EC2 and STS calls (src/ec2.c, src/sts.c) through the real
# stack against the emulator: an owner shares a golden AMI, a target
# account assumes a role, sees the shared image and tags its own copy of
# the tags; results are cross-checked with botocore (awsview).
. "$(dirname "$0")/test-lib.sh"

TC="$AMS_BUILD/tests/tools/typed_calls"
tc() { "$TC" "$@"; }

start_fakeaws
use_account 111111111111
(cd "$TEST_DIR" && build_golden --regions us-east-1 --name golden-typed \
	--tag Name=golden --tag team=platform \
	--manifest manifest.json >/dev/null)
AMI=$(ami_of "$TEST_DIR/manifest.json" us-east-1)
OU=arn:aws:organizations::100000000000:ou/o-amishare01/ou-ams1-prodnest
T2="--assume arn:aws:iam::222222222222:role/AmishareTagger"
T3="--assume arn:aws:iam::333333333333:role/AmishareTagger"

test_expect_success 'GetCallerIdentity, and AssumeRole into a target' '
	tc caller >out &&
	grep -x "caller 111111111111 arn:aws:iam::111111111111:user/amishare" out &&
	tc $T2 caller >out &&
	grep "^caller 222222222222 arn:aws:sts::222222222222:assumed-role/AmishareTagger/typed-calls$" out
'

test_expect_success 'AssumeRole with an external id; without it is denied' '
	tc --assume arn:aws:iam::444444444444:role/AmishareTaggerExt \
		--external-id ams-ext-1 caller >out &&
	grep "^caller 444444444444 " out &&
	test_expect_code 1 tc --assume \
		arn:aws:iam::444444444444:role/AmishareTaggerExt caller 2>err &&
	grep "AccessDenied" err
'

test_expect_success 'the owner describes its image with the build tags' '
	tc images --owner self --filter "tag:Name=gold*" >out &&
	grep "^image $AMI available owner=111111111111 name=golden-typed public=0 snap=snap-" out &&
	grep "^image $AMI .* tags=Name=golden,team=platform$" out
'

test_expect_success 'a target cannot see the image before the share' '
	test_expect_code 1 tc $T2 images --id $AMI 2>err &&
	grep "InvalidAMIID.NotFound" err
'

test_expect_success 'a dry run of the share is permitted and changes nothing' '
	tc share $AMI --dry-run user:222222222222 >out &&
	grep -x "dry-run ok" out &&
	tc image-perms $AMI >out &&
	test ! -s out
'

test_expect_success 'ModifyImageAttribute adds an account and an OU' '
	tc share $AMI user:222222222222 ou:$OU >out &&
	grep -x ok out &&
	tc image-perms $AMI >out &&
	grep -x "perm userId 222222222222" out &&
	grep -x "perm organizationalUnitArn $OU" out &&
	test "$(wc -l <out)" = 2 &&
	awsview perms 111111111111:us-east-1:$AMI >p &&
	grep -x "111111111111 us-east-1 $AMI ou:$OU,user:222222222222" p
'

test_expect_success 'the target sees the shared image without the owner tags' '
	tc $T2 images --id $AMI >out &&
	grep "^image $AMI available owner=111111111111 .* tags=$" out
'

test_expect_success 'an account of the shared OU sees it too' '
	tc $T3 images --exec-by self >out &&
	grep "^image $AMI " out
'

test_expect_success 'CreateTags in the target writes the target'\''s own tags' '
	tc $T2 tag $AMI Name=golden "team=platform team" empty= >out &&
	grep -x ok out &&
	tc $T2 images --id $AMI >out &&
	grep "^image $AMI .* tags=Name=golden,empty=,team=platform team$" out &&
	awsview tags 222222222222:us-east-1:$AMI >v &&
	grep -x "222222222222 us-east-1 $AMI Name=golden,empty=,team=platform team" v
'

test_expect_success 'the owner'\''s tags are untouched' '
	tc images --id $AMI >out &&
	grep "^image $AMI .* tags=Name=golden,team=platform$" out
'

test_expect_success 'DescribeTags pages through the target'\''s tags' '
	tc $T2 tag $AMI k1=1 k2=2 k3=3 k4=4 >/dev/null &&
	tc $T2 tags $AMI >out &&
	test "$(grep -c "^tag image " out)" = 7 &&
	grep -x "tag image team=platform team" out &&
	grep -x "pages 2" out
'

test_expect_success 'DeleteTags with and without values' '
	tc $T2 untag $AMI k1 k2=wrong k3=3 empty= >out &&
	grep -x ok out &&
	tc $T2 tags $AMI >out &&
	! grep "tag image k1=" out &&
	grep -x "tag image k2=2" out &&
	! grep "tag image k3=" out &&
	! grep "tag image empty=" out
'

test_expect_success 'reserved and malformed input never leaves the client' '
	before=$(api_count CreateTags) &&
	test_expect_code 1 tc $T2 tag $AMI aws:x=1 2>err &&
	grep "reserved" err &&
	test_expect_code 1 tc share $AMI user:1111-2222-3333 2>err &&
	grep "12 digits" err &&
	test "$(api_count CreateTags)" = "$before"
'

test_expect_success 'snapshots: describe, share with an account, read back' '
	tc images --id $AMI >img &&
	snap=$(sed -n "s/.* snap=\(snap-[0-9a-f]*\) .*/\1/p" img) &&
	test -n "$snap" &&
	tc snapshots $snap >out &&
	grep "^snapshot $snap completed encrypted=0 owner=111111111111$" out &&
	tc snap-share $snap 222222222222 333333333333 >out &&
	grep -x ok out &&
	tc snap-perms $snap >out &&
	grep -x "perm userId 222222222222" out &&
	grep -x "perm userId 333333333333" out &&
	awsview snapperms 111111111111:us-east-1:$snap >p &&
	grep -x "111111111111 us-east-1 $snap 222222222222,333333333333" p &&
	tc snap-share $snap -333333333333 >/dev/null &&
	tc snap-perms $snap >out &&
	! grep 333333333333 out
'

test_expect_success 'EnableImageDeprecation shows in DescribeImages' '
	tc deprecate $AMI 2030-01-01T00:00:00Z >out &&
	grep -x ok out &&
	tc images --id $AMI >out &&
	grep "^image $AMI .* deprecated=1893456000 " out
'

test_expect_success 'removing the account, then ResetImageAttribute' '
	tc share $AMI -user:222222222222 >/dev/null &&
	tc image-perms $AMI >out &&
	! grep 222222222222 out &&
	grep "organizationalUnitArn" out &&
	tc reset $AMI >out &&
	grep -x ok out &&
	tc image-perms $AMI >out &&
	test ! -s out &&
	test_expect_code 1 tc $T2 images --id $AMI 2>err &&
	grep "InvalidAMIID.NotFound" err
'

test_expect_success 'DescribeImages follows NextToken across pages' '
	for i in 1 2 3 4 5 6; do
		build_golden --regions us-east-1 --name many-$i >/dev/null ||
		exit 1
	done &&
	tc images --owner self >out &&
	test "$(grep -c "^image " out)" = 7 &&
	grep -x "pages 2" out
'

test_done
