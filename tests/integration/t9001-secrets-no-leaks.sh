#!/usr/bin/env bash
# Secrets never leak. Representative runs (share, plan, verify, revoke,
# provenance; --debug and -vv; failures) with distinctive secret keys,
# session tokens, a web identity token, credential_process, container
# credentials, an external id and git and CI URLs carrying tokens. Every
# byte they print or write (stdout, stderr with the debug log, reports,
# the provenance statement, CI outputs) is searched for each secret, for
# any STS session token and any web identity token. Reports are 0600.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/lib/faults.sh"

# Distinctive values: found anywhere, they leaked.
BUILD_KEY_ID=AKIAZQ7SECRETS000001
BUILD_SECRET='Zq7BuildSecret/Key+9fA3kLmN0pQrStUvWx01'
PROFILE_KEY_ID=AKIAZQ7SECRETS000002
PROFILE_SECRET='Zq7ProfileSecret/Key+7hB2jKmN0pQrStUv02'
CONTAINER_AUTH='Zq7ContainerAuthTok3n-distinct'
EXTERNAL_ID='Zq7ExternalId-distinct'
REMOTE_TOKEN='ghp_Zq7RemoteTok3nInTheUrl0000000000001'
GITLAB_TOKEN='glcbt-Zq7GitlabJobTok3n000001'
GITHUB_TOKEN_VALUE='ghs_Zq7GithubTok3nInEnv00000001'

python3 - "$TEST_DIR/world.json" <<EOF
import json, subprocess, sys
w = json.loads(subprocess.check_output(
    ["$FAKEAWS/serve", "--port", "0", "--dump-world"]))
for a in w["accounts"]:
    if a["id"] == "111111111111":
        a["extra_keys"] = [
            {"access_key_id": "$BUILD_KEY_ID",
             "secret_access_key": "$BUILD_SECRET"},
            {"access_key_id": "$PROFILE_KEY_ID",
             "secret_access_key": "$PROFILE_SECRET"}]
w["container_credentials"]["authorization"] = "$CONTAINER_AUTH"
for r in w["roles"]:
    if r.get("external_id"):
        r["external_id"] = "$EXTERNAL_ID"
json.dump(w, open(sys.argv[1], "w"))
EOF
start_fakeaws --world "$TEST_DIR/world.json"
use_account 111111111111
cd "$TEST_DIR" || exit 1
new_golden leak >/dev/null
AMI_E=$E
mkdir -p outs
: >secrets

# secret VALUE: remember a value that must never be shown.
secret() { printf '%s\n' "$1" >>secrets; }
for s in "$BUILD_SECRET" "$PROFILE_SECRET" "$CONTAINER_AUTH" "$EXTERNAL_ID" \
	"$REMOTE_TOKEN" "$GITLAB_TOKEN" "$GITHUB_TOKEN_VALUE"; do
	secret "$s"
done

# Temporary credentials issued for this test, by the emulator.
fakeaws_ctl credentials --account 111111111111 --role AmishareBuilder \
	--env >session.env
fakeaws_ctl credentials --account 111111111111 --role AmishareBuilder \
	--env >process.env
for f in session.env process.env; do
	sed -n 's/^export AWS_\(SECRET_ACCESS_KEY\|SESSION_TOKEN\)=//p' $f >>secrets
done
fakeaws_ctl token --sub repo:amishare/amishare:ref:refs/heads/main \
	--raw >web-token
secret "$(cat web-token)"
curl -s -H "Authorization: $CONTAINER_AUTH" \
	"$FAKEAWS_URL/_container/creds" >container.json
python3 -c 'import json, sys
d = json.load(open("container.json"))
print(d["SecretAccessKey"]); print(d["Token"])' >>secrets

# A repository whose remote URL carries a token.
git init -q repo &&
git -C repo -c user.name=t -c user.email=t@example.com commit -q \
	--allow-empty -m golden &&
git -C repo remote add origin \
	"https://x-access-token:$REMOTE_TOKEN@github.com/amishare/amishare.git"

# The CI environment of a pipeline, tokens included.
export GITHUB_TOKEN=$GITHUB_TOKEN_VALUE CI_JOB_TOKEN=$GITLAB_TOKEN

# run NAME CMD...: runs amishare with stdout and stderr kept in outs/.
run() {
	local name=$1
	shift
	"$@" >"outs/$name.out" 2>"outs/$name.err"
	echo "$name: exit $?"
}

