#!/usr/bin/env bash
# The GitLab template (ci/gitlab): the .amishare job checked structurally,
# then run as a runner runs a job that extends it (template and job
# variables merged and expanded, GitLab's predefined variables, the
# script items in one bash with -eo pipefail) against the emulator; the
# dotenv report is checked against GitLab's rules for dotenv artifacts.
. "$(dirname "$0")/test-lib.sh"

TEMPLATE=$TEST_TOP/ci/gitlab/amishare.gitlab-ci.yml

cat >"$TEST_DIR/glci.py" <<\PY
import json, os, re, subprocess, sys
import yaml

WRAPPER_VARS = {"AMISHARE_COMMAND", "AMISHARE_REPOSITORY", "AMISHARE_REF",
                "AMISHARE_BIN", "AMISHARE_ID_TOKEN"}

def option_vars(help_text):
    names = set(re.findall(r"--([a-z][a-z-]*)", help_text))
    return {"AMISHARE_" + n.upper().replace("-", "_") for n in names}

def check_vars(where, variables, options, problems):
    for k in variables:
        if k.startswith("AMISHARE_") and k not in options | WRAPPER_VARS:
            problems.append("%s: %s is no amishare option" % (where, k))

def check(template, readme, help_text):
    options, problems = option_vars(help_text), []
    doc = yaml.safe_load(open(template))
    job = doc.get(".amishare")
    if not isinstance(job, dict):
        raise SystemExit("no hidden job .amishare")
    for k in doc:
        if not k.startswith("."):
            problems.append("visible job %s would run in every pipeline" % k)
    v = job.get("variables", {})
    check_vars("template", v, options, problems)
    if not all(isinstance(s, str) for s in job.get("script", [None])):
        problems.append("script is not a list of strings")
    art = job.get("artifacts", {})
    if art.get("when") != "always":
        problems.append("artifacts are not kept when the job fails")
    if art.get("reports", {}).get("dotenv") != v.get("AMISHARE_DOTENV"):
        problems.append("artifacts:reports:dotenv is not AMISHARE_DOTENV")
    if v.get("AMISHARE_REPORT") not in art.get("paths", []):
        problems.append("the report is not an artifact")
    tok = job.get("id_tokens", {}).get("AMISHARE_ID_TOKEN", {})
    if tok.get("aud") != "sts.amazonaws.com":
        problems.append("id_tokens AMISHARE_ID_TOKEN lacks aud")
    blocks = re.findall(r"```yaml\n(.*?)```", open(readme).read(), re.S)
    if not blocks:
        problems.append("README has no yaml example")
    for b in blocks:
        ex = yaml.safe_load(b)
        for name, j in ex.items():
            if isinstance(j, dict):
                check_vars("README " + name, j.get("variables", {}),
                           options, problems)
                if j.get("extends") not in (None, ".amishare"):
                    problems.append("README %s extends %s"
                                    % (name, j["extends"]))
    for p in problems:
        print(p)
    return 1 if problems else 0

def expand(value, env):
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
                  lambda m: env.get(m.group(1), ""), str(value))

def run(template, job_vars, workdir):
    job = yaml.safe_load(open(template))[".amishare"]
    env = dict(os.environ)
    env.update({"GITLAB_CI": "true", "CI": "true", "CI_JOB_ID": "7001",
                "CI_PIPELINE_ID": "9001", "CI_PROJECT_DIR": workdir,
                "CI_SERVER_URL": "https://gitlab.example",
                "CI_PROJECT_PATH": "platform/images",
                "CI_COMMIT_REF_NAME": "main",
                "CI_JOB_URL": "https://gitlab.example/platform/images/-/jobs/7001"})
    merged = dict(job.get("variables", {}))
    merged.update(job_vars)
    for k, v in merged.items():
        env[k] = expand(v, env)
    script = "\n".join(job["script"])
    return subprocess.call(["bash", "-eo", "pipefail", "-c", script],
                           env=env, cwd=workdir)

def dotenv(path):
    """GitLab's rules for artifacts:reports:dotenv."""
    data = open(path, "rb").read()
    assert len(data) < 5120, "dotenv file of %d bytes" % len(data)
    lines = data.decode("utf-8").split("\n")
    assert lines[-1] == "", "no final newline"
    lines = lines[:-1]
    assert len(lines) <= 20, "%d variables" % len(lines)
    out = {}
    for line in lines:
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", line)
        assert m, "bad line %r" % line
        assert m.group(2) == m.group(2).strip(), "blanks around %r" % line
        assert not m.group(2)[:1] in ("'", '"'), "quoted %r" % line
        out[m.group(1)] = m.group(2)
    print(json.dumps(out, sort_keys=True))

if __name__ == "__main__":
    if sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], sys.stdin.read()))
    if sys.argv[1] == "run":
        sys.exit(run(sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]))
    dotenv(sys.argv[2])
PY

