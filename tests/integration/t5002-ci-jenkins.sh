#!/usr/bin/env bash
# The Jenkins pipeline (ci/jenkins): the Jenkinsfile checked structurally
# (no Groovy here), then its one sh step, ci/jenkins/amishare.sh, run with
# the Jenkinsfile's environment {} block, Jenkins' build variables and
# withAWS-style session credentials against the emulator; exit codes and
# the archived report are what the stage acts on.
. "$(dirname "$0")/test-lib.sh"

JENKINSFILE=$TEST_TOP/ci/jenkins/Jenkinsfile
SCRIPT=$TEST_TOP/ci/jenkins/amishare.sh

cat >"$TEST_DIR/jf.py" <<\PY
import json, os, re, sys

def strip(text):
    """The Jenkinsfile without comments and string contents."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif text.startswith("'''", i) or text.startswith('"""', i):
            q = text[i:i + 3]
            j = text.find(q, i + 3)
            out.append("''")
            i = n if j < 0 else j + 3
        elif text[i] in "'\"":
            q, j = text[i], i + 1
            while j < n and text[j] != q:
                j += 2 if text[j] == "\\" else 1
            out.append("''")
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)

def environment(text):
    m = re.search(r"^    environment \{\n(.*?)\n    \}", text, re.S | re.M)
    env = {}
    for k, v in re.findall(r"^\s*([A-Z_][A-Z0-9_]*) = '([^']*)'$",
                           m.group(1), re.M):
        env[k] = v
    return env

def check(path, repo, help_text):
    text = open(path).read()
    code, problems = strip(text), []
    pairs = {"{": "}", "(": ")", "[": "]"}
    stack = []
    for c in code:
        if c in pairs:
            stack.append(pairs[c])
        elif c in pairs.values():
            if not stack or stack.pop() != c:
                problems.append("unbalanced %r" % c)
                break
    if stack:
        problems.append("unclosed %r" % stack)
    for needle in ("pipeline {", "agent ", "stages {", "stage('Share AMI')",
                   "post {", "always {", "withAWS("):
        if needle not in text:
            problems.append("no %s" % needle)
    calls = re.findall(r"sh\(script: '([^']+)',\s*returnStatus: true\)", text)
    if len(calls) != 1 or len(re.findall(r"\bsh[ (]", code)) != 1:
        problems.append("not exactly one sh step with returnStatus")
    for c in calls:
        rel = c.replace(".amishare-src/", "", 1)
        if not os.access(os.path.join(repo, rel), os.X_OK):
            problems.append("sh step runs %s, not an executable of the "
                            "repository" % c)
    if not re.search(r"always \{\s*archiveArtifacts artifacts: "
                      r"env\.AMISHARE_REPORT", text):
        problems.append("the report is not archived in post { always }")
    for rc in ("1", "2"):
        if not re.search(r"rc == %s\) \{\s*error\(" % rc, text):
            problems.append("exit %s does not fail the stage" % rc)
    options = {"AMISHARE_" + n.upper().replace("-", "_")
               for n in re.findall(r"--([a-z][a-z-]*)", help_text)}
    wrapper = {"AMISHARE_COMMAND", "AMISHARE_BIN", "AMISHARE_REPOSITORY",
               "AMISHARE_REF"}
    for k in re.findall(r"^\s*(AMISHARE_[A-Z_]+) =", text, re.M):
        if k not in options | wrapper:
            problems.append("%s is no amishare option" % k)
    for p in problems:
        print(p)
    return 1 if problems else 0

if __name__ == "__main__":
    if sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], sys.stdin.read()))
    for k, v in sorted(environment(open(sys.argv[2]).read()).items()):
        print("export %s='%s'" % (k, v))
PY

start_fakeaws
use_account 111111111111
(cd "$TEST_DIR" && build_golden --regions us-east-1,eu-west-1 \
	--name golden --tag Name=golden --manifest packer-manifest.json \
	--run-uuid run-1 --build-name base >/dev/null)
E1=$(ami_of "$TEST_DIR/packer-manifest.json" us-east-1)
W1=$(ami_of "$TEST_DIR/packer-manifest.json" eu-west-1)
OU=arn:aws:organizations::100000000000:ou/o-amishare01/ou-ams1-prodnest
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

