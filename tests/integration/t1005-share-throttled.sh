#!/usr/bin/env bash
# Throttling: the emulator's AWS-like token buckets answer Throttling when
# AssumeRole goes faster than 1/s after a burst of 2. amishare slows its
# AssumeRole calls down after the first throttle, retries the throttled
# ones, and finishes with every target tagged and nothing failed.
. "$(dirname "$0")/test-lib.sh"

cat >"$TEST_DIR/faults.json" <<'EOF2'
{"throttling": {"enabled": true, "buckets": {"AssumeRole": [2, 1]}}}
EOF2
start_fakeaws --faults "$TEST_DIR/faults.json"
use_account 111111111111
TARGETS=222222222222,333333333333,444444444444,555555555555,777777777777
(cd "$TEST_DIR" && build_golden --regions us-east-1,eu-west-1 \
	--name golden-base --tag Name=golden --tag team=platform \
	--manifest manifest.json --run-uuid run-1 --build-name base >/dev/null)
E1=$(ami_of "$TEST_DIR/manifest.json" us-east-1)
W1=$(ami_of "$TEST_DIR/manifest.json" eu-west-1)

test_expect_success 'share completes under AssumeRole throttling' '
	amishare share --accounts $TARGETS --role-name AmishareTagger \
		--no-provenance-tags -v --report report.json >out 2>err &&
	test "$(json_get report.json "d[\"status\"]")" = ok &&
	test "$(json_get report.json "d[\"summary\"][\"failed\"]")" = 0 &&
	test "$(json_get report.json "d[\"summary\"][\"ok\"]")" = 10
'

test_expect_success 'it was throttled, slowed down, and retried every throttle' '
	throttled=$(json_get report.json "d[\"summary\"][\"throttled\"]") &&
	test "$throttled" -ge 1 &&
	grep "sts AssumeRole us-east-1: throttled; rate now" err &&
	test "$(api_count AssumeRole)" = $((5 + throttled))
'

test_expect_success 'every target sees its tags in both regions' '
	for a in $(echo $TARGETS | tr , " "); do
		echo $a:us-east-1:$E1 $a:eu-west-1:$W1
	done >specs &&
	awsview tags $(cat specs) >out &&
	test "$(grep -c "Name=golden,team=platform$" out)" = 10
'

test_done
