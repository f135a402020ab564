#!/usr/bin/env bash
# Beyond tags: OU and organisation members tagged like explicit accounts
# (nested OUs, paginated listings, suspended accounts left out), encrypted
# images (customer key grants, launch by a target, the AWS managed key
# refused), the AMI id in SSM parameters, deprecation, and revoke, which
# restores the targets. Every state is read from the accounts' own side.
. "$(dirname "$0")/test-lib.sh"

start_fakeaws
use_account 111111111111
ORG_ROLE=arn:aws:iam::100000000000:role/AmishareOrgReader
WORKLOAD=arn:aws:organizations::100000000000:ou/o-amishare01/ou-ams1-workload
ORG=arn:aws:organizations::100000000000:organization/o-amishare01
R="--role-name AmishareTagger --no-provenance-tags"
cd "$TEST_DIR" || exit 1
build_golden --regions us-east-1 --name plain --tag Name=plain \
	--manifest plain.json --run-uuid p1 --build-name base >/dev/null
KEY=$(awsview newkey 111111111111:us-east-1 | awk '{print $NF}')
build_golden --regions us-east-1 --name enc --tag Name=enc --encrypted \
	--kms-key "$KEY" --manifest enc.json --run-uuid e1 \
	--build-name base >/dev/null
build_golden --regions us-east-1 --name dflt --tag Name=dflt --encrypted \
	--kms-key alias/aws/ebs --manifest dflt.json --run-uuid d1 --build-name base >/dev/null
cd - >/dev/null || exit 1
P=$(ami_of "$TEST_DIR/plain.json" us-east-1)
E=$(ami_of "$TEST_DIR/enc.json" us-east-1)
D=$(ami_of "$TEST_DIR/dflt.json" us-east-1)

test_expect_success 'an OU is expanded to its active members, nested OUs too' '
	echo "{\"rules\": [{\"fault\": \"empty_page\", \"service\": \"organizations\", \"every\": 2}]}" >pages.json &&
	fakeaws_ctl faults pages.json >/dev/null &&
	amishare share --ami us-east-1:$P --ou-arn $WORKLOAD \
		--org-role $ORG_ROLE $R --report r.json >out &&
	fakeaws_ctl faults-clear >/dev/null &&
	json_get r.json "sorted(a[\"id\"] for a in d[\"accounts\"])" >ids &&
	grep -x "\[.222222222222., .333333333333., .444444444444.\]" ids &&
	test "$(json_get r.json "d[\"organizations\"][\"accounts_found\"]")" = 3 &&
	awsview tags 222222222222:us-east-1:$P 333333333333:us-east-1:$P \
		444444444444:us-east-1:$P >t &&
	test "$(grep -c "Name=plain$" t)" = 3
'

test_expect_success 'the plan shows the expansion; an org covers every member' '
	amishare plan --ami us-east-1:$P --org-arn $ORG --org-role $ORG_ROLE \
		--exclude-accounts 100000000000 $R --output json >p.json &&
	json_get p.json "sorted(a[\"id\"] for a in d[\"accounts\"])" >ids &&
	grep -x "\[.222222222222., .333333333333., .444444444444., .555555555555.\]" ids
'

test_expect_success 'an image under the AWS managed key is refused before writes' '
	before=$(api_count ModifyImageAttribute) &&
	test_expect_code 1 amishare share --ami us-east-1:$D \
		--accounts 222222222222 $R >out &&
	grep "AWS managed key" out &&
	test "$(api_count ModifyImageAttribute)" = "$before" &&
	awsview tags 222222222222:us-east-1:$D >t && grep not-visible t
'

test_expect_success 'a target cannot launch an encrypted image without a grant' '
	amishare share --ami us-east-1:$E --accounts 333333333333 $R \
		--share-snapshots >/dev/null &&
	awsview launch 333333333333:us-east-1:$E >l &&
	grep refused l
'

test_expect_success '--kms-check names the missing grant' '
	test_expect_code 1 amishare share --ami us-east-1:$E \
		--accounts 333333333333 $R --share-snapshots --kms-check >out &&
	grep "333333333333 failed   kms-check: no KMS grant for this account" out
'

