#!/usr/bin/env bash
# Transport faults: connection resets, truncated bodies, connections
# closed after an answer, and malformed XML and JSON documents with a 200
# status. Resets and truncation are retried; a malformed document is a
# parse error of that call, named in the report. Exit code, report against
# the emulator's state, and a converging rerun in every scenario.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/lib/faults.sh"

start_fakeaws --seed 8003
use_account 111111111111
T=222222222222,333333333333,444444444444
ARGS="--accounts $T --role-name AmishareTagger --kms-grants --ssm-parameter /golden/base/latest"

test_expect_success 'resets, truncated bodies and closed connections are retried' '
	new_golden wire --encrypted &&
	set_faults "{\"seed\": 1, \"rules\": [
	  {\"action\": \"GetCallerIdentity\", \"fault\": \"reset\", \"first\": 1},
	  {\"action\": \"DescribeImages\", \"fault\": \"reset\", \"first\": 2},
	  {\"action\": \"DescribeImageAttribute\", \"fault\": \"truncate\", \"first\": 1},
	  {\"action\": \"ModifyImageAttribute\", \"fault\": \"truncate\", \"first\": 2},
	  {\"action\": \"AssumeRole\", \"fault\": \"truncate\", \"first\": 1},
	  {\"action\": \"AssumeRole\", \"fault\": \"reset\", \"first\": 1},
	  {\"action\": \"CreateTags\", \"fault\": \"reset\", \"first\": 2},
	  {\"action\": \"CreateTags\", \"fault\": \"close\", \"first\": 2},
	  {\"action\": \"DescribeKey\", \"fault\": \"reset\", \"first\": 1},
	  {\"action\": \"CreateGrant\", \"fault\": \"truncate\", \"first\": 1},
	  {\"action\": \"GetParameter\", \"fault\": \"reset\", \"first\": 1},
	  {\"action\": \"PutParameter\", \"fault\": \"truncate\", \"first\": 2}]}" &&
	amishare share --manifest wire.json $ARGS --report r.json >out 2>err &&
	test "$(applied_faults)" = 17 &&
	check_report r.json 0 --status ok &&
	# Seven truncated answers are retried by amishare; libcurl itself
	# may retry a reused connection that was reset before any answer.
	test "$(json_get r.json "d[\"summary\"][\"retries\"]")" -ge 7 &&
	converges --manifest wire.json $ARGS
'

test_expect_success 'a connection that always resets fails its item as network' '
	new_golden reset &&
	set_faults "{\"seed\": 2, \"rules\": [
	  {\"action\": \"CreateTags\", \"account\": \"444444444444\",
	   \"region\": \"eu-west-1\", \"fault\": \"reset\"}]}" &&
	test_expect_code 1 amishare share --manifest reset.json --accounts $T \
		--role-name AmishareTagger --report r.json >out 2>err &&
	check_report r.json 1 --status partial &&
	test "$(result_of r.json 444444444444 eu-west-1)" = \
		"failed create-tags None network" &&
	json_get r.json "[r[\"error\"][\"message\"] for r in d[\"results\"] if r[\"error\"]][0]" >msg &&
	grep -i "ec2 CreateTags in eu-west-1" msg &&
	test "$(json_get r.json "d[\"summary\"][\"failed\"]")" = 1 &&
	converges --manifest reset.json --accounts $T --role-name AmishareTagger
'

test_expect_success 'malformed XML from EC2 is a named parse error, never ok' '
	new_golden badxml &&
	set_faults "{\"seed\": 3, \"rules\": [
	  {\"action\": \"DescribeImages\", \"account\": \"333333333333\",
	   \"region\": \"us-east-1\", \"fault\": \"malformed\"},
	  {\"action\": \"CreateTags\", \"account\": \"222222222222\",
	   \"region\": \"eu-west-1\", \"fault\": \"malformed\",
	   \"body\": \"<CreateTagsResponse><return>tru\"},
	  {\"action\": \"DescribeImageAttribute\", \"region\": \"eu-west-1\",
	   \"fault\": \"malformed\", \"body\": \"{not xml\"}]}" &&
	test_expect_code 1 amishare share --manifest badxml.json --accounts $T \
		--role-name AmishareTagger --report r.json >out 2>err &&
	check_report r.json 1 --status partial &&
	test "$(result_of r.json 333333333333 us-east-1)" = \
		"failed describe-images None parse" &&
	test "$(result_of r.json 222222222222 eu-west-1)" = \
		"failed source None parse" &&
	test "$(json_get r.json "d[\"images\"][1][\"error\"][\"kind\"]")" = parse &&
	test "$(result_of r.json 222222222222 us-east-1)" = "ok None None None" &&
	converges --manifest badxml.json --accounts $T --role-name AmishareTagger
'

test_expect_success 'malformed JSON from KMS and SSM is a named parse error' '
	new_golden badjson --encrypted &&
	set_faults "{\"seed\": 4, \"rules\": [
	  {\"action\": \"PutParameter\", \"account\": \"222222222222\",
	   \"region\": \"us-east-1\", \"fault\": \"malformed\",
	   \"body\": \"{\\\"Version\\\": \"},
	  {\"action\": \"ListGrants\", \"region\": \"eu-west-1\",
	   \"fault\": \"malformed\", \"body\": \"{\\\"Grants\\\": [{]}\"}]}" &&
	test_expect_code 1 amishare share --manifest badjson.json $ARGS \
		--report r.json >out 2>err &&
	check_report r.json 1 --status partial &&
	test "$(result_of r.json 222222222222 us-east-1)" = \
		"failed put-parameter None parse" &&
	test "$(json_get r.json "d[\"images\"][1][\"kms\"]")" = failed &&
	test "$(json_get r.json "d[\"images\"][1][\"error\"][\"kind\"]")" = parse &&
	converges --manifest badjson.json $ARGS
'

test_done
