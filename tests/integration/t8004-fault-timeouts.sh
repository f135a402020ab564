#!/usr/bin/env bash
# Read timeouts and slow answers: stalls longer than the attempt timeout
# (--timeout-ms / AMISHARE_TIMEOUT_MS) are abandoned and retried; a call
# that always stalls fails by name within a bounded time; slow answers
# under the timeout are waited for, not retried. Exit code, report against
# the emulator's state, and a converging rerun in every scenario.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/lib/faults.sh"

start_fakeaws --seed 8004
use_account 111111111111
T=222222222222,333333333333,444444444444
ARGS="--accounts $T --role-name AmishareTagger --ssm-parameter /golden/base/latest"

test_expect_success '--timeout-ms is checked' '
	test_expect_code 2 amishare share --ami us-east-1:ami-0123456789abcdef0 \
		--accounts 222222222222 --role-name R --timeout-ms 50 2>err &&
	grep -- "--timeout-ms: 50 is outside 100-600000" err &&
	AMISHARE_TIMEOUT_MS=x test_expect_code 2 amishare share \
		--ami us-east-1:ami-0123456789abcdef0 --accounts 222222222222 \
		--role-name R 2>err &&
	grep AMISHARE_TIMEOUT_MS err &&
	amishare help share >help && grep -- "--timeout-ms MS" help
'

test_expect_success 'stalls past the timeout are abandoned and retried' '
	new_golden stall &&
	set_faults "{\"seed\": 1, \"rules\": [
	  {\"action\": \"GetCallerIdentity\", \"fault\": \"stall\", \"ms\": 4000, \"first\": 1},
	  {\"action\": \"DescribeImages\", \"fault\": \"stall\", \"ms\": 4000, \"first\": 2},
	  {\"action\": \"ModifyImageAttribute\", \"fault\": \"stall\", \"ms\": 4000, \"first\": 1},
	  {\"action\": \"AssumeRole\", \"fault\": \"stall\", \"ms\": 4000, \"first\": 1},
	  {\"action\": \"CreateTags\", \"fault\": \"stall\", \"ms\": 4000, \"first\": 2},
	  {\"action\": \"PutParameter\", \"fault\": \"stall\", \"ms\": 4000, \"first\": 1}]}" &&
	start=$(date +%s) &&
	amishare share --manifest stall.json $ARGS --timeout-ms 700 \
		--report r.json >out 2>err &&
	secs=$(( $(date +%s) - start )) && echo "took ${secs}s" &&
	test $secs -lt 20 &&
	test "$(applied_faults)" = 8 &&
	check_report r.json 0 --status ok &&
	test "$(json_get r.json "d[\"summary\"][\"retries\"]")" -ge 8 &&
	converges --manifest stall.json $ARGS
'

test_expect_success 'a call that always stalls fails as a timeout, in bounded time' '
	new_golden hang &&
	set_faults "{\"seed\": 2, \"rules\": [
	  {\"action\": \"CreateTags\", \"account\": \"333333333333\",
	   \"region\": \"us-east-1\", \"fault\": \"stall\", \"ms\": 30000}]}" &&
	start=$(date +%s) &&
	AMISHARE_TIMEOUT_MS=500 AWS_MAX_ATTEMPTS=2 test_expect_code 1 \
		amishare share --manifest hang.json $ARGS --report r.json >out 2>err &&
	secs=$(( $(date +%s) - start )) && echo "took ${secs}s" &&
	test $secs -lt 15 &&
	check_report r.json 1 --status partial &&
	test "$(result_of r.json 333333333333 us-east-1)" = \
		"failed create-tags None network" &&
	json_get r.json "[r[\"error\"][\"message\"] for r in d[\"results\"] if r[\"error\"]][0]" >msg &&
	grep -i "timeout\|timed out" msg &&
	test "$(json_get r.json "[r[\"attempts\"] for r in d[\"results\"] if r[\"error\"]][0] >= 2")" = True &&
	converges --manifest hang.json $ARGS
'

test_expect_success 'slow answers under the timeout are waited for, not retried' '
	new_golden slow &&
	set_faults "{\"seed\": 3, \"latency_ms\": 150, \"jitter_ms\": 100, \"rules\": [
	  {\"action\": \"CreateTags\", \"fault\": \"stall\", \"ms\": 1200, \"first\": 3},
	  {\"action\": \"AssumeRole\", \"fault\": \"latency\", \"ms\": 800}]}" &&
	amishare share --manifest slow.json $ARGS --timeout-ms 3000 \
		--report r.json >out 2>err &&
	check_report r.json 0 --status ok &&
	test "$(json_get r.json "d[\"summary\"][\"retries\"]")" = 0 &&
	converges --manifest slow.json $ARGS
'

test_done