# stage [VAR=VALUE...]: the stage's sh step as Jenkins runs it (VAR=
# unsets VAR): the
# Jenkinsfile's environment, the build's variables, withAWS's session
# credentials for the build account role; exit code in code, output in log.
stage() {
	(
		eval "$(python3 "$TEST_DIR/jf.py" env "$JENKINSFILE")" &&
		eval "$(fakeaws_ctl credentials --account 111111111111 \
			--role AmishareBuilder --session amishare-17 --env)" &&
		export JENKINS_URL=https://jenkins.example/ \
			BUILD_URL=https://jenkins.example/job/golden/17/ \
			JOB_NAME=golden BUILD_NUMBER=17 WORKSPACE=$PWD &&
		export AMISHARE_COMMAND=share AMISHARE_BIN=$AMS_BIN \
			AMISHARE_OU_ARN=$OU &&
		for kv in "$@"; do # VAR= unsets VAR
			if [ -n "${kv#*=}" ]; then export "$kv"; else unset "${kv%%=*}"; fi
		done &&
		"${JF_SCRIPT:-$SCRIPT}"
	) >log 2>&1
	echo $? >code
}

test_expect_success 'the Jenkinsfile is a declarative pipeline around amishare.sh' '
	amishare help share >help &&
	python3 "$TEST_DIR/jf.py" check "$JENKINSFILE" "$TEST_TOP" <help &&
	shellcheck "$SCRIPT"
'

test_expect_success 'the Jenkinsfile environment is read as the stage sees it' '
	python3 "$TEST_DIR/jf.py" env "$JENKINSFILE" >env &&
	grep -x "export AMISHARE_REPORT=.amishare-report.json." env &&
	grep -x "export AMISHARE_ROLE_NAME=.AmishareTagger." env &&
	grep -x "export AMISHARE_TAG=.Approved=true." env
'

test_expect_success 'share: exit 0 and the report to archive' '
	stage AMISHARE_ACCOUNTS="222222222222 333333333333" \
		AMISHARE_PROVENANCE_TAGS=false &&
	cat log &&
	test "$(cat code)" = 0 &&
	test "$(json_get amishare-report.json "d[\"status\"]")" = ok &&
	test "$(json_get amishare-report.json "d[\"summary\"][\"ok\"]")" = 4 &&
	json_get amishare-report.json "d[\"source\"][\"arn\"]" >arn &&
	grep "assumed-role/AmishareBuilder/amishare-17$" arn &&
	test "$(json_get amishare-report.json "d[\"provenance\"][\"ci\"][\"system\"]")" = jenkins &&
	test "$(json_get amishare-report.json "d[\"provenance\"][\"ci\"][\"run_url\"]")" = https://jenkins.example/job/golden/17/ &&
	awsview perms 111111111111:us-east-1:$E1 >p &&
	grep "ou:$OU,user:222222222222,user:333333333333$" p &&
	awsview tags 333333333333:eu-west-1:$W1 >t &&
	grep "Approved=true,Name=golden$" t
'

test_expect_success 'no CI files are written for Jenkins: the report and exit code' '
	! grep "::error" log && ! ls *.env 2>/dev/null
'

test_expect_success 'a failing account: exit 1 and a report that names it' '
	stage AMISHARE_ACCOUNTS="100000000000 222222222222" \
		AMISHARE_OU_ARN= AMISHARE_COMMAND=verify \
		AMISHARE_PROVENANCE_TAGS=false &&
	cat log &&
	test "$(cat code)" = 1 &&
	test "$(json_get amishare-report.json "d[\"status\"]")" = partial &&
	json_get amishare-report.json "sorted(set(r[\"account\"] for r in d[\"results\"] if r[\"status\"] == \"failed\"))" >bad &&
	grep -x "\[.100000000000.\]" bad
'

test_expect_success 'usage errors exit 2 and change nothing' '
	before=$(api_count ModifyImageAttribute) &&
	stage AMISHARE_ACCOUNTS=222222222222 AMISHARE_COMMAND=deploy &&
	test "$(cat code)" = 2 &&
	grep "AMISHARE_COMMAND must be share, plan, verify or revoke, not .deploy." log &&
	stage AMISHARE_ACCOUNTS=222222222222 AMISHARE_PARALLEL=lots &&
	cat log &&
	test "$(cat code)" = 2 &&
	test "$(api_count ModifyImageAttribute)" = "$before"
'

test_expect_success 'without AMISHARE_BIN: builds its own checkout with ci/build.sh' '
	mkdir -p co && cp -R "$TEST_TOP/ci" co/ci &&
	printf "all:\n\tmkdir -p \$(BUILD) && cp fake.sh \$(BUILD)/amishare\n" >co/Makefile &&
	printf "#!/bin/sh\necho \"checkout amishare: \$*\"\n" >co/fake.sh &&
	chmod +x co/fake.sh &&
	JF_SCRIPT=$PWD/co/ci/jenkins/amishare.sh stage AMISHARE_BIN= \
		AMISHARE_COMMAND=plan &&
	cat log &&
	test "$(cat code)" = 0 &&
	test -x co/build/amishare &&
	grep -x "checkout amishare: plan" log
'

test_done
