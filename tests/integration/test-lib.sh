# Shell test library for amishare integration tests (after git's t/).
#
#   . "$(dirname "$0")/test-lib.sh"
#   test_expect_success 'what it proves' '
#       amishare --version >out &&
#       grep amishare out
#   '
#   test_done
#
# Each test body runs in a subshell inside a private scratch directory
# ($TEST_DIR). Output is TAP. Helpers start the bundled AWS emulator on
# 127.0.0.1 and stop it when the script exits.

set -u
TEST_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AMS_BIN=${AMS_BIN:-$TEST_TOP/build/amishare}
FAKEAWS=$TEST_TOP/tests/fakeaws
TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ams-it.XXXXXX")
export PYTHONPATH="$TEST_TOP/tests/lib${PYTHONPATH:+:$PYTHONPATH}"
test_count=0
test_failures=0
fakeaws_pids=()

# A clean AWS environment: nothing from the developer's machine leaks in.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
	AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_ROLE_ARN \
	AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
	AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_ENDPOINT_URL AWS_CA_BUNDLE \
	GITHUB_ACTIONS GITLAB_CI JENKINS_URL PACKER_RUN_UUID PACKER_BUILD_NAME
export AWS_CONFIG_FILE=$TEST_DIR/.aws-config
export AWS_SHARED_CREDENTIALS_FILE=$TEST_DIR/.aws-credentials
export AWS_EC2_METADATA_DISABLED=true
export HOME=$TEST_DIR
export AWS_DEFAULT_REGION=us-east-1
export AWS_PAGER=

amishare() { "$AMS_BIN" "$@"; }

test_cleanup() {
	local pid
	for pid in "${fakeaws_pids[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	rm -rf "$TEST_DIR"
}
trap test_cleanup EXIT

say() { printf '# %s\n' "$*"; }

test_expect_success() { # description body
	local desc=$1 body=$2 log rc
	test_count=$((test_count + 1))
	log=$TEST_DIR/.test-$test_count.log
	(cd "$TEST_DIR" && set -e && eval "$body") >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok $test_count - $desc"
	else
		test_failures=$((test_failures + 1))
		echo "not ok $test_count - $desc"
		sed 's/^/#   /' "$log" | tail -n 60
	fi
}

test_expect_code() { # code command...
	local want=$1 got
	shift
	"$@" && got=0 || got=$?
	if [ "$got" != "$want" ]; then
		echo "expected exit $want, got $got: $*" >&2
		return 1
	fi
}

test_done() {
	echo "1..$test_count"
	[ $test_failures -eq 0 ] && [ $test_count -gt 0 ]
	exit $?
}

# start_fakeaws [serve options...]: starts the emulator on a free port,
# exports FAKEAWS_URL and AWS_ENDPOINT_URL. Call it outside test bodies.
start_fakeaws() {
	local fifo=$TEST_DIR/.fakeaws-ready.$$.$RANDOM line=""
	mkfifo "$fifo"
	"$FAKEAWS/serve" --port 0 "$@" >"$fifo" 2>"$TEST_DIR/.fakeaws.log" &
	fakeaws_pids+=($!)
	exec 9<"$fifo"
	if ! read -r -t 30 line <&9 || [ "${line%% *}" != ready ]; then
		echo "Bail out! the emulator did not start: ${line:-no output}"
		cat "$TEST_DIR/.fakeaws.log" | sed 's/^/# /'
		exit 1
	fi
	# Keep draining its stdout so it never blocks on a full pipe.
	cat <&9 >>"$TEST_DIR/.fakeaws.out" &
	exec 9<&-
	rm -f "$fifo"
	FAKEAWS_URL=${line#ready }
	export FAKEAWS_URL AWS_ENDPOINT_URL=$FAKEAWS_URL
}

fakeaws_ctl() { "$FAKEAWS/ctl" "$FAKEAWS_URL" "$@"; }

# use_account ID: sign as that default-world account's long-term key.
use_account() {
	export AWS_ACCESS_KEY_ID=AKIAFAKE$1
	export AWS_SECRET_ACCESS_KEY=fakeaws-secret-$1-EXAMPLEKEY0
	unset AWS_SESSION_TOKEN
}

# build_golden ARGS...: makes an AMI through the EC2 API (see build-golden).
build_golden() { "$FAKEAWS/build-golden" --endpoint "$FAKEAWS_URL" "$@"; }

# awsview tags|perms|snapperms|untag SPEC...: AWS state as each account
# sees it, read with botocore (see tests/lib/awsview.py).
awsview() { python3 "$TEST_TOP/tests/lib/awsview.py" "$FAKEAWS_URL" "$@"; }

# api_count ACTION [ACCOUNT]: requests the emulator received so far.
api_count() {
	fakeaws_ctl stats | python3 -c '
import json, sys
s = json.load(sys.stdin)
action, account = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
print(sum(c["count"] for c in s["counts"] if c["action"] == action
          and (account is None or c["account"] == account)))' "$@"
}

# json_get FILE EXPR: evaluates a Python expression over the JSON in FILE
# (bound to d) and prints the result.
json_get() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}

# ami_of MANIFEST REGION: the AMI id of REGION in the last build.
ami_of() {
	python3 -c 'import json, sys
b = json.load(open(sys.argv[1]))["builds"][-1]["artifact_id"]
print(dict(p.split(":") for p in b.split(","))[sys.argv[2]])' "$1" "$2"
}
