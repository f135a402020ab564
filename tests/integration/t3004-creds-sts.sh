#!/usr/bin/env bash
# Web identity and AssumeRole against the emulator: the GitHub Actions
# OIDC path (unsigned, token file read again on refresh), profile roles
# (source_profile, credential_source, external_id, session name),
# AssumeRole for target accounts with tags and source identity, clear
# errors when STS refuses, and credentials kept fresh during a run: before
# they expire, and once more when AWS calls them expired.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/tools/creds-lib.sh"

start_fakeaws --token-file "$TEST_DIR/oidc-token"
CI_ROLE=arn:aws:iam::111111111111:role/AmishareCI
TAGGER=arn:aws:iam::444444444444:role/AmishareTagger
TAGGER_EXT=arn:aws:iam::444444444444:role/AmishareTaggerExt
BUILDER=arn:aws:iam::111111111111:role/AmishareBuilder

log_count() { # action outcome
	fakeaws_ctl log --action "$1" --outcome "$2" | python3 -c '
import json, sys
print(len(json.load(sys.stdin)["entries"]))'
}

web_identity() {
	AWS_WEB_IDENTITY_TOKEN_FILE=$TEST_DIR/oidc-token AWS_ROLE_ARN=$CI_ROLE \
		"$@"
}

test_expect_success 'GitHub Actions: web identity token file and role' '
	fakeaws_ctl reset-stats >/dev/null &&
	AWS_ROLE_SESSION_NAME=gha-run-42 web_identity probe --calls 1 >out 2>err &&
	grep -x "source: web identity role '\''$CI_ROLE'\'' (token file '\''$TEST_DIR/oidc-token'\'')" out &&
	grep -E "^key: ASIA[A-Z0-9]{16} expires: 20.* account: 111111111111$" out &&
	grep -x "call 1: ok arn:aws:sts::111111111111:assumed-role/AmishareCI/gha-run-42 partition aws key ASIA.*" out &&
	test "$(log_count AssumeRoleWithWebIdentity 200)" = 1 &&
	fakeaws_ctl log --action AssumeRoleWithWebIdentity >log.json &&
	json_get log.json "d[\"entries\"][0][\"principal\"]" >principal &&
	test "$(cat principal)" = None &&
	! grep -q "$(cut -c1-40 "$TEST_DIR/oidc-token")" out err
'

test_expect_success 'the token file is read again on every refresh' '
	cp "$TEST_DIR/oidc-token" tok &&
	test_expect_code 1 env AWS_WEB_IDENTITY_TOKEN_FILE=$TEST_DIR/tok \
		AWS_ROLE_ARN=$CI_ROLE "$CREDS_PROBE" --resolve-times 2 \
		--margin-ms 100000000 --between "echo not-a-jwt >$TEST_DIR/tok" \
		>out 2>err &&
	test "$(grep -c "^key: ASIA" out)" = 1 &&
	grep "AssumeRoleWithWebIdentity failed (account 111111111111, STS us-east-1): InvalidIdentityToken: " err
'

test_expect_success 'a token the role does not trust is refused, naming the role' '
	fakeaws_ctl token --sub repo:someone/else --raw >other-token &&
	test_expect_code 1 env AWS_WEB_IDENTITY_TOKEN_FILE=$TEST_DIR/other-token \
		AWS_ROLE_ARN=$CI_ROLE "$CREDS_PROBE" >out 2>err &&
	grep "creds_probe: error: web identity role '\''$CI_ROLE'\'' (token file '\''$TEST_DIR/other-token'\''): AssumeRoleWithWebIdentity failed (account 111111111111, STS us-east-1): AccessDenied: " err
'

test_expect_success 'web identity for a role without an OIDC trust is denied' '
	test_expect_code 1 env AWS_WEB_IDENTITY_TOKEN_FILE=$TEST_DIR/oidc-token \
		AWS_ROLE_ARN=$TAGGER "$CREDS_PROBE" >out 2>err &&
	grep "AssumeRoleWithWebIdentity failed (account 444444444444, STS us-east-1): AccessDenied" err
'

test_expect_success 'a profile role from a source_profile with static keys' '
	cat >"$AWS_CONFIG_FILE" <<-EOF &&
	[profile builder]
	role_arn = $BUILDER
	source_profile = build-keys
	role_session_name = from-profile
	EOF
	cat >"$AWS_SHARED_CREDENTIALS_FILE" <<-EOF &&
	[build-keys]
	aws_access_key_id = AKIAFAKE111111111111
	aws_secret_access_key = fakeaws-secret-111111111111-EXAMPLEKEY0
	EOF
	AWS_PROFILE=builder probe --calls 1 >out 2>err &&
	grep "^source: role '\''$BUILDER'\'' (profile '\''builder'\'') from static keys" out &&
	grep "^key: ASIA.* account: 111111111111$" out &&
	grep "^call 1: ok arn:aws:sts::111111111111:assumed-role/AmishareBuilder/from-profile " out &&
	! grep -q fakeaws-secret out err
'

