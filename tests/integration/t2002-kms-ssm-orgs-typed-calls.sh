#!/usr/bin/env bash
# The typed JSON 1.1 calls (src/kms.c, src/ssm.c, src/orgs.c) through the
# real stack against the emulator: key metadata and grants on a shared
# key, the AMI id published in Parameter Store, and the organization tree
# walked page by page, empty pages with a NextToken included.
. "$(dirname "$0")/test-lib.sh"

TC="$AMS_BUILD/tests/tools/typed_calls"
tc() { "$TC" "$@"; }

KEY_ID=1234abcd-12ab-34cd-56ef-1234567890ab
KEY_ARN=arn:aws:kms:us-east-1:111111111111:key/$KEY_ID
ASG=arn:aws:iam::222222222222:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling
T2="--assume arn:aws:iam::222222222222:role/AmishareTagger"
MGMT="--assume arn:aws:iam::100000000000:role/AmishareOrgReader"

# The default world plus one customer managed key the owner shares.
PYTHONPATH="$FAKEAWS${PYTHONPATH:+:$PYTHONPATH}" python3 -c '
import json, sys
from emulator.world import DEFAULT_WORLD
w = dict(DEFAULT_WORLD)
w["kms_keys"] = [{"account": "111111111111", "region": "us-east-1",
                  "id": sys.argv[2], "alias": "alias/golden",
                  "description": "golden image key",
                  "allow_accounts": ["222222222222"]}]
json.dump(w, open(sys.argv[1], "w"))' "$TEST_DIR/world.json" "$KEY_ID" ||
	{ echo "Bail out! cannot write the world file"; exit 1; }
# Every second ListChildren page comes back empty but with a NextToken.
echo '{"rules": [{"service": "organizations", "action": "ListChildren",
	"fault": "empty_page", "every": 2}]}' >"$TEST_DIR/faults.json"

start_fakeaws --world "$TEST_DIR/world.json" --faults "$TEST_DIR/faults.json"
use_account 111111111111

test_expect_success 'DescribeKey: a customer managed key by alias and ARN' '
	tc describe-key alias/golden >out &&
	grep -x "key $KEY_ID CUSTOMER Enabled 111111111111" out &&
	tc $T2 describe-key $KEY_ARN >out &&
	grep -x "key $KEY_ID CUSTOMER Enabled 111111111111" out
'

