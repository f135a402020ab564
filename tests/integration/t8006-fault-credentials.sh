#!/usr/bin/env bash
# Credentials that expire mid-run: every credential the emulator issues
# (the build role and the target roles) lives 3 s while the run takes
# longer; amishare refreshes them and finishes. Exit code, report against
# the emulator's state, and a converging rerun.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/lib/faults.sh"

start_fakeaws --seed 8006
use_account 111111111111
T=222222222222,333333333333,444444444444
cat >"$AWS_CONFIG_FILE" <<EOC
[profile builder]
role_arn = arn:aws:iam::111111111111:role/AmishareBuilder
source_profile = keys
[profile keys]
EOC
cat >"$AWS_SHARED_CREDENTIALS_FILE" <<EOC
[keys]
aws_access_key_id = AKIAFAKE111111111111
aws_secret_access_key = fakeaws-secret-111111111111-EXAMPLEKEY0
EOC

test_expect_success 'credentials expiring every 3 s are refreshed mid-run' '
	new_golden short &&
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
	fakeaws_ctl settings credential_lifetime_seconds=3 >/dev/null &&
	set_faults "{\"seed\": 1, \"propagation_delay_seconds\": 5,
	  \"latency_ms\": 100}" &&
	start=$(date +%s) &&
	amishare share --profile builder --manifest short.json --accounts $T \
		--role-name AmishareTagger --visibility-wait 30 \
		--report r.json >out 2>err &&
	secs=$(( $(date +%s) - start )) && echo "took ${secs}s" &&
	test $secs -ge 5 &&
	check_report r.json 0 --status ok &&
	roles=$(calls AssumeRole 111111111111) && echo "AssumeRole: $roles" &&
	test "$roles" -gt 4 &&
	fakeaws_ctl settings credential_lifetime_seconds=null >/dev/null &&
	converges --profile builder --manifest short.json --accounts $T \
		--role-name AmishareTagger
'

test_expect_success 'credentials rejected as expired are refreshed and the call retried' '
	new_golden rejected &&
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
	# The share takes 2 s to reach the targets, so the rejections come
	# well after the roles were assumed (a source is asked again at most
	# once a second: AMS_CREDS_MIN_REFETCH_MS).
	set_faults "{\"seed\": 2, \"propagation_delay_seconds\": 2, \"rules\": [
	  {\"action\": \"CreateTags\", \"account\": \"222222222222\",
	   \"region\": \"us-east-1\", \"fault\": \"error\", \"status\": 400,
	   \"code\": \"RequestExpired\", \"message\": \"Request has expired.\",
	   \"first\": 1},
	  {\"action\": \"CreateTags\", \"account\": \"333333333333\",
	   \"region\": \"eu-west-1\", \"fault\": \"error\", \"status\": 400,
	   \"code\": \"RequestExpired\", \"first\": 1},
	  {\"action\": \"DescribeImageAttribute\", \"fault\": \"error\",
	   \"status\": 400, \"code\": \"RequestExpired\", \"first\": 1}]}" &&
	before=$(calls AssumeRole 111111111111) &&
	amishare share --profile builder --manifest rejected.json --accounts $T \
		--role-name AmishareTagger --visibility-wait 30 \
		--report r.json >out 2>err &&
	test "$(applied_faults)" = 3 &&
	check_report r.json 0 --status ok &&
	# The build role, the three targets, then a refresh for each rejected.
	test "$(( $(calls AssumeRole 111111111111) - before ))" = 6 &&
	converges --profile builder --manifest rejected.json --accounts $T \
		--role-name AmishareTagger
'

test_expect_success 'credentials rejected again after a refresh fail by name' '
	new_golden twice &&
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
	set_faults "{\"seed\": 4, \"propagation_delay_seconds\": 2, \"rules\": [
	  {\"action\": \"CreateTags\", \"account\": \"444444444444\",
	   \"region\": \"us-east-1\", \"fault\": \"error\", \"status\": 400,
	   \"code\": \"RequestExpired\", \"first\": 2}]}" &&
	before=$(calls CreateTags 444444444444) &&
	test_expect_code 1 amishare share --profile builder --manifest twice.json \
		--accounts $T --role-name AmishareTagger --visibility-wait 30 \
		--report r.json >out 2>err &&
	check_report r.json 1 --status partial &&
	test "$(result_of r.json 444444444444 us-east-1)" = \
		"failed create-tags RequestExpired aws" &&
	# us-east-1: the call, its retry after the refresh; eu-west-1: one.
	test "$(( $(calls CreateTags 444444444444) - before ))" = 3 &&
	converges --profile builder --manifest twice.json --accounts $T \
		--role-name AmishareTagger
'

test_expect_success 'static keys rejected as expired fail by name, not in a loop' '
	new_golden static &&
	set_faults "{\"seed\": 3, \"rules\": [
	  {\"action\": \"ModifyImageAttribute\", \"region\": \"us-east-1\",
	   \"fault\": \"error\", \"status\": 400, \"code\": \"RequestExpired\"}]}" &&
	before=$(calls ModifyImageAttribute) &&
	test_expect_code 1 amishare share --manifest static.json --accounts $T \
		--role-name AmishareTagger --report r.json >out 2>err &&
	check_report r.json 1 --status partial &&
	test "$(json_get r.json "d[\"images\"][0][\"error\"][\"code\"]")" = RequestExpired &&
	test "$(result_of r.json 222222222222 us-east-1)" = \
		"failed share RequestExpired aws" &&
	# Static keys cannot be renewed: one try per region, no refresh loop.
	test "$(( $(calls ModifyImageAttribute) - before ))" = 2 &&
	converges --manifest static.json --accounts $T --role-name AmishareTagger
'

test_done
