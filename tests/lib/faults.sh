# Helpers for the fault-injection scenarios (tests/integration/t8*-*.sh).
# Source after test-lib.sh and start_fakeaws.

# Actions that change AWS state.
FAULT_WRITE_ACTIONS="CreateTags DeleteTags ModifyImageAttribute \
ModifySnapshotAttribute EnableImageDeprecation DisableImageDeprecation \
CreateGrant RevokeGrant RetireGrant PutParameter DeleteParameter"

faults_py() { python3 "$TEST_TOP/tests/lib/faults.py" "$FAKEAWS_URL" "$@"; }

# write_calls: write requests (any outcome) the emulator received so far.
write_calls() {
	# shellcheck disable=SC2086
	faults_py writes $FAULT_WRITE_ACTIONS
}

# set_faults JSON: replaces the emulator's fault configuration.
set_faults() {
	printf '%s\n' "$1" >.faults.json &&
	faults_py set .faults.json
}

clear_faults() { faults_py clear; }

# applied_faults: how many times the fault rules fired.
applied_faults() { faults_py applied; }

# calls ACTION [ACCOUNT]: requests the emulator received (as api_count).
calls() { faults_py count "$@"; }

# check_report FILE EXIT [check_report.py options]: the report's claims
# hold in AWS, as each account sees it (tests/lib/check_report.py). The
# faults are cleared first: the check reads the state, not the weather.
check_report() {
	local file=$1 code=$2
	shift 2
	clear_faults &&
	python3 "$TEST_TOP/tests/lib/check_report.py" "$FAKEAWS_URL" "$file" \
		--exit "$code" "$@"
}

# result_of FILE ACCOUNT REGION: "status step code kind" of one result.
result_of() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for r in d["results"]:
    if r["account"] == sys.argv[2] and r["region"] == sys.argv[3]:
        e = r["error"] or {}
        print(r["status"], e.get("step"), e.get("code"), e.get("kind"))' "$@"
}

# converges ARGS...: with the faults gone, `amishare share ARGS` finishes
# the job (exit 0), and a second run finds nothing to do: exit 0 and no
# write, by its report and by the emulator, and its report holds in AWS.
converges() {
	local before after
	clear_faults &&
	amishare share "$@" --report rerun1.json >rerun1.out 2>rerun1.err || {
		echo "rerun failed: exit $?" >&2
		cat rerun1.out rerun1.err >&2
		return 1
	}
	before=$(write_calls) &&
	amishare share "$@" --report rerun2.json >rerun2.out 2>rerun2.err || {
		echo "second rerun failed: exit $?" >&2
		cat rerun2.out rerun2.err >&2
		return 1
	}
	after=$(write_calls)
	if [ "$after" != "$before" ]; then
		echo "second rerun made $((after - before)) write calls" >&2
		return 1
	fi
	test "$(json_get rerun2.json 'd["summary"]["writes"]')" = 0 &&
	check_report rerun2.json 0
}

# new_golden NAME [build-golden options]: a fresh two-region golden AMI
# in the build account; sets E (us-east-1) and W (eu-west-1) and writes
# the manifest NAME.json.
new_golden() {
	local name=$1
	shift
	build_golden --regions us-east-1,eu-west-1 --name "$name" \
		--tag Name="$name" --tag team=platform \
		--manifest "$name.json" --run-uuid "run-$name" --build-name base \
		"$@" >/dev/null &&
	E=$(ami_of "$name.json" us-east-1) &&
	W=$(ami_of "$name.json" eu-west-1)
}
