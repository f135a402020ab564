#!/usr/bin/env bash
# Denied actions: AssumeRole refused in some target accounts, CreateTags
# unauthorized in one region, SSM and KMS writes denied. Each failure is
# named with account, region, step and AWS code; the others finish. Exit
# code, report against the emulator's state, and a converging rerun once
# the permission is fixed.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/lib/faults.sh"

start_fakeaws --seed 8007
use_account 111111111111

test_expect_success 'AssumeRole denied in some accounts fails only those' '
	new_golden roles &&
	# 100000000000 has no such role; 666666666666 is suspended.
	denied=$(faults_py outcome AssumeRole AccessDenied) &&
	test_expect_code 1 amishare share --manifest roles.json \
		--accounts 100000000000,222222222222,666666666666,333333333333 \
		--role-name AmishareTagger --report r.json >out 2>err &&
	# Asked once per account, not once per Region.
	test "$(( $(faults_py outcome AssumeRole AccessDenied) - denied ))" = 2 &&
	check_report r.json 1 --status partial &&
	for region in us-east-1 eu-west-1; do
		test "$(result_of r.json 100000000000 $region)" = \
			"failed assume-role AccessDenied aws" &&
		test "$(result_of r.json 666666666666 $region)" = \
			"failed assume-role AccessDenied aws" &&
		test "$(result_of r.json 222222222222 $region)" = "ok None None None" &&
		test "$(result_of r.json 333333333333 $region)" = "ok None None None" ||
		exit 1
	done &&
	test "$(json_get r.json "sorted(a[\"id\"] for a in d[\"accounts\"] if a[\"assume_role\"] == \"failed\")")" = \
		"['\''100000000000'\'', '\''666666666666'\'']" &&
	converges --manifest roles.json --accounts 222222222222,333333333333 \
		--role-name AmishareTagger
'

test_expect_success 'CreateTags unauthorized in one region fails only there' '
	new_golden region &&
	set_faults "{\"deny\": [{\"account\": \"333333333333\",
	  \"action\": \"CreateTags\", \"region\": \"eu-west-1\"}]}" &&
	test_expect_code 1 amishare share --manifest region.json \
		--accounts 222222222222,333333333333 --role-name AmishareTagger \
		--report r.json >out 2>err &&
	check_report r.json 1 --status partial &&
	test "$(result_of r.json 333333333333 eu-west-1)" = \
		"failed create-tags UnauthorizedOperation aws" &&
	test "$(json_get r.json "[r[\"error\"][\"http_status\"] for r in d[\"results\"] if r[\"error\"]]")" = "[403]" &&
	awsview tags 333333333333:eu-west-1:$W >t &&
	grep -x "333333333333 eu-west-1 $W (no tags)" t &&
	converges --manifest region.json --accounts 222222222222,333333333333 \
		--role-name AmishareTagger
'

test_expect_success 'denied SSM and KMS writes are named per account and region' '
	new_golden extras --encrypted &&
	set_faults "{\"deny\": [
	  {\"account\": \"222222222222\", \"action\": \"PutParameter\", \"region\": \"us-east-1\"},
	  {\"account\": \"111111111111\", \"action\": \"CreateGrant\", \"region\": \"eu-west-1\"}]}" &&
	test_expect_code 1 amishare share --manifest extras.json \
		--accounts 222222222222,333333333333 --role-name AmishareTagger \
		--kms-grants --ssm-parameter /golden/base/latest \
		--report r.json >out 2>err &&
	check_report r.json 1 --status partial &&
	test "$(result_of r.json 222222222222 us-east-1)" = \
		"failed put-parameter AccessDeniedException aws" &&
	test "$(result_of r.json 333333333333 us-east-1)" = "ok None None None" &&
	# The keys were read; the grants of each target fail on their own.
	test "$(json_get r.json "[i[\"kms\"] for i in d[\"images\"]]")" = \
		"['\''ok'\'', '\''ok'\'']" &&
	for a in 222222222222 333333333333; do
		test "$(result_of r.json $a eu-west-1)" = \
			"failed create-grant AccessDeniedException aws" || exit 1
	done &&
	awsview grants 111111111111:eu-west-1:$(json_get r.json "d[\"images\"][1][\"kms_keys\"][0]") >g &&
	grep "(none)" g &&
	converges --manifest extras.json --accounts 222222222222,333333333333 \
		--role-name AmishareTagger --kms-grants \
		--ssm-parameter /golden/base/latest
'

test_done
