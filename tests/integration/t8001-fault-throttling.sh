#!/usr/bin/env bash
# Throttling storms: EC2 RequestLimitExceeded and STS Throttling bursts
# that retries absorb, and storms that outlast the attempts of one
# account or region. Every scenario checks the exit code, the report
# against the emulator's state as each account sees it, and that a
# rerun converges (tests/lib/faults.sh).
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/lib/faults.sh"

start_fakeaws --seed 8001
use_account 111111111111
T=222222222222,333333333333,444444444444,555555555555,777777777777

test_expect_success 'bursts the retries absorb: exit 0, every throttle counted' '
	new_golden burst &&
	set_faults "{\"seed\": 1, \"rules\": [
	  {\"action\": \"CreateTags\", \"fault\": \"throttle\", \"first\": 4},
	  {\"action\": \"DescribeImages\", \"fault\": \"throttle\", \"first\": 3},
	  {\"action\": \"DescribeImageAttribute\", \"fault\": \"throttle\", \"first\": 2},
	  {\"action\": \"ModifyImageAttribute\", \"fault\": \"throttle\", \"first\": 1},
	  {\"action\": \"AssumeRole\", \"fault\": \"throttle\", \"first\": 2}]}" &&
	amishare share --manifest burst.json --accounts $T \
		--role-name AmishareTagger --report r.json >out 2>err &&
	test "$(applied_faults)" = 12 &&
	check_report r.json 0 --status ok &&
	test "$(json_get r.json "d[\"summary\"][\"throttled\"]")" = 12 &&
	test "$(json_get r.json "d[\"summary\"][\"retries\"]")" -ge 12 &&
	converges --manifest burst.json --accounts $T --role-name AmishareTagger
'

test_expect_success 'a storm on one region of one account fails only there' '
	new_golden storm &&
	set_faults "{\"seed\": 2, \"rules\": [
	  {\"action\": \"CreateTags\", \"account\": \"333333333333\",
	   \"region\": \"eu-west-1\", \"fault\": \"throttle\"},
	  {\"action\": \"CreateTags\", \"fault\": \"throttle\", \"first\": 4,
	   \"account\": [\"222222222222\", \"444444444444\", \"555555555555\"]},
	  {\"action\": \"DescribeImages\", \"fault\": \"throttle\", \"first\": 4}]}" &&
	AWS_MAX_ATTEMPTS=6 test_expect_code 1 amishare share \
		--manifest storm.json --accounts $T --role-name AmishareTagger \
		--report r.json >out 2>err &&
	check_report r.json 1 --status partial &&
	test "$(result_of r.json 333333333333 eu-west-1)" = \
		"failed create-tags RequestLimitExceeded aws" &&
	test "$(json_get r.json "[r[\"error\"][\"http_status\"] for r in d[\"results\"] if r[\"error\"]]")" = "[503]" &&
	test "$(json_get r.json "d[\"summary\"][\"failed\"]")" = 1 &&
	grep "eu-west-1 .* 333333333333 failed   create-tags: RequestLimitExceeded" out &&
	converges --manifest storm.json --accounts $T --role-name AmishareTagger
'

test_expect_success 'an STS storm fails the account in every region, named' '
	new_golden sts &&
	set_faults "{\"seed\": 3, \"rules\": [
	  {\"action\": \"AssumeRole\", \"fault\": \"throttle\",
	   \"role\": \"*\", \"account\": \"111111111111\", \"every\": 1}]}" &&
	test_expect_code 1 amishare share --manifest sts.json \
		--accounts 222222222222 --role-name AmishareTagger \
		--report r.json >out 2>err &&
	check_report r.json 1 --status partial &&
	test "$(result_of r.json 222222222222 us-east-1)" = \
		"failed assume-role Throttling aws" &&
	test "$(result_of r.json 222222222222 eu-west-1)" = \
		"failed assume-role Throttling aws" &&
	test "$(json_get r.json "d[\"accounts\"][0][\"error\"][\"code\"]")" = Throttling &&
	converges --manifest sts.json --accounts 222222222222 \
		--role-name AmishareTagger
'

test_expect_success 'a storm that never ends fails every tag write by name; shares stand' '
	new_golden quota &&
	set_faults "{\"seed\": 4, \"rules\": [
	  {\"action\": \"CreateTags\", \"fault\": \"throttle\"}]}" &&
	start=$(date +%s) &&
	AWS_MAX_ATTEMPTS=3 test_expect_code 1 amishare share \
		--manifest quota.json --accounts $T --role-name AmishareTagger \
		--report r.json >out 2>err &&
	test $(( $(date +%s) - start )) -lt 60 &&
	check_report r.json 1 --status partial &&
	test "$(json_get r.json "sorted(set((r[\"status\"], r[\"error\"][\"code\"]) for r in d[\"results\"]))")" = \
		"[('\''failed'\'', '\''RequestLimitExceeded'\'')]" &&
	test "$(json_get r.json "[i[\"share\"] for i in d[\"images\"]]")" = "['\''ok'\'', '\''ok'\'']" &&
	converges --manifest quota.json --accounts $T --role-name AmishareTagger
'

test_done