test_expect_success '--kms-grants lets targets launch; a rerun adds no grant' '
	amishare share --ami us-east-1:$E --accounts 222222222222,333333333333 \
		$R --share-snapshots --kms-grants >out &&
	awsview grants 111111111111:us-east-1:$KEY >g &&
	grep "amishare-222222222222,amishare-333333333333" g &&
	awsview launch 333333333333:us-east-1:$E >l && grep launched l &&
	before=$(api_count CreateGrant) &&
	amishare share --ami us-east-1:$E --accounts 222222222222,333333333333 \
		$R --share-snapshots --kms-grants --report r.json >/dev/null &&
	test "$(api_count CreateGrant)" = "$before" &&
	test "$(json_get r.json "d[\"summary\"][\"writes\"]")" = 0
'

test_expect_success 'the AMI id lands in an SSM parameter in every target' '
	amishare share --manifest "$TEST_DIR/plain.json" \
		--accounts 222222222222,555555555555 \
		$R --ssm-parameter "/golden/{build.name}/latest" >out &&
	awsview param 222222222222:us-east-1:/golden/base/latest \
		555555555555:us-east-1:/golden/base/latest >p &&
	test "$(grep -c " $P$" p)" = 2 &&
	before=$(api_count PutParameter) &&
	amishare share --manifest "$TEST_DIR/plain.json" \
		--accounts 222222222222,555555555555 $R \
		--ssm-parameter "/golden/{build.name}/latest" >/dev/null &&
	test "$(api_count PutParameter)" = "$before"
'

test_expect_success '--deprecate-at sets the deprecation time once' '
	amishare share --ami us-east-1:$P --accounts 222222222222 $R \
		--deprecate-at 2031-01-01 >/dev/null &&
	awsview deprecation 111111111111:us-east-1:$P >dep &&
	grep "2031-01-01T00:00:00" dep &&
	before=$(api_count EnableImageDeprecation) &&
	amishare share --ami us-east-1:$P --accounts 222222222222 $R \
		--deprecate-at 2031-01-01 >/dev/null &&
	test "$(api_count EnableImageDeprecation)" = "$before"
'

test_expect_success 'revoke restores the targets and keeps their own tags' '
	python3 -c "
import botocore.session, os
c = botocore.session.get_session().create_client(\"ec2\", region_name=\"us-east-1\",
    endpoint_url=os.environ[\"FAKEAWS_URL\"], aws_access_key_id=\"AKIAFAKE555555555555\",
    aws_secret_access_key=\"fakeaws-secret-555555555555-EXAMPLEKEY0\")
c.create_tags(Resources=[\"$P\"], Tags=[{\"Key\": \"local-note\", \"Value\": \"keep\"}])
" &&
	amishare plan --revoke --manifest "$TEST_DIR/plain.json" \
		--accounts 222222222222,555555555555 $R \
		--ssm-parameter "/golden/{build.name}/latest" >plan.out &&
	grep "to remove: user:222222222222 user:555555555555" plan.out &&
	amishare revoke --manifest "$TEST_DIR/plain.json" \
		--accounts 222222222222,555555555555 $R \
		--ssm-parameter "/golden/{build.name}/latest" >out &&
	awsview perms 111111111111:us-east-1:$P >perms &&
	! grep -E "222222222222|555555555555" perms &&
	awsview param 222222222222:us-east-1:/golden/base/latest >p &&
	grep ParameterNotFound p &&
	amishare verify --revoke --manifest "$TEST_DIR/plain.json" \
		--accounts 222222222222,555555555555 $R \
		--ssm-parameter "/golden/{build.name}/latest" >v &&
	grep "^amishare verify: ok" v
'

test_expect_success 'after revoke and a new share, the target keeps its own tag' '
	amishare share --ami us-east-1:$P --accounts 555555555555 $R >/dev/null &&
	awsview tags 555555555555:us-east-1:$P >t &&
	grep -x "555555555555 us-east-1 $P Name=plain,local-note=keep" t
'

test_expect_success 'revoke takes back KMS grants and snapshot permissions' '
	amishare revoke --ami us-east-1:$E --accounts 222222222222,333333333333 \
		$R --share-snapshots --kms-grants >out &&
	awsview grants 111111111111:us-east-1:$KEY >g &&
	grep "(none)" g &&
	awsview launch 333333333333:us-east-1:$E >l && grep refused l
'

test_done
