#!/usr/bin/env bash
# Container credentials against a scripted endpoint: the full URI rules,
# the Authorization header from AWS_CONTAINER_AUTHORIZATION_TOKEN or
# (preferred) the token file, read again on every fetch, and the errors.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/tools/creds-lib.sh"

start_credserver open
start_credserver authed --container-auth container-token-A --lifetime 2
start_credserver rotated --container-auth container-token-B --lifetime 2

test_expect_success 'full URI on loopback, Accept header, no Authorization' '
	AWS_CONTAINER_CREDENTIALS_FULL_URI=$open_URL/creds probe >out 2>err &&
	grep -x "source: container credentials ($open_URL/creds)" out &&
	grep -x "key: ASIASCRIPTED00000001 expires: .* account: 111122223333" out &&
	test "$(requests "$open_LOG")" = "GET /creds" &&
	test "$(header "$open_LOG" 1 accept)" = application/json &&
	test "$(header "$open_LOG" 1 authorization)" = "<none>" &&
	! grep -q scripted-secret out err
'

test_expect_success 'the full URI may say localhost' '
	port=${open_URL##*:} &&
	AWS_CONTAINER_CREDENTIALS_FULL_URI=http://localhost:$port/creds \
		probe >out &&
	grep "^key: ASIASCRIPTED" out
'

test_expect_success 'plain http elsewhere is refused before any request' '
	test_expect_code 1 env AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.1/creds \
		"$CREDS_PROBE" >out 2>err &&
	grep "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is only allowed to a loopback address" err
'

test_expect_success 'AWS_CONTAINER_AUTHORIZATION_TOKEN is sent' '
	AWS_CONTAINER_CREDENTIALS_FULL_URI=$authed_URL/creds \
	AWS_CONTAINER_AUTHORIZATION_TOKEN=container-token-A probe >out 2>err &&
	grep "^key: ASIASCRIPTED" out &&
	test "$(header "$authed_LOG" 1 authorization)" = container-token-A &&
	! grep -q container-token-A out err
'

test_expect_success 'a wrong token is an error showing the answer' '
	test_expect_code 1 env AWS_CONTAINER_CREDENTIALS_FULL_URI=$authed_URL/creds \
		AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong-token-value \
		"$CREDS_PROBE" >out 2>err &&
	grep "container credentials ($authed_URL/creds): http 401.*InvalidToken" err &&
	! grep -q wrong-token-value err
'

test_expect_success 'the token file wins and is read again on every fetch' '
	: >"$rotated_LOG" &&
	printf container-token-B >tokfile &&
	test_expect_code 1 env AWS_CONTAINER_CREDENTIALS_FULL_URI=$rotated_URL/creds \
		AWS_CONTAINER_AUTHORIZATION_TOKEN=container-token-A \
		AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$TEST_DIR/tokfile \
		"$CREDS_PROBE" --resolve-times 2 --margin-ms 5000 \
		--between "printf container-token-C >$TEST_DIR/tokfile" \
		>out 2>err &&
	grep "^key: ASIASCRIPTED" out &&
	test "$(header "$rotated_LOG" 1 authorization)" = container-token-B &&
	test "$(header "$rotated_LOG" 2 authorization)" = container-token-C &&
	grep "container credentials ($rotated_URL/creds): http 401" err
'

test_expect_success 'a token file with a line break is refused' '
	printf "container-token-A\n" >tokfile &&
	test_expect_code 1 env AWS_CONTAINER_CREDENTIALS_FULL_URI=$authed_URL/creds \
		AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$TEST_DIR/tokfile \
		"$CREDS_PROBE" >out 2>err &&
	grep "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE '\''$TEST_DIR/tokfile'\'' contains a line break" err
'

test_expect_success 'a missing token file is an error naming it' '
	test_expect_code 1 env AWS_CONTAINER_CREDENTIALS_FULL_URI=$authed_URL/creds \
		AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$TEST_DIR/absent \
		"$CREDS_PROBE" >out 2>err &&
	grep "cannot open AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE '\''$TEST_DIR/absent'\''" err
'

test_expect_success 'an error status is an error' '
	test_expect_code 1 env AWS_CONTAINER_CREDENTIALS_FULL_URI=$open_URL/nothing-here \
		"$CREDS_PROBE" >out 2>err &&
	grep "container credentials ($open_URL/nothing-here): http 404" err
'

test_done
