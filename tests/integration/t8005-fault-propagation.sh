#!/usr/bin/env bash
# Eventual consistency: a share that takes 10 s to reach the targets, and
# an AMI deregistered between plan and share. Exit code, report against
# the emulator's state, and a converging rerun in every scenario.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/lib/faults.sh"

start_fakeaws --seed 8005
use_account 111111111111
T=222222222222,333333333333,444444444444

test_expect_success 'a 10 s propagation delay is waited for; nothing is tagged early' '
	new_golden slow &&
	set_faults "{\"seed\": 1, \"propagation_delay_seconds\": 10}" &&
	start=$(date +%s) &&
	amishare share --manifest slow.json --accounts $T \
		--role-name AmishareTagger --visibility-wait 40 \
		--report r.json >out 2>err &&
	secs=$(( $(date +%s) - start )) && echo "took ${secs}s" &&
	test $secs -ge 9 &&
	check_report r.json 0 --status ok &&
	test "$(json_get r.json "min(r[\"attempts\"] for r in d[\"results\"]) >= 3")" = True &&
	test "$(calls CreateTags 222222222222)" = 2 &&
	converges --manifest slow.json --accounts $T --role-name AmishareTagger
'

test_expect_success 'an AMI deregistered between plan and share fails its region only' '
	new_golden gone &&
	amishare plan --manifest gone.json --accounts $T \
		--role-name AmishareTagger --report plan.json >out 2>err &&
	test "$(json_get plan.json "d[\"status\"]")" = ok &&
	python3 -c "
import awsview, os
awsview.client(os.environ[\"FAKEAWS_URL\"], \"111111111111\", \"eu-west-1\").deregister_image(ImageId=\"$W\")
" &&
	test_expect_code 1 amishare share --manifest gone.json --accounts $T \
		--role-name AmishareTagger --report r.json >out 2>err &&
	check_report r.json 1 --status partial &&
	test "$(json_get r.json "[(i[\"region\"], i[\"found\"], i[\"error\"] and i[\"error\"][\"code\"]) for i in d[\"images\"]]")" = \
		"[('\''us-east-1'\'', True, None), ('\''eu-west-1'\'', False, '\''InvalidAMIID.NotFound'\'')]" &&
	for a in 222222222222 333333333333 444444444444; do
		test "$(result_of r.json $a us-east-1)" = "ok None None None" &&
		test "$(result_of r.json $a eu-west-1)" = \
			"failed source InvalidAMIID.NotFound aws" || exit 1
	done &&
	test "$(calls ModifyImageAttribute)" -ge 1 &&
	grep "InvalidAMIID.NotFound" out &&
	converges --ami us-east-1:$E --accounts $T --role-name AmishareTagger
'

test_done