# gljob VARS_JSON: runs a job extending .amishare in the current
# directory; exit code in code, output in log, dotenv checked into env.json.
gljob() {
	rm -f amishare.env env.json
	code=0
	python3 "$TEST_DIR/glci.py" run "$TEMPLATE" "$1" "$PWD" >log 2>&1 ||
		code=$?
	echo "$code" >code
	if [ -f amishare.env ]; then
		python3 "$TEST_DIR/glci.py" dotenv amishare.env >env.json
	fi
}
dv() { json_get env.json "d[\"AMISHARE_RESULT_$1\"]"; }

start_fakeaws
# The default world, with a gitlab.com OIDC provider and a build-account
# role it may assume for one project's main branch.
fakeaws_ctl world | python3 -c '
import json, sys
w = json.load(sys.stdin)
w["oidc_providers"].append({"url": "https://gitlab.com",
    "audiences": ["sts.amazonaws.com"], "hs256_secret": "gitlab-test-key"})
w["roles"].append({"account": "111111111111", "name": "AmishareGitLab",
    "trusted_accounts": [], "max_session_duration": 3600,
    "web_identity": {"provider": "gitlab.com", "audience": "sts.amazonaws.com",
        "subjects": ["project_path:platform/images:ref_type:branch:ref:main"]}})
json.dump(w, open(sys.argv[1], "w"))' "$TEST_DIR/world.json"
start_fakeaws --world "$TEST_DIR/world.json"
use_account 111111111111
(cd "$TEST_DIR" && build_golden --regions us-east-1,eu-west-1 \
	--name golden --tag Name=golden --manifest packer-manifest.json \
	--run-uuid run-1 --build-name base >/dev/null)
E1=$(ami_of "$TEST_DIR/packer-manifest.json" us-east-1)
W1=$(ami_of "$TEST_DIR/packer-manifest.json" eu-west-1)
gitlab_token() { # SUBJECT
	curl -fsS "$FAKEAWS_URL/_fakeaws/oidc-token" -G \
		--data-urlencode iss=https://gitlab.com \
		--data-urlencode aud=sts.amazonaws.com \
		--data-urlencode "sub=$1" | json_get /dev/stdin 'd["token"]'
}

test_expect_success 'the template and its README example are consistent' '
	amishare help share >help &&
	python3 "$TEST_DIR/glci.py" check "$TEMPLATE" \
		"$TEST_TOP/ci/gitlab/README.md" <help
'