# scan: fails naming every secret found in outs/.
scan() {
	python3 - outs secrets <<-\EOF
	import os, re, sys
	outs, secrets = sys.argv[1], [s for s in open(sys.argv[2]).read().split("\n") if s]
	patterns = [
	    ("an STS session token", re.compile(r"IQoJb3JpZ2luX2VjE[A-Za-z0-9+/=]{8,}")),
	    ("a JWT", re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}")),
	]
	bad = 0
	files = 0
	for name in sorted(os.listdir(outs)):
	    data = open(os.path.join(outs, name), "rb").read().decode("utf-8", "replace")
	    files += 1
	    for s in secrets:
	        if s in data:
	            print("LEAK: %s shows a secret (%s...)" % (name, s[:6]))
	            bad += 1
	    for what, rx in patterns:
	        m = rx.search(data)
	        if m:
	            print("LEAK: %s shows %s (%s...)" % (name, what, m.group(0)[:20]))
	            bad += 1
	print("%d files, %d secrets searched, %d leaks" % (files, len(secrets), bad))
	sys.exit(1 if bad or not files else 0)
	EOF
}

test_expect_success 'the secrets under test are distinct and were issued' '
	test "$(wc -l <secrets)" -ge 14 &&
	test "$(sort -u secrets | wc -l)" = "$(wc -l <secrets)" &&
	grep -q "^IQoJ" secrets && grep -q "^eyJ" secrets
'

test_expect_success 'share --debug with static keys, a token-bearing remote and CI outputs' '
	umask 000 &&
	: >outs/github-output && : >outs/github-summary &&
	AWS_ACCESS_KEY_ID=$BUILD_KEY_ID AWS_SECRET_ACCESS_KEY=$BUILD_SECRET \
	GITHUB_ACTIONS=true GITHUB_SERVER_URL=https://github.com \
	GITHUB_REPOSITORY=amishare/amishare GITHUB_RUN_ID=42 \
	GITHUB_OUTPUT=$PWD/outs/github-output \
	GITHUB_STEP_SUMMARY=$PWD/outs/github-summary \
		run share-debug amishare share --repo repo --manifest leak.json \
		--accounts 222222222222,444444444444 --role-name AmishareTagger \
		--debug --report outs/share-debug.json --dotenv outs/share.env &&
	test "$(json_get outs/share-debug.json "d[\"status\"]")" = ok &&
	grep -q "debug: " outs/share-debug.err &&
	grep -q "Authorization: \[masked\]" outs/share-debug.err &&
	grep -q "X-Amz-Security-Token: \[masked\]" outs/share-debug.err &&
	grep -q "github.com/amishare/amishare" outs/share-debug.json &&
	test "$(stat -c %a outs/share-debug.json)" = 600 &&
	scan
'

test_expect_success 'the external id never shows, with -vv and in the report' '
	AWS_ACCESS_KEY_ID=$BUILD_KEY_ID AWS_SECRET_ACCESS_KEY=$BUILD_SECRET \
		run external amishare share --manifest leak.json \
		--accounts 444444444444 --role-name AmishareTaggerExt \
		--external-id "$EXTERNAL_ID" -v -v --report outs/external.json &&
	test "$(json_get outs/external.json "d[\"status\"]")" = ok &&
	test "$(json_get outs/external.json "d[\"inputs\"][\"external_id_set\"]")" = True &&
	scan
'

test_expect_success 'plan -vv with a profile from the shared credentials file' '
	printf "[leaky]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$PROFILE_KEY_ID" "$PROFILE_SECRET" >"$AWS_SHARED_CREDENTIALS_FILE" &&
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
	 run plan amishare plan --profile leaky --manifest leak.json \
		--accounts 333333333333 --role-name AmishareTagger -vv \
		--report outs/plan.json) &&
	test "$(json_get outs/plan.json "d[\"status\"]")" = ok &&
	scan
'

test_expect_success 'verify --debug with a session token in the environment' '
	(. ./session.env &&
	 run verify amishare verify --manifest leak.json \
		--accounts 222222222222 --role-name AmishareTagger --debug \
		--report outs/verify.json) &&
	test "$(json_get outs/verify.json "d[\"status\"]")" = ok &&
	scan
'

test_expect_success 'revoke --debug with credential_process' '
	. ./process.env &&
	cat >creds.sh <<-EOF &&
	#!/bin/sh
	printf "{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\", \"SessionToken\": \"%s\"}" \
		"$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN"
	EOF
	chmod +x creds.sh &&
	printf "[profile proc]\ncredential_process = %s/creds.sh\n" "$PWD" \
		>"$AWS_CONFIG_FILE" &&
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN &&
	 run revoke amishare revoke --profile proc --manifest leak.json \
		--accounts 222222222222 --role-name AmishareTagger --debug \
		--report outs/revoke.json) &&
	test "$(json_get outs/revoke.json "d[\"status\"]")" = ok &&
	scan
'

