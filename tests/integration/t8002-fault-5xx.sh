#!/usr/bin/env bash
# 500 and 503 bursts from every service amishare calls (EC2, STS, KMS,
# SSM), absorbed by retries, and lasting failures of one source write and
# one target write. Exit code, report against the emulator's state, and
# a converging rerun in every scenario (tests/lib/faults.sh).
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/lib/faults.sh"

start_fakeaws --seed 8002
use_account 111111111111
T=222222222222,333333333333,444444444444
ARGS="--accounts $T --role-name AmishareTagger --kms-grants --ssm-parameter /golden/base/latest"

test_expect_success '5xx bursts on every service are retried: exit 0' '
	new_golden burst --encrypted &&
	set_faults "{\"seed\": 1, \"rules\": [
	  {\"action\": \"GetCallerIdentity\", \"fault\": \"error\", \"status\": 503, \"first\": 1},
	  {\"action\": \"DescribeImages\", \"fault\": \"error\", \"status\": 500, \"first\": 2},
	  {\"action\": \"DescribeImageAttribute\", \"fault\": \"error\", \"status\": 503, \"first\": 1},
	  {\"action\": \"ModifyImageAttribute\", \"fault\": \"error\", \"status\": 500, \"first\": 1},
	  {\"action\": \"AssumeRole\", \"fault\": \"error\", \"status\": 500, \"first\": 1},
	  {\"action\": \"CreateTags\", \"fault\": \"error\", \"status\": 503, \"first\": 3},
	  {\"action\": \"DescribeKey\", \"fault\": \"error\", \"status\": 500, \"first\": 1},
	  {\"action\": \"ListGrants\", \"fault\": \"error\", \"status\": 500, \"first\": 1},
	  {\"action\": \"CreateGrant\", \"fault\": \"error\", \"status\": 500, \"first\": 2},
	  {\"action\": \"GetParameter\", \"fault\": \"error\", \"status\": 500, \"first\": 1},
	  {\"action\": \"PutParameter\", \"fault\": \"error\", \"status\": 503, \"first\": 2}]}" &&
	amishare share --manifest burst.json $ARGS --report r.json >out 2>err &&
	test "$(applied_faults)" = 16 &&
	check_report r.json 0 --status ok &&
	test "$(json_get r.json "d[\"summary\"][\"retries\"]")" -ge 16 &&
	converges --manifest burst.json $ARGS
'

test_expect_success 'a lasting 500 on a target write fails that item, named' '
	new_golden lasting --encrypted &&
	set_faults "{\"seed\": 2, \"rules\": [
	  {\"action\": \"PutParameter\", \"account\": \"333333333333\",
	   \"region\": \"us-east-1\", \"fault\": \"error\", \"status\": 500},
	  {\"action\": \"CreateTags\", \"fault\": \"error\", \"status\": 503, \"every\": 3}]}" &&
	test_expect_code 1 amishare share --manifest lasting.json $ARGS \
		--report r.json >out 2>err &&
	check_report r.json 1 --status partial &&
	test "$(result_of r.json 333333333333 us-east-1)" = \
		"failed put-parameter InternalServerError aws" &&
	test "$(json_get r.json "d[\"summary\"][\"failed\"]")" = 1 &&
	test "$(json_get r.json "[r[\"error\"][\"http_status\"] for r in d[\"results\"] if r[\"error\"]]")" = "[500]" &&
	converges --manifest lasting.json $ARGS
'

test_expect_success 'a lasting 503 on the share of one region fails its targets' '
	new_golden region &&
	set_faults "{\"seed\": 3, \"rules\": [
	  {\"action\": \"ModifyImageAttribute\", \"region\": \"eu-west-1\",
	   \"fault\": \"error\", \"status\": 503}]}" &&
	test_expect_code 1 amishare share --manifest region.json \
		--accounts $T --role-name AmishareTagger --report r.json >out 2>err &&
	check_report r.json 1 --status partial &&
	test "$(json_get r.json "[(i[\"region\"], i[\"share\"], i[\"error\"] and i[\"error\"][\"code\"]) for i in d[\"images\"]]")" = \
		"[('\''us-east-1'\'', '\''ok'\'', None), ('\''eu-west-1'\'', '\''failed'\'', '\''Unavailable'\'')]" &&
	for a in 222222222222 333333333333 444444444444; do
		test "$(result_of r.json $a us-east-1)" = "ok None None None" &&
		test "$(result_of r.json $a eu-west-1)" = \
			"failed share Unavailable aws" || exit 1
	done &&
	awsview perms 111111111111:eu-west-1:$W >p && grep "(none)" p &&
	converges --manifest region.json --accounts $T --role-name AmishareTagger
'

test_done