test_expect_success 'DescribeKey: an encrypted image'\''s key; aws/ebs' '
	build_golden --regions us-east-1 --name enc --encrypted >ami.json &&
	ami=$(python3 -c "import json; print(json.load(open(\"ami.json\"))[\"us-east-1\"])") &&
	tc images --id $ami >img &&
	kms=$(sed -n "s/.* kms=\([^ ]*\) .*/\1/p" img) &&
	case "$kms" in arn:aws:kms:us-east-1:111111111111:key/*) ;; *) false ;; esac &&
	tc describe-key $kms >out &&
	grep "^key .* CUSTOMER Enabled 111111111111$" out &&
	tc describe-key alias/aws/ebs >out &&
	grep "^key .* AWS Enabled 111111111111$" out
'

test_expect_success 'CreateGrant from the target on the owner key, ListGrants' '
	tc $T2 grant $KEY_ARN $ASG Decrypt,Encrypt,GenerateDataKey,GenerateDataKeyWithoutPlaintext,ReEncryptFrom,ReEncryptTo,CreateGrant,DescribeKey amishare-asg >g1 &&
	grep "^grant [0-9a-f]" g1 &&
	tc $T2 grant $KEY_ARN arn:aws:iam::222222222222:root Decrypt >g2 &&
	tc grants $KEY_ARN >out &&
	test "$(grep -c "^grant " out)" = 2 &&
	grep -x "grant $(cut -d" " -f2 g1) $ASG Decrypt,Encrypt,GenerateDataKey,GenerateDataKeyWithoutPlaintext,ReEncryptFrom,ReEncryptTo,CreateGrant,DescribeKey" out &&
	grep -x "pages 2" out
'

test_expect_success 'RevokeGrant removes it' '
	tc revoke $KEY_ARN "$(cut -d" " -f2 g2)" >out &&
	grep -x ok out &&
	tc grants $KEY_ARN >out &&
	test "$(grep -c "^grant " out)" = 1 &&
	! grep "$(cut -d" " -f2 g2)" out
'

test_expect_success 'a misspelt grant operation never leaves the client' '
	before=$(api_count CreateGrant) &&
	test_expect_code 1 tc $T2 grant $KEY_ARN $ASG Decrypt,decrypt 2>err &&
	grep "unknown grant operation" err &&
	test "$(api_count CreateGrant)" = "$before"
'

test_expect_success 'PutParameter aws:ec2:image, GetParameter' '
	build_golden --regions us-east-1 --name param >ami.json &&
	ami=$(python3 -c "import json; print(json.load(open(\"ami.json\"))[\"us-east-1\"])") &&
	echo $ami >ami &&
	tc put-param /golden/ami $ami --image >out &&
	grep -x "version 1" out &&
	tc get-param /golden/ami >out &&
	grep -x "param /golden/ami $ami v1 aws:ec2:image" out
'

test_expect_success 'PutParameter: an existing name needs overwrite' '
	test_expect_code 1 tc put-param /golden/ami $(cat ami) --image 2>err &&
	grep "ParameterAlreadyExists" err &&
	tc put-param /golden/ami $(cat ami) --image --overwrite >out &&
	grep -x "version 2" out
'

test_expect_success 'PutParameter: tags with overwrite, non-AMI values refused' '
	before=$(api_count PutParameter) &&
	test_expect_code 1 tc put-param /golden/ami $(cat ami) --image \
		--overwrite --tag team=platform 2>err &&
	grep "overwrite" err &&
	test_expect_code 1 tc put-param /golden/other golden-base --image 2>err &&
	grep "AMI id" err &&
	test "$(api_count PutParameter)" = "$before" &&
	tc put-param /golden/tagged $(cat ami) --image --tag team=platform >out &&
	grep -x "version 1" out
'

test_expect_success 'DeleteParameter, then GetParameter is not found' '
	tc del-param /golden/ami >out &&
	grep -x ok out &&
	test_expect_code 1 tc get-param /golden/ami 2>err &&
	grep "ParameterNotFound" err
'

test_expect_success 'DescribeOrganization from a member account' '
	tc $T2 org >out &&
	grep -x "org o-amishare01 100000000000 arn:aws:organizations::100000000000:organization/o-amishare01" out
'

test_expect_success 'ListRoots and ListOrganizationalUnitsForParent' '
	tc $MGMT roots >out &&
	grep -x "root r-ams1 Root" out &&
	tc $MGMT ous r-ams1 >out &&
	grep -x "ou ou-ams1-platform arn:aws:organizations::100000000000:ou/o-amishare01/ou-ams1-platform" out &&
	grep -x "ou ou-ams1-workload arn:aws:organizations::100000000000:ou/o-amishare01/ou-ams1-workload" out
'

test_expect_success 'ListChildren goes on through empty pages with a token' '
	tc $MGMT children r-ams1 ou >out &&
	grep -x "child ou ou-ams1-platform" out &&
	grep -x "child ou ou-ams1-workload" out &&
	test "$(grep -c "^child " out)" = 2 &&
	grep -x "pages 3" out &&
	tc $MGMT children ou-ams1-workload account >out &&
	grep -x "child account 222222222222" out &&
	grep -x "child account 666666666666" out
'

test_expect_success 'ListAccountsForParent: only ACTIVE accounts count' '
	tc $MGMT accounts ou-ams1-workload >out &&
	grep -x "account 222222222222 active=1 ACTIVE" out &&
	grep -x "account 666666666666 active=0 SUSPENDED" out
'

test_expect_success 'listing the tree needs the management account' '
	test_expect_code 1 tc $T2 children r-ams1 ou 2>err &&
	grep "AccessDeniedException" err
'

test_done
