# Shell helpers for the credential-chain scenarios (tests/integration/
# t3*-creds-*.sh), sourced after test-lib.sh.
#
#   start_credserver NAME [credserver.py options]
#       starts tests/tools/credserver.py on 127.0.0.1, sets NAME_URL and
#       NAME_LOG (its request log, one JSON line per request)
#   probe [creds_probe options]
#       runs build/tests/tools/creds_probe
#   requests LOG            prints "METHOD PATH" per logged request
#   header LOG N NAME       prints header NAME of request N (1-based), or
#                           "<none>"

CREDS_PROBE=${AMS_BUILD:-$TEST_TOP/build}/tests/tools/creds_probe
if ! [ -x "$CREDS_PROBE" ]; then
	echo "Bail out! $CREDS_PROBE is missing: run 'make unit-bins' first"
	exit 1
fi

# Nothing of the developer's credential setup may leak in.
unset AWS_ROLE_SESSION_NAME AWS_CREDENTIAL_EXPIRATION AWS_ACCOUNT_ID \
	AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \
	AWS_EC2_METADATA_SERVICE_ENDPOINT AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE \
	AWS_METADATA_SERVICE_TIMEOUT AWS_METADATA_SERVICE_NUM_ATTEMPTS \
	AWS_EC2_METADATA_V1_DISABLED AWS_REGION AWS_MAX_ATTEMPTS AWS_RETRY_MODE

probe() { "$CREDS_PROBE" "$@"; }

start_credserver() {
	local name=$1 fifo line=""
	shift
	fifo=$TEST_DIR/.credserver-$name.fifo
	mkfifo "$fifo"
	python3 "$TEST_TOP/tests/tools/credserver.py" --port 0 \
		--log "$TEST_DIR/$name.log" --max-seconds 600 "$@" \
		>"$fifo" 2>"$TEST_DIR/$name.err" &
	fakeaws_pids+=($!)
	exec 8<"$fifo"
	if ! read -r -t 30 line <&8 || [ "${line%% *}" != ready ]; then
		echo "Bail out! credserver $name did not start: ${line:-no output}"
		sed 's/^/# /' "$TEST_DIR/$name.err"
		exit 1
	fi
	exec 8<&-
	rm -f "$fifo"
	: >>"$TEST_DIR/$name.log"
	printf -v "${name}_URL" '%s' "${line#ready }"
	printf -v "${name}_LOG" '%s' "$TEST_DIR/$name.log"
}

requests() {
	python3 -c 'import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    print(r["method"], r["path"])' "$1"
}

header() {
	python3 -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
print(rows[n - 1]["headers"].get(sys.argv[3].lower(), "<none>")
      if len(rows) >= n else "<no request %d>" % n)' "$1" "$2" "$3"
}
