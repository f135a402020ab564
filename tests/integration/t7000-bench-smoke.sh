#!/usr/bin/env bash
# The benchmark harness (tests/bench) in its quick mode: it runs contenders
# side by side on fresh emulators, reports their figures, and refuses a
# figure whose resulting AWS state is wrong (a contender that skips one
# account, or one that writes eleven of the twelve tags).
. "$(dirname "$0")/test-lib.sh"

BENCH=$TEST_TOP/tests/bench/bench
export AMS_BIN

test_expect_success 'smoke run: amishare and boto3 accepted, figures reported' '
	"$BENCH" --smoke --contenders amishare,boto3 --json smoke.json >out &&
	grep "^amishare  *10 " out | grep -w ok &&
	grep "^boto3  *10 " out | grep -w ok &&
	test "$(json_get smoke.json "len(d[\"results\"])")" = 2 &&
	test "$(json_get smoke.json "all(r[\"accepted\"] for r in d[\"results\"])")" = True &&
	test "$(json_get smoke.json "d[\"latency_ms\"]")" = 5.0
'

test_expect_success 'amishare: every call counted, one AssumeRole per account' '
	a="[r for r in d[\"results\"] if r[\"contender\"] == \"amishare\"][0]" &&
	test "$(json_get smoke.json "$a[\"by_action\"][\"AssumeRole\"]")" = 10 &&
	test "$(json_get smoke.json "$a[\"by_action\"][\"CreateTags\"]")" = 40 &&
	test "$(json_get smoke.json "$a[\"by_action\"][\"ModifyImageAttribute\"]")" = 4 &&
	test "$(json_get smoke.json "$a[\"api_calls\"]")" = 103 &&
	test "$(json_get smoke.json "$a[\"client_report\"][\"failed\"]")" = 0
'

test_expect_success 'figures are measured, not made up' '
	a="[r for r in d[\"results\"] if r[\"contender\"] == \"amishare\"][0]" &&
	test "$(json_get smoke.json "$a[\"wall_s\"] > 0 and $a[\"cpu_s\"] > 0")" = True &&
	test "$(json_get smoke.json "$a[\"peak_rss_kib\"] > 1000")" = True &&
	test "$(json_get smoke.json "0 < $a[\"connections\"] <= 64")" = True &&
	test "$(json_get smoke.json "$a[\"ideal_s\"] == max(6 * 5, 103 * 5 / 64) / 1000")" = True &&
	test "$(json_get smoke.json "$a[\"emulator_cpu_s\"] > 0")" = True
'

test_expect_success 'a contender that skips one account is refused (exit 1)' '
	test_expect_code 1 "$BENCH" --smoke --contenders "" \
		--contender "skip-one=head -n -1 \"\$BENCH_ACCOUNTS_FILE\" >fewer.txt && BENCH_ACCOUNTS_FILE=fewer.txt python3 $TEST_TOP/tests/bench/boto3_share.py" \
		--json skip.json >out &&
	grep "REJECTED" out &&
	test "$(json_get skip.json "d[\"results\"][0][\"accepted\"]")" = False &&
	json_get skip.json "d[\"results\"][0][\"problems\"]" >problems &&
	grep "200000000009 us-east-1: no launch permission" problems &&
	grep "200000000009 us-east-1: image not visible" problems &&
	test "$(json_get skip.json "d[\"results\"][0][\"problems_total\"]")" = 8
'

# amishare itself, told to leave one tag out.
cat >"$TEST_DIR/eleven.sh" <<'EOS'
set --
for p in $(echo "$BENCH_AMIS" | tr , " "); do set -- "$@" --ami "$p"; done
exec "$AMS_BIN" share "$@" --accounts-file "$BENCH_ACCOUNTS_FILE" \
	--role-name "$BENCH_ROLE_NAME" --no-provenance-tags --exclude-tags backup
EOS

test_expect_success 'a contender that writes 11 of the 12 tags is refused' '
	test_expect_code 1 "$BENCH" --smoke --contenders "" \
		--contender "eleven=bash $TEST_DIR/eleven.sh" \
		--json eleven.json >out &&
	test "$(json_get eleven.json "d[\"results\"][0][\"accepted\"]")" = False &&
	json_get eleven.json "d[\"results\"][0][\"problems\"]" >problems &&
	grep "1 of 12 tags missing or wrong (first: backup)" problems &&
	test "$(json_get eleven.json "d[\"results\"][0][\"problems_total\"]")" = 40
'

test_done
