#!/usr/bin/env bash
# Interruption: SIGINT or SIGTERM after the first writes stops admitting
# work, finishes or abandons what is in flight within the 5 s grace, and
# writes a truthful partial report (in flight: unknown; not started:
# skipped; every ok true in AWS), exit 130; a rerun converges.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/lib/faults.sh"

start_fakeaws --seed 8009
use_account 111111111111
T=222222222222,333333333333,444444444444,555555555555,777777777777

# interrupt SIGNAL WHEN ARGS...: runs `amishare share ARGS` in the
# background, sends SIGNAL once the emulator has seen a WHEN request (an
# action) from it, waits, and leaves the exit code in .rc, the signal time
# in .sent and the seconds from signal to exit in .took.
interrupt() {
	local sig=$1 when=$2 pid i t0 t1 rc before
	shift 2
	before=$(calls "$when")
	"$AMS_BIN" share "$@" >out 2>err &
	pid=$!
	for i in $(seq 1 300); do
		[ "$(calls "$when")" -gt "$before" ] && break
		sleep 0.05
	done
	t0=$(date +%s.%N)
	kill -"$sig" $pid
	wait $pid
	rc=$?
	t1=$(date +%s.%N)
	echo $rc >.rc
	echo "$t0" >.sent
	python3 -c "print(round($t1 - $t0, 2))" >.took
	echo "signal $sig: exit $rc after $(cat .took) s"
}

test_expect_success 'SIGINT after the first writes: exit 130 within the grace, truthful report' '
	new_golden int &&
	set_faults "{\"seed\": 1, \"latency_ms\": 300, \"rules\": [
	  {\"action\": \"CreateTags\", \"fault\": \"stall\", \"ms\": 30000,
	   \"every\": 2}]}" &&
	wbefore=$(write_calls) &&
	interrupt INT CreateTags --manifest int.json --accounts $T \
		--role-name AmishareTagger --parallel 3 --report r.json &&
	test "$(cat .rc)" = 130 &&
	# The 5 s grace for the stalled writes, plus the report.
	python3 -c "import sys; sys.exit(not 4.5 <= $(cat .took) < 7.5)" &&
	grep "interrupted: finishing requests in flight" err &&
	# No request started after the signal: none reached the emulator
	# later than a second after it (its 300 ms latency taken off).
	faults_py arrived-after "$(python3 -c "print($(cat .sent) + 1)")" 300 >late &&
	test ! -s late &&
	check_report r.json 130 --interrupted &&
	test "$(json_get r.json "d[\"interrupted\"]")" = True &&
	test "$(json_get r.json "d[\"status\"]")" = partial &&
	test "$(json_get r.json "d[\"summary\"][\"unknown\"] >= 1")" = True &&
	test "$(json_get r.json "d[\"summary\"][\"skipped\"] >= 1")" = True &&
	test "$(json_get r.json "sorted(set(r[\"skip_reason\"] for r in d[\"results\"] if r[\"status\"] != \"ok\"))")" = \
		"['\''interrupted before its writes'\'', '\''interrupted while in flight'\'']" &&
	test "$(json_get r.json "[r for r in d[\"results\"] if r[\"status\"] == \"failed\"]")" = "[]" &&
	grep "unknown  interrupted while in flight (create-tags)" out &&
	grep ", interrupted," out &&
	# Writes counted are writes sent: those still queued are not.
	test "$(json_get r.json "d[\"summary\"][\"writes\"]")" = \
		"$(( $(write_calls) - wbefore ))" &&
	converges --manifest int.json --accounts $T --role-name AmishareTagger
'

test_expect_success 'SIGTERM: requests in flight finish, nothing new starts, exit 130' '
	new_golden term &&
	set_faults "{\"seed\": 2, \"latency_ms\": 400}" &&
	wbefore=$(write_calls) &&
	interrupt TERM CreateTags --manifest term.json --accounts $T \
		--role-name AmishareTagger --parallel 2 --report r.json &&
	test "$(cat .rc)" = 130 &&
	# Nothing stalls: what is in flight ends with its answer (~0.4 s).
	python3 -c "import sys; sys.exit(not $(cat .took) < 3)" &&
	faults_py arrived-after "$(python3 -c "print($(cat .sent) + 1)")" 400 >late &&
	test ! -s late &&
	check_report r.json 130 --interrupted &&
	test "$(json_get r.json "d[\"summary\"][\"ok\"] >= 1")" = True &&
	test "$(json_get r.json "d[\"summary\"][\"ok\"] < 10")" = True &&
	test "$(json_get r.json "d[\"summary\"][\"writes\"]")" = \
		"$(( $(write_calls) - wbefore ))" &&
	converges --manifest term.json --accounts $T --role-name AmishareTagger
'

test_expect_success 'SIGINT before any write: nothing changed, every item skipped' '
	new_golden early &&
	set_faults "{\"seed\": 3, \"rules\": [
	  {\"action\": \"DescribeImageAttribute\", \"fault\": \"stall\",
	   \"ms\": 30000}]}" &&
	before=$(write_calls) &&
	interrupt INT DescribeImages --manifest early.json --accounts $T \
		--role-name AmishareTagger --report r.json &&
	test "$(cat .rc)" = 130 &&
	python3 -c "import sys; sys.exit(not $(cat .took) < 7.5)" &&
	test "$(write_calls)" = "$before" &&
	check_report r.json 130 --interrupted &&
	test "$(json_get r.json "sorted(set(r[\"status\"] for r in d[\"results\"]))")" = "['\''skipped'\'']" &&
	test "$(json_get r.json "d[\"summary\"][\"writes\"]")" = 0 &&
	test "$(json_get r.json "[i[\"share\"] for i in d[\"images\"]]")" = "['\''unknown'\'', '\''unknown'\'']" &&
	converges --manifest early.json --accounts $T --role-name AmishareTagger
'

test_expect_success 'a signal during set-up still leaves a report: nothing done' '
	new_golden setup &&
	set_faults "{\"seed\": 4, \"rules\": [
	  {\"action\": \"GetCallerIdentity\", \"fault\": \"stall\",
	   \"ms\": 1500, \"first\": 1}]}" &&
	before=$(write_calls) &&
	interrupt TERM GetCallerIdentity --manifest setup.json --accounts $T \
		--role-name AmishareTagger --report r.json &&
	test "$(cat .rc)" = 130 &&
	test "$(write_calls)" = "$before" &&
	check_report r.json 130 --interrupted &&
	test "$(json_get r.json "sorted(set(r[\"status\"] for r in d[\"results\"]))")" = "['\''skipped'\'']" &&
	converges --manifest setup.json --accounts $T --role-name AmishareTagger
'

test_done
