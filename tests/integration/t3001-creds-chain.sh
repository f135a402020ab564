#!/usr/bin/env bash
# The credential chain from the outside, without a network: which source
# wins, what a broken configuration says, credential_process end to end,
# and that no secret reaches the output.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/tools/creds-lib.sh"

write_profiles() {
	cat >"$AWS_CONFIG_FILE" <<-EOF
	[default]
	region = eu-west-1
	[profile dev]
	region = us-east-2
	[profile ci]
	role_arn = arn:aws:iam::444455556666:role/publisher
	source_profile = base
	[profile loop-a]
	role_arn = arn:aws:iam::444455556666:role/a
	source_profile = loop-b
	[profile loop-b]
	role_arn = arn:aws:iam::444455556666:role/b
	source_profile = loop-a
	[profile orphan]
	role_arn = arn:aws:iam::444455556666:role/o
	source_profile = nowhere
	[profile helper]
	credential_process = "$TEST_DIR/helper dir/cred helper" --account 'a b'
	[profile broken-helper]
	credential_process = $TEST_DIR/failing-helper
	EOF
	cat >"$AWS_SHARED_CREDENTIALS_FILE" <<-EOF
	[default]
	aws_access_key_id = AKIDDEFAULT
	aws_secret_access_key = default-secret-do-not-print
	[dev]
	aws_access_key_id = AKIDDEV
	aws_secret_access_key = dev-secret-do-not-print
	aws_session_token = dev-token-do-not-print
	[base]
	aws_access_key_id = AKIDBASE
	aws_secret_access_key = base-secret-do-not-print
	EOF
	mkdir -p "$TEST_DIR/helper dir"
	cat >"$TEST_DIR/helper dir/cred helper" <<-'EOF'
	#!/bin/sh
	[ "$1" = --account ] && [ "$2" = "a b" ] || { echo "bad args: $*" >&2; exit 4; }
	cat <<JSON
	{"Version": 1, "AccessKeyId": "ASIAHELPER", "SecretAccessKey": "helper-secret-do-not-print",
	 "SessionToken": "helper-token-do-not-print", "Expiration": "2099-01-01T00:00:00Z"}
	JSON
	EOF
	cat >"$TEST_DIR/failing-helper" <<-'EOF'
	#!/bin/sh
	echo '{"SecretAccessKey": "stdout-secret-do-not-print"}'
	echo "helper: session expired, run sso login" >&2
	exit 3
	EOF
	chmod +x "$TEST_DIR/helper dir/cred helper" "$TEST_DIR/failing-helper"
}
write_profiles

no_secrets() { ! grep -q 'do-not-print' "$@"; }

test_expect_success 'the default profile from the credentials file' '
	probe >out 2>err &&
	grep -x "source: static keys (profile '\''default'\'' in '\''$AWS_SHARED_CREDENTIALS_FILE'\'')" out &&
	grep -x "key: AKIDDEFAULT expires: never account: -" out &&
	no_secrets out err
'

test_expect_success 'AWS_PROFILE selects a profile; --profile too' '
	AWS_PROFILE=dev probe >out &&
	grep "^key: AKIDDEV " out &&
	probe --profile base >out &&
	grep "^key: AKIDBASE " out
'

test_expect_success 'environment keys beat AWS_PROFILE but not --profile' '
	AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=env-secret-do-not-print \
		AWS_PROFILE=dev probe >out 2>err &&
	grep -x "source: environment (AWS_ACCESS_KEY_ID)" out &&
	AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=env-secret-do-not-print \
		probe --profile dev >out2 &&
	grep "^key: AKIDDEV " out2 &&
	no_secrets out err out2
'

test_expect_success 'a key without its secret names the missing variable' '
	test_expect_code 1 env AWS_ACCESS_KEY_ID=AKIDENV "$CREDS_PROBE" >out 2>err &&
	grep "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not" err
'

test_expect_success 'a role profile names the role and its source' '
	AWS_PROFILE=ci probe --no-resolve >out &&
	grep -x "source: role '\''arn:aws:iam::444455556666:role/publisher'\'' (profile '\''ci'\'') from static keys (profile '\''base'\'' in '\''$AWS_SHARED_CREDENTIALS_FILE'\'')" out
'

test_expect_success 'a missing source_profile says which and where' '
	test_expect_code 1 env AWS_PROFILE=orphan "$CREDS_PROBE" >out 2>err &&
	grep -x "creds_probe: error: profile '\''orphan'\'' in '\''$AWS_CONFIG_FILE'\'': source_profile '\''nowhere'\'' does not exist" err
'

test_expect_success 'a source_profile loop is refused' '
	test_expect_code 1 env AWS_PROFILE=loop-a "$CREDS_PROBE" >out 2>err &&
	grep "source_profile chain '\''loop-a'\'' -> '\''loop-b'\'' -> '\''loop-a'\'' is a loop" err
'

test_expect_success 'an unknown profile is an error naming both files' '
	test_expect_code 1 env AWS_PROFILE=nope "$CREDS_PROBE" >out 2>err &&
	grep "profile '\''nope'\'' not found in '\''$AWS_CONFIG_FILE'\'' or '\''$AWS_SHARED_CREDENTIALS_FILE'\''" err
'

test_expect_success 'credential_process runs without a shell, with quoted words' '
	AWS_PROFILE=helper probe >out 2>err &&
	grep -x "source: credential_process (profile '\''helper'\'' in '\''$AWS_CONFIG_FILE'\'')" out &&
	grep -x "key: ASIAHELPER expires: 2099-01-01T00:00:00Z account: -" out &&
	no_secrets out err
'

test_expect_success 'a failing credential_process shows stderr, never stdout' '
	test_expect_code 1 env AWS_PROFILE=broken-helper "$CREDS_PROBE" >out 2>err &&
	grep "credential_process of profile '\''broken-helper'\'' in '\''$AWS_CONFIG_FILE'\'': '\''$TEST_DIR/failing-helper'\'' exited with status 3: helper: session expired, run sso login" err &&
	no_secrets out err
'

test_expect_success 'no source at all gives the fix' '
	rm -f "$AWS_CONFIG_FILE" "$AWS_SHARED_CREDENTIALS_FILE" &&
	test_expect_code 1 probe >out 2>err &&
	grep -x "creds_probe: error: no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE+AWS_ROLE_ARN, or run on EC2/ECS with a role" err
'
write_profiles

test_expect_success 'a malformed config file is reported with its line' '
	printf "[default]\nregion = x\nthis line is wrong\n" >"$AWS_CONFIG_FILE" &&
	test_expect_code 1 probe >out 2>err &&
	grep -x "creds_probe: error: '\''$AWS_CONFIG_FILE'\'' line 3: expected '\''name = value'\''" err
'
write_profiles

test_done
