#!/usr/bin/env bash
# Partial failure: a denied role, a region where tagging is unauthorized,
# a slow share propagation and the 50-tag limit. One failing account or
# region never stops the others; every failure is named; exit 1; a rerun
# converges once the cause is gone.
. "$(dirname "$0")/test-lib.sh"

start_fakeaws
use_account 111111111111
cd "$TEST_DIR" || exit 1
build_golden --regions us-east-1,eu-west-1 --name golden --tag Name=golden \
	--manifest manifest.json --run-uuid r1 --build-name base >/dev/null
cd - >/dev/null || exit 1
E1=$(ami_of "$TEST_DIR/manifest.json" us-east-1)
W1=$(ami_of "$TEST_DIR/manifest.json" eu-west-1)

test_expect_success 'a target without the role fails alone (exit 1)' '
	test_expect_code 1 amishare share --accounts 100000000000,222222222222 \
		--role-name AmishareTagger --no-provenance-tags --report r.json >out &&
	test "$(json_get r.json "d[\"status\"]")" = partial &&
	json_get r.json "sorted((r[\"account\"], r[\"region\"], r[\"status\"], (r[\"error\"] or {}).get(\"step\"), (r[\"error\"] or {}).get(\"code\")) for r in d[\"results\"])" >res &&
	cat res &&
	grep -F "('\''100000000000'\'', '\''eu-west-1'\'', '\''failed'\'', '\''assume-role'\'', '\''AccessDenied'\'')" res &&
	grep -F "('\''100000000000'\'', '\''us-east-1'\'', '\''failed'\'', '\''assume-role'\'', '\''AccessDenied'\'')" res &&
	grep -F "('\''222222222222'\'', '\''eu-west-1'\'', '\''ok'\'', None, None)" res &&
	grep -F "('\''222222222222'\'', '\''us-east-1'\'', '\''ok'\'', None, None)" res &&
	json_get r.json "[a[\"error\"][\"message\"] for a in d[\"accounts\"] if a[\"error\"]]" >msg &&
	grep "AmishareTagger" msg &&
	awsview tags 222222222222:us-east-1:$E1 >t && grep "Name=golden" t
'

test_expect_success 'one AssumeRole per target account, whatever the regions' '
	test "$(api_count AssumeRole 111111111111)" -le 2
'

test_expect_success 'CreateTags unauthorized in one region fails only there' '
	cat >deny.json <<-\EOF &&
	{"deny": [{"account": "333333333333", "action": "CreateTags",
	           "region": "eu-west-1"}]}
	EOF
	fakeaws_ctl faults deny.json >/dev/null &&
	test_expect_code 1 amishare share --accounts 333333333333 \
		--role-name AmishareTagger --no-provenance-tags --report r.json >out &&
	grep "eu-west-1 .* 333333333333 failed   create-tags: UnauthorizedOperation" out &&
	grep "us-east-1 .* 333333333333 ok " out &&
	awsview tags 333333333333:us-east-1:$E1 333333333333:eu-west-1:$W1 >t &&
	grep -x "333333333333 us-east-1 $E1 Name=golden" t &&
	grep -x "333333333333 eu-west-1 $W1 (no tags)" t
'

test_expect_success 'a rerun converges once the permission is fixed' '
	fakeaws_ctl faults-clear >/dev/null &&
	before=$(api_count CreateTags 333333333333) &&
	amishare share --accounts 333333333333 --role-name AmishareTagger --no-provenance-tags >out &&
	test "$(api_count CreateTags 333333333333)" = $((before + 1)) &&
	awsview tags 333333333333:eu-west-1:$W1 >t && grep "Name=golden" t
'

test_expect_success 'a slow share is waited for within --visibility-wait' '
	echo "{\"propagation_delay_seconds\": 2}" >slow.json &&
	fakeaws_ctl faults slow.json >/dev/null &&
	amishare share --accounts 444444444444 --role-name AmishareTagger --no-provenance-tags \
		--ami us-east-1:$E1 --visibility-wait 20 --report r.json >out &&
	test "$(json_get r.json "d[\"results\"][0][\"attempts\"] > 2")" = True &&
	awsview tags 444444444444:us-east-1:$E1 >t && grep "Name=golden" t
'

test_expect_success 'a share slower than --visibility-wait fails as not visible' '
	echo "{\"propagation_delay_seconds\": 30}" >slow.json &&
	fakeaws_ctl faults slow.json >/dev/null &&
	test_expect_code 1 amishare share --accounts 555555555555 \
		--role-name AmishareTagger --no-provenance-tags --ami us-east-1:$E1 \
		--visibility-wait 2 >out &&
	grep "555555555555 failed   describe-images: InvalidAMIID.NotFound" out &&
	fakeaws_ctl faults-clear >/dev/null
'

test_expect_success 'more than 50 tags to write is refused before any write' '
	args="" && for i in $(seq 1 50); do args="$args --tag k$i=v"; done &&
	before=$(api_count ModifyImageAttribute) &&
	test_expect_code 2 amishare share --accounts 666666666666 \
		--role-name AmishareTagger --no-provenance-tags --ami us-east-1:$E1 $args 2>err &&
	grep "51 tags to write" err && grep "nothing was changed" err &&
	test "$(api_count ModifyImageAttribute)" = "$before"
'

test_expect_success 'the target'\''s own tags count toward its 50' '
	amishare share --accounts 222222222222 --role-name AmishareTagger --no-provenance-tags \
		--ami us-east-1:$E1 >/dev/null &&
	python3 -c "
import botocore.session, os
c = botocore.session.get_session().create_client(\"ec2\", region_name=\"us-east-1\",
    endpoint_url=os.environ[\"FAKEAWS_URL\"],
    aws_access_key_id=\"AKIAFAKE222222222222\",
    aws_secret_access_key=\"fakeaws-secret-222222222222-EXAMPLEKEY0\")
c.create_tags(Resources=[\"$E1\"], Tags=[{\"Key\": \"own%d\" % i, \"Value\": \"x\"} for i in range(48)])
" &&
	test_expect_code 1 amishare share --accounts 222222222222 \
		--role-name AmishareTagger --no-provenance-tags --ami us-east-1:$E1 \
		--tag a=1 --tag b=2 >out &&
	grep "222222222222 failed   tag-limit: TagLimitExceeded: the image would carry 51 tags" out
'

test_done