test_expect_success 'share --debug with a web identity token' '
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
	 AWS_ROLE_ARN=arn:aws:iam::111111111111:role/AmishareCI \
	 AWS_WEB_IDENTITY_TOKEN_FILE=$PWD/web-token \
		run web amishare share --manifest leak.json \
		--accounts 555555555555 --role-name AmishareTagger --debug \
		--report outs/web.json) &&
	test "$(json_get outs/web.json "d[\"status\"]")" = ok &&
	grep -q "AssumeRoleWithWebIdentity" outs/web.err &&
	scan
'

test_expect_success 'share --debug with container credentials' '
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
	 AWS_CONTAINER_CREDENTIALS_FULL_URI=$FAKEAWS_URL/_container/creds \
	 AWS_CONTAINER_AUTHORIZATION_TOKEN=$CONTAINER_AUTH \
		run container amishare share --manifest leak.json \
		--accounts 777777777777 --role-name AmishareTagger --debug \
		--report outs/container.json) &&
	test "$(json_get outs/container.json "d[\"status\"]")" = ok &&
	grep -q "_container/creds" outs/container.err &&
	scan
'

test_expect_success 'failures --debug: a wrong secret, a denial, a 500' '
	AWS_ACCESS_KEY_ID=$BUILD_KEY_ID AWS_SECRET_ACCESS_KEY="${BUILD_SECRET}x" \
		run bad-secret amishare share --manifest leak.json \
		--accounts 222222222222 --role-name AmishareTagger --debug \
		--report outs/bad-secret.json &&
	grep -q SignatureDoesNotMatch outs/bad-secret.err &&
	secret "${BUILD_SECRET}x" &&
	set_faults "{\"rules\": [{\"action\": \"CreateTags\", \"fault\": \"error\",
	  \"status\": 500}]}" &&
	AWS_ACCESS_KEY_ID=$BUILD_KEY_ID AWS_SECRET_ACCESS_KEY=$BUILD_SECRET \
		run failures amishare share --manifest leak.json \
		--accounts 100000000000,666666666666 --role-name AmishareTagger \
		--debug --report outs/failures.json &&
	clear_faults &&
	test "$(json_get outs/failures.json "d[\"summary\"][\"failed\"]")" = 4 &&
	cat >failing.sh <<-EOF &&
	#!/bin/sh
	echo "{\"SecretAccessKey\": \"$PROFILE_SECRET\"}"
	echo "no credentials today" >&2
	exit 3
	EOF
	chmod +x failing.sh &&
	printf "[profile failing]\ncredential_process = %s/failing.sh\n" "$PWD" \
		>"$AWS_CONFIG_FILE" &&
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
	 run process-fails amishare share --profile failing \
		--manifest leak.json --accounts 222222222222 \
		--role-name AmishareTagger --debug) &&
	grep -q "no credentials today" outs/process-fails.err &&
	scan
'

test_expect_success 'provenance: remote and CI URLs without their tokens' '
	run provenance amishare provenance --repo repo --ami us-east-1:$AMI_E &&
	grep -q "https://github.com/amishare/amishare" outs/provenance.out &&
	GITLAB_CI=true CI_SERVER_URL=https://gitlab.example.com \
	CI_PROJECT_PATH=g/p CI_PIPELINE_ID=7 \
	CI_PROJECT_URL="https://gitlab-ci-token:$GITLAB_TOKEN@gitlab.example.com/g/p" \
	CI_PIPELINE_URL="https://gitlab-ci-token:$GITLAB_TOKEN@gitlab.example.com/g/p/-/pipelines/7" \
		run provenance-gitlab amishare provenance --repo repo &&
	grep -q "https://gitlab.example.com/g/p/-/pipelines/7" \
		outs/provenance-gitlab.out &&
	JENKINS_URL=https://ci.example.com BUILD_URL=https://ci.example.com/job/a/1/ \
	GIT_URL="https://jenkins:$REMOTE_TOKEN@git.example.com/a.git" \
		run provenance-jenkins amishare provenance --repo outs --output text &&
	grep -q "remote *https://git.example.com/a.git (from ci)" \
		outs/provenance-jenkins.out &&
	scan
'

test_expect_success 'reports are written 0600 whatever the umask' '
	umask 000 &&
	AWS_ACCESS_KEY_ID=$BUILD_KEY_ID AWS_SECRET_ACCESS_KEY=$BUILD_SECRET \
		amishare plan --manifest leak.json --accounts 222222222222 \
		--role-name AmishareTagger --report mode.json >/dev/null 2>&1 &&
	test "$(stat -c %a mode.json)" = 600 &&
	for f in outs/*.json; do
		test "$(stat -c %a "$f")" = 600 || { echo "$f: $(stat -c %a "$f")"; exit 1; }
	done
'

test_done
