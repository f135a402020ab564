#!/usr/bin/env bash
# amishare end to end under valgrind memcheck: share (KMS grants, SSM
# parameter, snapshots, debug log), plan, verify, revoke, a run with
# failures, an interrupted run and provenance, against the emulator; then
# the fuzz corpus through the replay programs. Any memcheck error, or a
# definitely or indirectly lost block, fails the test. Suppressions
# (amishare.supp) cover only one-time allocations inside libraries.
#
# usage: tests/valgrind/memcheck.sh   (AMS_BIN, AMS_BUILD as for tests/run)
. "$(dirname "$0")/../integration/test-lib.sh"
. "$TEST_TOP/tests/lib/faults.sh"

VG_LOGS=$TEST_DIR/vg
mkdir -p "$VG_LOGS"
VALGRIND="valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
	--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
	--track-origins=yes --num-callers=30
	--suppressions=$TEST_TOP/tests/valgrind/amishare.supp"

# vg COMMAND ARGS...: amishare COMMAND ARGS under memcheck; its log in
# $VG_LOGS/COMMAND.<pid>.
vg() {
	local name=$1 rc
	# shellcheck disable=SC2086
	$VALGRIND --log-file="$VG_LOGS/$name.%p" "$AMS_BIN" "$@"
	rc=$?
	if [ $rc = 99 ] || grep -q "ERROR SUMMARY: [1-9]" "$VG_LOGS/$name".*; then
		sed -n '/^==[0-9]*== [^ ]/,$p' "$VG_LOGS/$name".* | head -n 80 >&2
		return 99
	fi
	return $rc
}

start_fakeaws --seed 9100
use_account 111111111111
cd "$TEST_DIR" || exit 1
new_golden vgmain --encrypted >/dev/null
ARGS="--manifest vgmain.json --accounts 222222222222,333333333333 \
--role-name AmishareTagger --kms-grants --ssm-parameter /golden/base/latest \
--share-snapshots --deprecate-at 2030-01-01 --tag Approved=true"

test_expect_success 'share --debug under memcheck' '
	vg share $ARGS --debug --report share.json >out 2>err &&
	check_report share.json 0 --status ok
'

test_expect_success 'plan --preflight and verify under memcheck' '
	vg plan $ARGS --preflight --output json >plan.json 2>err &&
	vg verify $ARGS --report verify.json >out 2>err
'

test_expect_success 'a run with failures and retries under memcheck' '
	set_faults "{\"seed\": 1, \"rules\": [
	  {\"action\": \"CreateTags\", \"fault\": \"throttle\", \"first\": 2},
	  {\"action\": \"DescribeImages\", \"fault\": \"reset\", \"first\": 1},
	  {\"action\": \"AssumeRole\", \"fault\": \"truncate\", \"first\": 1},
	  {\"action\": \"PutParameter\", \"fault\": \"malformed\", \"first\": 1}]}" &&
	new_golden vgfail >/dev/null &&
	code=0 &&
	vg share --manifest vgfail.json --accounts 100000000000,222222222222 \
		--role-name AmishareTagger --ssm-parameter /golden/x \
		--report fail.json >out 2>err || code=$? &&
	test $code = 1 &&
	check_report fail.json 1
'

test_expect_success 'an interrupted run under memcheck' '
	new_golden vgint >/dev/null &&
	set_faults "{\"seed\": 2, \"rules\": [{\"action\": \"CreateTags\",
	  \"fault\": \"stall\", \"ms\": 30000}]}" &&
	before=$(calls CreateTags) || exit 1
	$VALGRIND --log-file="$VG_LOGS/int.%p" "$AMS_BIN" share \
		--manifest vgint.json --accounts 222222222222,333333333333 \
		--role-name AmishareTagger --report int.json >out 2>err &
	pid=$!
	for i in $(seq 1 600); do
		[ "$(calls CreateTags)" -gt "$before" ] && break
		sleep 0.1
	done
	kill -INT $pid
	code=0 && wait $pid || code=$?
	test $code = 130 &&
	! grep -q "ERROR SUMMARY: [1-9]" "$VG_LOGS"/int.* &&
	check_report int.json 130 --interrupted
'

test_expect_success 'revoke and provenance under memcheck' '
	vg revoke $ARGS --report revoke.json >out 2>err &&
	check_report revoke.json 0 &&
	git init -q repo &&
	git -C repo -c user.name=t -c user.email=t@example.com commit -q \
		--allow-empty -m x &&
	git -C repo remote add origin https://u:tok@example.com/r.git &&
	vg provenance --repo repo --ami us-east-1:$(ami_of vgmain.json us-east-1) \
		>prov.json 2>err
'

test_expect_success 'the fuzz corpus under memcheck' '
	FUZZ_REPLAY_WRAPPER="$VALGRIND --log-file=$VG_LOGS/replay.%p" \
		"$TEST_TOP/tests/fuzz/replay.sh" >replay.tap &&
	cat replay.tap &&
	! grep -q "ERROR SUMMARY: [1-9]" "$VG_LOGS"/replay.*
'

test_done