test_expect_success 'share: exit 0, dotenv by GitLab rules, report artifact' '
	gljob "{\"AMISHARE_BIN\": \"$AMS_BIN\",
	        \"AMISHARE_ACCOUNTS\": \"222222222222 333333333333\",
	        \"AMISHARE_ROLE_NAME\": \"AmishareTagger\",
	        \"AMISHARE_PROVENANCE_TAGS\": \"false\",
	        \"AMISHARE_TAG\": \"Approved=true\nPipeline=\$CI_PIPELINE_ID\n\"}" &&
	cat log && cat env.json &&
	test "$(cat code)" = 0 &&
	test "$(dv STATUS)" = ok && test "$(dv COMMAND)" = share &&
	test "$(dv EXIT_CODE)" = 0 && test "$(dv OK)" = 4 &&
	test "$(dv FAILED)" = 0 && test "$(dv ITEMS)" = 4 &&
	test "$(dv AMI_US_EAST_1)" = "$E1" &&
	test "$(dv AMI_EU_WEST_1)" = "$W1" &&
	test "$(dv REPORT)" = amishare-report.json &&
	test "$(json_get env.json "json.loads(d[\"AMISHARE_RESULT_AMIS\"]) == {\"us-east-1\": \"$E1\", \"eu-west-1\": \"$W1\"}")" = True &&
	test "$(json_get amishare-report.json "d[\"status\"]")" = ok &&
	awsview tags 333333333333:eu-west-1:$W1 >t &&
	grep "Approved=true,Name=golden,Pipeline=9001$" t
'

test_expect_success 'no GitHub outputs outside GitHub Actions' '
	! grep "::error" log && ! ls github* 2>/dev/null
'

test_expect_success 'a failing account: exit 1, the dotenv and report still written' '
	gljob "{\"AMISHARE_BIN\": \"$AMS_BIN\", \"AMISHARE_COMMAND\": \"verify\",
	        \"AMISHARE_ACCOUNTS\": \"222222222222,555555555555\",
	        \"AMISHARE_ROLE_NAME\": \"AmishareTagger\",
	        \"AMISHARE_PROVENANCE_TAGS\": \"false\",
	        \"AMISHARE_TAG\": \"Approved=true\"}" &&
	cat log &&
	test "$(cat code)" = 1 &&
	test "$(dv STATUS)" = partial && test "$(dv COMMAND)" = verify &&
	test "$(dv EXIT_CODE)" = 1 && test "$(dv FAILED)" = 2 &&
	test "$(dv OK)" = 2 &&
	test "$(json_get amishare-report.json "d[\"command\"]")" = verify
'

test_expect_success 'OIDC: the job id_token is traded for AWS_ROLE_ARN' '
	token=$(gitlab_token project_path:platform/images:ref_type:branch:ref:main) &&
	mkdir tmp && (
		unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
		TMPDIR=$PWD/tmp gljob "{\"AMISHARE_BIN\": \"$AMS_BIN\",
		    \"AMISHARE_COMMAND\": \"plan\",
		    \"AMISHARE_ACCOUNTS\": \"222222222222\",
		    \"AMISHARE_ROLE_NAME\": \"AmishareTagger\",
		    \"AWS_ROLE_ARN\": \"arn:aws:iam::111111111111:role/AmishareGitLab\",
		    \"AMISHARE_ID_TOKEN\": \"$token\"}"
	) &&
	cat log &&
	test "$(cat code)" = 0 && test "$(dv STATUS)" = ok &&
	json_get amishare-report.json "d[\"source\"][\"arn\"]" >arn &&
	grep "^arn:aws:sts::111111111111:assumed-role/AmishareGitLab/amishare-7001$" arn &&
	test -z "$(ls tmp)" &&
	! grep -rF "$token" amishare-report.json amishare.env log
'

test_expect_success 'OIDC: another project'\''s token is refused' '
	token=$(gitlab_token project_path:other/repo:ref_type:branch:ref:main) &&
	(
		unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
		gljob "{\"AMISHARE_BIN\": \"$AMS_BIN\",
		    \"AMISHARE_ACCOUNTS\": \"222222222222\",
		    \"AMISHARE_ROLE_NAME\": \"AmishareTagger\",
		    \"AWS_ROLE_ARN\": \"arn:aws:iam::111111111111:role/AmishareGitLab\",
		    \"AMISHARE_ID_TOKEN\": \"$token\"}"
	) &&
	cat log &&
	test "$(cat code)" != 0 &&
	grep "AccessDenied" log &&
	! test -f amishare.env
'

test_expect_success 'twelve regions: per-region variables give way, AMIS keeps all' '
	regions=us-east-1,us-east-2,us-west-1,us-west-2,eu-west-1,eu-west-2,eu-west-3,eu-central-1,eu-north-1,ap-southeast-1,ap-southeast-2,ap-northeast-1 &&
	build_golden --regions $regions --name wide --tag Name=wide \
		--manifest wide.json --run-uuid run-w --build-name wide >/dev/null &&
	gljob "{\"AMISHARE_BIN\": \"$AMS_BIN\", \"AMISHARE_COMMAND\": \"plan\",
	        \"AMISHARE_MANIFEST\": \"wide.json\",
	        \"AMISHARE_ACCOUNTS\": \"222222222222\",
	        \"AMISHARE_ROLE_NAME\": \"AmishareTagger\"}" &&
	cat log && cat env.json &&
	test "$(cat code)" = 0 &&
	test "$(json_get env.json "len(json.loads(d[\"AMISHARE_RESULT_AMIS\"]))")" = 12 &&
	test "$(json_get env.json "json.loads(d[\"AMISHARE_RESULT_AMIS\"])[\"ap-northeast-1\"]")" = "$(ami_of wide.json ap-northeast-1)" &&
	test "$(json_get env.json "[k for k in d if \"_AMI_\" in k]")" = "[]" &&
	grep "the 12 AMISHARE_RESULT_AMI_<REGION> variables left out" log
'

test_expect_success 'usage errors exit 2' '
	gljob "{\"AMISHARE_ACCOUNTS\": \"222222222222\"}" &&
	test "$(cat code)" = 2 &&
	grep "set AMISHARE_REPOSITORY (or AMISHARE_BIN)" log &&
	gljob "{\"AMISHARE_BIN\": \"$AMS_BIN\", \"AMISHARE_COMMAND\": \"share\",
	        \"AMISHARE_ACCOUNTS\": \"22222\",
	        \"AMISHARE_ROLE_NAME\": \"AmishareTagger\"}" &&
	test "$(cat code)" = 2 && ! test -f amishare.env
'

test_expect_success 'without AMISHARE_BIN: clones AMISHARE_REPOSITORY, builds, runs' '
	git clone -q --depth 1 "file://$TEST_TOP" repo &&
	rm -rf repo/ci && cp -R "$TEST_TOP/ci" repo/ci &&
	(cd repo && git add -A ci && git -c user.name=t -c user.email=t@t \
		commit -q --allow-empty -m "ci under test" && git branch -f v-test) &&
	gljob "{\"AMISHARE_REPOSITORY\": \"file://$PWD/repo\",
	        \"AMISHARE_REF\": \"v-test\", \"AMISHARE_COMMAND\": \"verify\",
	        \"AMISHARE_ACCOUNTS\": \"222222222222 333333333333\",
	        \"AMISHARE_ROLE_NAME\": \"AmishareTagger\",
	        \"AMISHARE_PROVENANCE_TAGS\": \"false\",
	        \"AMISHARE_TAG\": \"Approved=true\"}" &&
	tail -n 20 log &&
	test "$(cat code)" = 0 && test "$(dv STATUS)" = ok &&
	grep "^amishare 0" log
'

test_done