test_expect_success 'profile roles chain: external_id, duration_seconds, Region' '
	cat >"$AWS_CONFIG_FILE" <<-EOF &&
	[profile builder]
	role_arn = $BUILDER
	source_profile = build-keys
	[profile prod]
	role_arn = $TAGGER_EXT
	source_profile = builder
	external_id = ams-ext-1
	duration_seconds = 900
	role_session_name = prod-session
	region = eu-west-1
	EOF
	fakeaws_ctl reset-stats >/dev/null &&
	unset AWS_DEFAULT_REGION &&
	AWS_PROFILE=prod probe --calls 1 >out 2>err &&
	grep "^call 1: ok arn:aws:sts::444444444444:assumed-role/AmishareTaggerExt/prod-session " out &&
	fakeaws_ctl log --action AssumeRole >log.json &&
	test "$(json_get log.json "len(d[\"entries\"])")" = 2 &&
	test "$(json_get log.json "d[\"entries\"][0][\"region\"]")" = eu-west-1 &&
	test "$(json_get log.json "d[\"entries\"][1][\"account\"]")" = 111111111111
'

test_expect_success 'credential_source = Environment' '
	cat >"$AWS_CONFIG_FILE" <<-EOF &&
	[profile envrole]
	role_arn = $TAGGER
	credential_source = Environment
	EOF
	use_account 111111111111 &&
	probe --profile envrole --calls 1 >out &&
	grep "^source: role '\''$TAGGER'\'' (profile '\''envrole'\'') from environment (AWS_ACCESS_KEY_ID)" out &&
	grep "^call 1: ok arn:aws:sts::444444444444:assumed-role/AmishareTagger/" out
'
rm -f "$AWS_CONFIG_FILE" "$AWS_SHARED_CREDENTIALS_FILE"

test_expect_success 'AssumeRole for a target account, with tags and source identity' '
	use_account 111111111111 &&
	probe --assume $TAGGER --session ci-build-7 --tag project=ami \
		--tag team=platform --transitive project \
		--source-identity builder-7 --duration 900 --calls 1 >out 2>err &&
	grep -x "role: role '\''$TAGGER'\''" out &&
	grep "^role-key: ASIA.* account: 444444444444$" out &&
	grep "^call 1: ok arn:aws:sts::444444444444:assumed-role/AmishareTagger/ci-build-7 partition aws " out
'

test_expect_success 'a missing external id: the error names the role and account' '
	use_account 111111111111 &&
	test_expect_code 1 probe --assume $TAGGER_EXT >out 2>err &&
	grep -x "creds_probe: error: role '\''$TAGGER_EXT'\'': AssumeRole failed (account 444444444444, STS us-east-1): AccessDenied: .*not authorized to perform: sts:AssumeRole on resource: $TAGGER_EXT" err &&
	probe --assume $TAGGER_EXT --external-id ams-ext-1 --calls 1 >out &&
	grep "^call 1: ok arn:aws:sts::444444444444:assumed-role/AmishareTaggerExt/" out
'

test_expect_success 'an untrusted caller is denied, and calls report it' '
	use_account 222222222222 &&
	test_expect_code 1 probe --assume $TAGGER --no-resolve --calls 1 >out 2>err &&
	grep -x "call 1: failed" out &&
	grep "role '\''$TAGGER'\'': AssumeRole failed (account 444444444444, STS us-east-1): AccessDenied: User: arn:aws:iam::222222222222:user/amishare is not authorized" err
'

test_expect_success 'short-lived credentials are refreshed before they expire' '
	fakeaws_ctl settings credential_lifetime_seconds=3 >/dev/null &&
	fakeaws_ctl reset-stats >/dev/null &&
	use_account 111111111111 &&
	probe --assume $TAGGER --margin-ms 1500 --calls 5 --interval-ms 1000 \
		>out 2>err &&
	fakeaws_ctl settings credential_lifetime_seconds=null >/dev/null &&
	test "$(grep -c "^call [0-9]: ok " out)" = 5 &&
	grep "^call 5: ok" out &&
	keys=$(sed -n "s/^call .* key //p" out | sort -u | wc -l) &&
	test "$keys" -ge 3 &&
	test "$(log_count GetCallerIdentity ExpiredToken)" = 0 &&
	test "$(log_count AssumeRole 200)" -ge 3
'

test_expect_success 'a chain of short-lived sources refreshes at every level' '
	fakeaws_ctl settings credential_lifetime_seconds=3 >/dev/null &&
	fakeaws_ctl reset-stats >/dev/null &&
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
	web_identity probe --assume $TAGGER --margin-ms 1500 --calls 4 \
		--interval-ms 1000 >out 2>err &&
	fakeaws_ctl settings credential_lifetime_seconds=null >/dev/null &&
	test "$(grep -c "^call [0-9]: ok " out)" = 4 &&
	test "$(log_count AssumeRoleWithWebIdentity 200)" -ge 2 &&
	test "$(log_count AssumeRole 200)" -ge 2
'

# The emulator's clock jumps two minutes before each call, past the
# credentials' one-minute life, while ours stays: each call is refused
# with ExpiredToken once, refreshes and succeeds on its retry.
test_expect_success 'credentials AWS calls expired are refreshed once and retried' '
	fakeaws_ctl settings credential_lifetime_seconds=60 >/dev/null &&
	fakeaws_ctl reset-stats >/dev/null &&
	use_account 111111111111 &&
	probe --assume $TAGGER --margin-ms 1000 --calls 2 --interval-ms 1100 \
		--between "$FAKEAWS/ctl $FAKEAWS_URL clock --advance 120 >/dev/null" \
		>out 2>err &&
	fakeaws_ctl settings credential_lifetime_seconds=null >/dev/null &&
	grep "^call 1: ok" out &&
	grep "^call 2: ok" out &&
	test "$(sed -n "s/^call .* key //p" out | sort -u | wc -l)" = 2 &&
	test "$(log_count GetCallerIdentity ExpiredToken)" = 2 &&
	test "$(log_count GetCallerIdentity 200)" = 2 &&
	test "$(log_count AssumeRole 200)" = 3
'

test_done
