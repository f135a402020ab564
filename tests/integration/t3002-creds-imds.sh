#!/usr/bin/env bash
# IMDSv2 against a scripted metadata server: the token dance and its
# headers, the IMDSv1 fallback rules (403/404/405 and timeouts fall back;
# 400 does not; AWS_EC2_METADATA_V1_DISABLED forbids it), the disabled
# flag, endpoint overrides, no role, a failure document, refresh.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/tools/creds-lib.sh"

start_credserver v2 --require-token
start_credserver t403 --imds-token 403
start_credserver t404 --imds-token 404
start_credserver t405 --imds-token 405
start_credserver t400 --imds-token 400
start_credserver tslow --imds-token timeout
start_credserver norole --no-role
start_credserver failing --creds-code AssumeRoleUnauthorizedAccess
start_credserver short --lifetime 2

unset AWS_EC2_METADATA_DISABLED
CRED_PATH=/latest/meta-data/iam/security-credentials

imds() { # server-url probe-args...
	local url=$1
	shift
	AWS_EC2_METADATA_SERVICE_ENDPOINT=$url "$CREDS_PROBE" "$@"
}

test_expect_success 'IMDSv2: token, role, credentials, with the headers' '
	imds "$v2_URL" >out 2>err &&
	grep -x "source: EC2 instance metadata ($v2_URL)" out &&
	grep -E "^key: ASIASCRIPTED[0-9]{8} expires: 20" out &&
	requests "$v2_LOG" >reqs &&
	printf "%s\n" "PUT /latest/api/token" "GET $CRED_PATH/" \
		"GET $CRED_PATH/ScriptedRole" >want &&
	diff want reqs &&
	test "$(header "$v2_LOG" 1 x-aws-ec2-metadata-token-ttl-seconds)" = 21600 &&
	test "$(header "$v2_LOG" 2 x-aws-ec2-metadata-token)" = scripted-imds-token-0 &&
	test "$(header "$v2_LOG" 3 x-aws-ec2-metadata-token)" = scripted-imds-token-0 &&
	! grep -q scripted-secret out err
'

for code in 403 404 405; do
	test_expect_success "token answer $code falls back to IMDSv1" '
		url_var=t'$code'_URL log_var=t'$code'_LOG &&
		imds "${!url_var}" >out &&
		grep "^key: ASIASCRIPTED" out &&
		test "$(header "${!log_var}" 2 x-aws-ec2-metadata-token)" = "<none>" &&
		test "$(header "${!log_var}" 3 x-aws-ec2-metadata-token)" = "<none>"
	'
done

test_expect_success 'a token timeout falls back to IMDSv1' '
	AWS_METADATA_SERVICE_TIMEOUT=1 imds "$tslow_URL" >out &&
	grep "^key: ASIASCRIPTED" out &&
	requests "$tslow_LOG" >reqs &&
	grep -x "GET $CRED_PATH/ScriptedRole" reqs
'

test_expect_success 'a token answer 400 is an error, without fallback' '
	test_expect_code 1 env AWS_EC2_METADATA_SERVICE_ENDPOINT="$t400_URL" \
		"$CREDS_PROBE" >out 2>err &&
	grep "session token request: http 400" err &&
	requests "$t400_LOG" >reqs &&
	! grep -q GET reqs
'

test_expect_success 'AWS_EC2_METADATA_V1_DISABLED forbids the fallback' '
	: >"$t403_LOG" &&
	test_expect_code 1 env AWS_EC2_METADATA_V1_DISABLED=true \
		AWS_EC2_METADATA_SERVICE_ENDPOINT="$t403_URL" \
		"$CREDS_PROBE" >out 2>err &&
	grep "session token request failed and IMDSv1 is disabled: http 403" err &&
	requests "$t403_LOG" >reqs &&
	test "$(cat reqs)" = "PUT /latest/api/token"
'

test_expect_success 'AWS_EC2_METADATA_DISABLED=true sends nothing' '
	: >"$v2_LOG" &&
	test_expect_code 1 env AWS_EC2_METADATA_DISABLED=true \
		AWS_EC2_METADATA_SERVICE_ENDPOINT="$v2_URL" \
		"$CREDS_PROBE" >out 2>err &&
	grep "^creds_probe: error: no credentials: set " err &&
	! test -s "$v2_LOG"
'

test_expect_success 'the endpoint can come from the profile' '
	: >"$v2_LOG" &&
	printf "[default]\nec2_metadata_service_endpoint = %s/\n" "$v2_URL" \
		>"$AWS_CONFIG_FILE" &&
	probe >out &&
	rm -f "$AWS_CONFIG_FILE" &&
	grep -x "source: EC2 instance metadata ($v2_URL)" out &&
	test "$(requests "$v2_LOG" | wc -l)" = 3
'

test_expect_success 'nothing listening: "no credentials" with the reason' '
	test_expect_code 1 env AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9 \
		"$CREDS_PROBE" >out 2>err &&
	grep "^creds_probe: error: no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, .* (EC2 instance metadata (http://127.0.0.1:9): session token request: " err
'

test_expect_success 'an instance without a role says so' '
	test_expect_code 1 env AWS_EC2_METADATA_SERVICE_ENDPOINT="$norole_URL" \
		"$CREDS_PROBE" >out 2>err &&
	grep "no IAM role is attached to this instance: http 404" err
'

test_expect_success 'a credential document with a failure Code is an error' '
	test_expect_code 1 env AWS_EC2_METADATA_SERVICE_ENDPOINT="$failing_URL" \
		"$CREDS_PROBE" >out 2>err &&
	grep "role '\''ScriptedRole'\'': Code '\''AssumeRoleUnauthorizedAccess'\'': scripted failure" err
'

test_expect_success 'expiring credentials are fetched again, each time whole' '
	imds "$short_URL" --resolve-times 3 --interval-ms 100 --margin-ms 5000 \
		>out &&
	test "$(grep -c "^key: ASIASCRIPTED" out)" = 3 &&
	test "$(sort -u out | grep -c "^key: ")" = 3 &&
	test "$(requests "$short_LOG" | grep -c "PUT /latest/api/token")" = 3 &&
	grep -x "fetches: 3 refreshes: 0" out
'

test_expect_success 'fresh credentials are not fetched again' '
	: >"$v2_LOG" &&
	imds "$v2_URL" --resolve-times 3 >out &&
	grep -x "fetches: 1 refreshes: 0" out &&
	test "$(requests "$v2_LOG" | wc -l)" = 3
'

test_done
