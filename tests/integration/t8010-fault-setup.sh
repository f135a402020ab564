#!/usr/bin/env bash
# Failures before the first write: the source identity cannot be checked
# (a throttling storm on GetCallerIdentity, a wrong secret key), or the
# request is invalid for what the source holds (over 50 tags). Nothing is
# written, the exit code says so, and the --report at the path is this
# run's, failed, naming the cause for every item: never a report an
# earlier run left there.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/lib/faults.sh"

start_fakeaws --seed 8010
use_account 111111111111
T=222222222222,333333333333
cd "$TEST_DIR" || exit 1
new_golden setup
amishare share --manifest setup.json --accounts $T --role-name AmishareTagger \
	--report stale.json >/dev/null 2>&1

test_expect_success 'an earlier run left an ok report' '
	test "$(json_get stale.json "d[\"status\"]")" = ok
'

test_expect_success 'GetCallerIdentity throttled past its attempts: exit 1, a failed report' '
	cp stale.json r.json &&
	set_faults "{\"seed\": 1, \"rules\": [{\"action\": \"GetCallerIdentity\",
	  \"fault\": \"throttle\"}]}" &&
	before=$(write_calls) &&
	test_expect_code 1 amishare share --manifest setup.json --accounts $T \
		--role-name AmishareTagger --report r.json >out 2>err &&
	test "$(write_calls)" = "$before" &&
	grep "GetCallerIdentity" err &&
	check_report r.json 1 --status failed &&
	test "$(json_get r.json "sorted(set((r[\"status\"], r[\"error\"][\"step\"], r[\"error\"][\"code\"]) for r in d[\"results\"]))")" = \
		"[('\''failed'\'', '\''set-up'\'', '\''Throttling'\'')]" &&
	test "$(json_get r.json "len(d[\"results\"])")" = 4 &&
	test "$(stat -c %a r.json)" = 600 &&
	converges --manifest setup.json --accounts $T --role-name AmishareTagger
'

test_expect_success 'a wrong secret key: exit 1, the report names SignatureDoesNotMatch' '
	cp stale.json r.json &&
	AWS_SECRET_ACCESS_KEY=wrong-secret-key-0000000000000000000000 \
	test_expect_code 1 amishare share --manifest setup.json --accounts $T \
		--role-name AmishareTagger --report r.json >out 2>err &&
	check_report r.json 1 --status failed &&
	test "$(json_get r.json "d[\"images\"][0][\"error\"][\"code\"]")" = SignatureDoesNotMatch &&
	test "$(json_get r.json "d[\"results\"][0][\"error\"][\"code\"]")" = SignatureDoesNotMatch
'

test_expect_success 'over 50 tags: exit 2, nothing written, the report says why' '
	cp stale.json r.json &&
	args="" && for i in $(seq 1 50); do args="$args --tag k$i=v"; done &&
	before=$(write_calls) &&
	test_expect_code 2 amishare share --manifest setup.json --accounts $T \
		--role-name AmishareTagger $args --report r.json >out 2>err &&
	grep "nothing was changed" err &&
	test "$(write_calls)" = "$before" &&
	check_report r.json 2 --status failed &&
	test "$(json_get r.json "d[\"results\"][0][\"error\"][\"step\"]")" = check &&
	json_get r.json "d[\"results\"][0][\"error\"][\"message\"]" >msg &&
	grep "tags to write" msg
'

test_done
