# Helpers for the fault-injection scenarios (tests/integration/t8*-*.sh).
# Source after test-lib.sh and start_fakeaws.

# Actions that change AWS state.
FAULT_WRITE_ACTIONS="CreateTags DeleteTags ModifyImageAttribute \
ModifySnapshotAttribute EnableImageDeprecation DisableImageDeprecation \
CreateGrant RevokeGrant RetireGrant PutParameter DeleteParameter"

# write_calls: write requests (any outcome) the emulator received so far.
write_calls() {
	fakeaws_ctl stats | python3 -c '
import json, sys
s = json.load(sys.stdin)
w = set(sys.argv[1].split())
print(sum(c["count"] for c in s["counts"] if c["action"] in w))' \
		"$FAULT_WRITE_ACTIONS"
}

# set_faults JSON: replaces the emulator's fault configuration.
set_faults() {
	printf '%s\n' "$1" >.faults.json &&
	fakeaws_ctl faults .faults.json >/dev/null
}

clear_faults() { fakeaws_ctl faults-clear >/dev/null; }

# applied_faults: how many times the fault rules fired.
applied_faults() {
	fakeaws_ctl faults-show | python3 -c '
import json, sys
print(sum(r.get("_applied", 0) for r in json.load(sys.stdin).get("rules", [])))'
}

# check_report FILE EXIT [check_report.py options]: the report's claims
# hold in AWS, as each account sees it (tests/lib/check_report.py).
check_report() {
	local file=$1 code=$2
	shift 2
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
# the job (exit 0, its report holds in AWS), and a second run finds
# nothing to do: exit 0 and no write, by its report and by the emulator.
converges() {
	local before after
	clear_faults &&
	amishare share "$@" --report rerun1.json >rerun1.out 2>rerun1.err || {
		echo "rerun failed: exit $?" >&2
		cat rerun1.out rerun1.err >&2
		return 1
	}
	check_report rerun1.json 0 &&
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
