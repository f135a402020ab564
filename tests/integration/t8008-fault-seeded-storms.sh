#!/usr/bin/env bash
# Seeded storms: every kind of fault at once, drawn at random (but
# repeatably, from a seed) across every action of every service. Whatever
# the outcome, the report must tell the truth: each ok is true in AWS,
# each failure is named, status and exit code agree; and a rerun
# converges.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/lib/faults.sh"

start_fakeaws --seed 8008
use_account 111111111111
T=222222222222,333333333333,444444444444,555555555555
ARGS="--accounts $T --role-name AmishareTagger --kms-grants --ssm-parameter /golden/base/latest"

storm() { # seed
	cat <<-EOF
	{"seed": $1, "latency_ms": 5, "jitter_ms": 20, "propagation_delay_seconds": 1,
	 "rules": [
	  {"action": "*", "fault": "throttle", "probability": 0.12},
	  {"action": "*", "fault": "error", "status": 503, "probability": 0.08},
	  {"action": "*", "fault": "error", "status": 500, "probability": 0.04},
	  {"action": "*", "fault": "reset", "probability": 0.05},
	  {"action": "*", "fault": "truncate", "probability": 0.04},
	  {"action": "*", "fault": "stall", "ms": 2500, "probability": 0.03},
	  {"action": "*", "fault": "close", "probability": 0.05},
	  {"action": "*", "fault": "malformed", "probability": 0.02}]}
	EOF
}

for seed in 11 23 37; do
	test_expect_success "storm with seed $seed: the report tells the truth" '
		new_golden s'$seed' --encrypted &&
		set_faults "$(storm '$seed')" &&
		code=0 &&
		amishare share --manifest s'$seed'.json $ARGS --timeout-ms 1000 \
			--visibility-wait 20 --report r.json >out 2>err || code=$? &&
		echo "exit $code, $(applied_faults) faults" &&
		test $code = 0 -o $code = 1 &&
		check_report r.json $code &&
		converges --manifest s'$seed'.json $ARGS
	'
done

test_done
