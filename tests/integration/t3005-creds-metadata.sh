#!/usr/bin/env bash
# Instance metadata and container credentials served by the emulator, so
# the fetched credentials are good for real STS calls: signing with them,
# using them as the source of a role (credential_source), and refreshing
# them during a run.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/tools/creds-lib.sh"

# Every credential the emulator hands out lives four seconds.
start_fakeaws --set credential_lifetime_seconds=4
TAGGER=arn:aws:iam::444444444444:role/AmishareTagger
unset AWS_EC2_METADATA_DISABLED

count() { # action outcome
	fakeaws_ctl log --action "$1" --outcome "$2" | python3 -c '
import json, sys
print(len(json.load(sys.stdin)["entries"]))'
}

test_expect_success 'IMDSv2 credentials sign STS calls' '
	AWS_EC2_METADATA_SERVICE_ENDPOINT=$FAKEAWS_URL probe --margin-ms 1000 --calls 1 >out 2>err &&
	grep -x "source: EC2 instance metadata ($FAKEAWS_URL)" out &&
	grep "^call 1: ok arn:aws:sts::111111111111:assumed-role/AmishareBuilder/" out
'

test_expect_success 'a role assumed from instance metadata (credential_source)' '
	cat >"$AWS_CONFIG_FILE" <<-EOF &&
	[profile from-instance]
	role_arn = $TAGGER
	credential_source = Ec2InstanceMetadata
	EOF
	AWS_EC2_METADATA_SERVICE_ENDPOINT=$FAKEAWS_URL AWS_PROFILE=from-instance \
		probe --margin-ms 1000 --calls 1 >out 2>err &&
	rm -f "$AWS_CONFIG_FILE" &&
	grep "^source: role '\''$TAGGER'\'' (profile '\''from-instance'\'') from EC2 instance metadata ($FAKEAWS_URL)" out &&
	grep "^call 1: ok arn:aws:sts::444444444444:assumed-role/AmishareTagger/" out
'

test_expect_success 'instance credentials are refreshed during a run' '
	fakeaws_ctl reset-stats >/dev/null &&
	AWS_EC2_METADATA_SERVICE_ENDPOINT=$FAKEAWS_URL probe --margin-ms 1000 \
		--calls 6 --interval-ms 1000 >out 2>err &&
	test "$(grep -c "^call [0-9]: ok " out)" = 6 &&
	test "$(sed -n "s/^call .* key //p" out | sort -u | wc -l)" -ge 2 &&
	test "$(count GetCallerIdentity ExpiredToken)" = 0
'

test_expect_success 'credentials always inside the refresh margin: no fetch loop' '
	fakeaws_ctl reset-stats >/dev/null &&
	AWS_EC2_METADATA_SERVICE_ENDPOINT=$FAKEAWS_URL probe --calls 3 \
		--interval-ms 300 >out 2>err &&
	test "$(grep -c "^call [0-9]: ok " out)" = 3 &&
	test "$(count "PUT latest" 200)" -le 3
'

test_expect_success 'container credentials with the authorization token' '
	AWS_CONTAINER_CREDENTIALS_FULL_URI=$FAKEAWS_URL/_container/credentials \
	AWS_CONTAINER_AUTHORIZATION_TOKEN=fakeaws-container-token \
		probe --margin-ms 1000 --calls 1 >out 2>err &&
	grep "^call 1: ok arn:aws:sts::111111111111:assumed-role/AmishareBuilder/" out &&
	! grep -q fakeaws-container-token out err
'

test_expect_success 'a wrong container token is refused with the answer' '
	test_expect_code 1 env \
		AWS_CONTAINER_CREDENTIALS_FULL_URI=$FAKEAWS_URL/_container/credentials \
		AWS_CONTAINER_AUTHORIZATION_TOKEN=not-the-token \
		"$CREDS_PROBE" >out 2>err &&
	grep "container credentials ($FAKEAWS_URL/_container/credentials): http 401" err
'

test_expect_success 'container credentials are refreshed during a run' '
	printf fakeaws-container-token >tok &&
	AWS_CONTAINER_CREDENTIALS_FULL_URI=$FAKEAWS_URL/_container/credentials \
	AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$TEST_DIR/tok \
		probe --margin-ms 1000 --calls 6 --interval-ms 1000 >out 2>err &&
	test "$(grep -c "^call [0-9]: ok " out)" = 6 &&
	test "$(sed -n "s/^call .* key //p" out | sort -u | wc -l)" -ge 2
'

test_done
