#!/usr/bin/env bash
# The GitHub Action (ci/github): action.yml checked structurally, then run
# the way the runner runs a composite action (inputs and expressions
# evaluated into the step's env, the run script executed by bash with
# GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and GITHUB_ACTION_PATH set, step
# outputs read back with the runner's file rules) against the emulator.
. "$(dirname "$0")/test-lib.sh"

ACTION=$TEST_TOP/ci/github

# A composite-action runner in miniature. Supports the expressions the
# action uses (inputs.*, github.*, steps.<id>.outputs.*) and fails on any
# other, so the action cannot grow one this test does not understand.
cat >"$TEST_DIR/gha.py" <<\PY
import json, os, re, subprocess, sys, tempfile
import yaml

EXPR = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")

def evaluate(text, ctx):
    def one(m):
        parts = m.group(1).split(".")
        if parts[0] == "inputs" and len(parts) == 2:
            return ctx["inputs"][parts[1]]
        if parts[0] == "github" and len(parts) == 2:
            return ctx["github"][parts[1]]
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return ctx["steps"].get(parts[1], {}).get(parts[3], "")
        raise SystemExit("unsupported expression: " + m.group(0))
    return EXPR.sub(one, str(text))

def read_outputs(path):
    """GITHUB_OUTPUT as the runner reads it."""
    out, lines = {}, open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        eq, hd = line.find("="), line.find("<<")
        if eq >= 0 and (hd < 0 or eq < hd):
            out[line[:eq]] = line[eq + 1:]
            continue
        if hd < 0:
            raise SystemExit("invalid GITHUB_OUTPUT line: %r" % line)
        name, delim, val = line[:hd], line[hd + 2:], []
        while i < len(lines) and lines[i] != delim:
            val.append(lines[i])
            i += 1
        if i == len(lines):
            raise SystemExit("unterminated heredoc for %s" % name)
        i += 1
        out[name] = "\n".join(val)
    return out

def run(action_dir, given, result_path):
    act = yaml.safe_load(open(os.path.join(action_dir, "action.yml")))
    ctx = {"github": {"server_url": "https://github.com",
                      "action_repository": "amishare/amishare",
                      "action_path": action_dir},
           "inputs": {}, "steps": {}}
    for name, spec in act["inputs"].items():
        ctx["inputs"][name] = evaluate(spec.get("default", ""), ctx)
    for name, value in given.items():
        if name not in act["inputs"]:
            raise SystemExit("no input named " + name)
        ctx["inputs"][name] = value
    code = 0
    for step in act["runs"]["steps"]:
        env = dict(os.environ)
        env["GITHUB_ACTION_PATH"] = action_dir
        fd, out = tempfile.mkstemp(prefix="github_output.")
        os.close(fd)
        env["GITHUB_OUTPUT"] = out
        for k, v in (step.get("env") or {}).items():
            env[k] = evaluate(v, ctx)
        assert step["shell"] == "bash"
        script = evaluate(step["run"], ctx)
        code = subprocess.call(["bash", "--noprofile", "--norc", "-eo",
                                "pipefail", "-c", script], env=env)
        ctx["steps"][step["id"]] = read_outputs(out)
        os.unlink(out)
        if code:
            break
    outputs = {k: evaluate(v["value"], ctx) for k, v in act["outputs"].items()}
    json.dump({"exit": code, "steps": ctx["steps"], "outputs": outputs},
              open(result_path, "w"), indent=1, sort_keys=True)
    return code

def check(action_dir):
    """Structure: the contract between action.yml and run.sh."""
    act = yaml.safe_load(open(os.path.join(action_dir, "action.yml")))
    problems = []
    for key in ("name", "description", "inputs", "outputs", "runs"):
        if key not in act:
            problems.append("missing " + key)
    runs = act["runs"]
    if runs.get("using") != "composite":
        problems.append("runs.using is not composite")
    script = open(os.path.join(action_dir, "run.sh")).read()
    used = set(re.findall(r"\bINPUT_[A-Z_]+", script))
    mapped, referenced = set(), set()
    for step in runs["steps"]:
        if step.get("shell") != "bash":
            problems.append("step without shell: bash")
        if "${{" in step.get("run", ""):
            problems.append("expression inside run: (script injection)")
        if "$GITHUB_ACTION_PATH/run.sh" not in step.get("run", ""):
            problems.append("step does not call run.sh")
        for k, v in (step.get("env") or {}).items():
            m = re.fullmatch(r"\$\{\{ inputs\.([a-z-]+) \}\}", str(v))
            if not m:
                problems.append("env %s is not one input" % k)
                continue
            referenced.add(m.group(1))
            if k != "INPUT_" + m.group(1).upper().replace("-", "_"):
                problems.append("env %s carries input %s" % (k, m.group(1)))
            mapped.add(k)
    for name, spec in act["inputs"].items():
        if not spec.get("description"):
            problems.append("input %s has no description" % name)
        if name not in referenced:
            problems.append("input %s reaches no step" % name)
    for v in sorted(used - mapped):
        problems.append("run.sh reads %s, which no input sets" % v)
    for v in sorted(mapped - used):
        problems.append("%s is set but run.sh never reads it" % v)
    for name, spec in act["outputs"].items():
        if not re.fullmatch(r"\$\{\{ steps\.amishare\.outputs\.[a-z_]+ \}\}",
                            spec.get("value", "")):
            problems.append("output %s is not a step output" % name)
    for p in problems:
        print(p)
    return 1 if problems else 0

if __name__ == "__main__":
    if sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    sys.exit(run(sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]))
PY

# gha INPUTS_JSON [ACTION_DIR]: runs the action; result in result.json
# (its exit code in "exit"), the summary in summary.md, the step's stdout
# and stderr in log.
gha() {
	: >summary.md
	rm -f result.json
	GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$PWD/summary.md \
		RUNNER_TEMP=$PWD GITHUB_RUN_ID=4242 \
		python3 "$TEST_DIR/gha.py" run "${2:-$ACTION}" "$1" result.json \
		>log 2>&1
	test -s result.json || { cat log; return 1; }
}
out() { json_get result.json "d[\"steps\"][\"amishare\"][\"$1\"]"; }
aout() { json_get result.json "d[\"outputs\"][\"$1\"]"; }

start_fakeaws
use_account 111111111111
(cd "$TEST_DIR" && build_golden --regions us-east-1,eu-west-1 \
	--name golden --tag Name=golden --manifest packer-manifest.json \
	--run-uuid run-1 --build-name base >/dev/null)
E1=$(ami_of "$TEST_DIR/packer-manifest.json" us-east-1)
W1=$(ami_of "$TEST_DIR/packer-manifest.json" eu-west-1)
BIN=$AMS_BIN

test_expect_success 'action.yml is a composite action wired to run.sh' '
	python3 "$TEST_DIR/gha.py" check "$ACTION" &&
	test -x "$ACTION/run.sh" &&
	shellcheck "$ACTION/run.sh" "$TEST_TOP/ci/build.sh"
'

test_expect_success 'share: exit 0, step outputs, action outputs' '
	gha "{\"binary\": \"$BIN\", \"accounts\": \"222222222222, 333333333333\",
	      \"role-name\": \"AmishareTagger\",
	      \"tags\": \"  Approved=true\n\nOwner=platform team\n\",
	      \"args\": \"--no-provenance-tags\"}" &&
	cat log &&
	test "$(json_get result.json "d[\"exit\"]")" = 0 &&
	test "$(out status)" = ok &&
	test "$(out exit_code)" = 0 &&
	test "$(out ami_us_east_1)" = "$E1" &&
	test "$(out ami_eu_west_1)" = "$W1" &&
	test "$(out ok)" = 4 && test "$(out failed)" = 0 &&
	test "$(out report)" = amishare-report.json &&
	test "$(json_get result.json "json.loads(d[\"steps\"][\"amishare\"][\"amis\"]) == {\"us-east-1\": \"$E1\", \"eu-west-1\": \"$W1\"}")" = True &&
	test "$(aout status)" = ok &&
	test "$(aout exit-code)" = 0 &&
	test "$(aout report)" = amishare-report.json &&
	test "$(json_get result.json "json.loads(d[\"outputs\"][\"amis\"])[\"eu-west-1\"]")" = "$W1" &&
	test "$(json_get amishare-report.json "d[\"status\"]")" = ok &&
	! grep "::error" log
'

test_expect_success 'every action output is one amishare writes' '
	json_get result.json "sorted(k for k, v in d[\"outputs\"].items() if v == \"\")" >empty &&
	test "$(cat empty)" = "[]"
'

test_expect_success 'the targets see the tags the inputs gave' '
	awsview tags 222222222222:us-east-1:$E1 333333333333:eu-west-1:$W1 >t &&
	test "$(grep -c "Approved=true,Name=golden,Owner=platform team$" t)" = 2
'

test_expect_success 'the step summary is a table per region and account' '
	cat summary.md &&
	grep "^### amishare share: ok$" summary.md &&
	grep "^| Region | AMI | Account | Status | Tags written | Error | Detail |$" summary.md &&
	test "$(grep -c "| \(222222222222\|333333333333\) | ok | " summary.md)" = 4
'

test_expect_success 'a failing account: exit 1, ::error lines, failed rows first' '
	gha "{\"binary\": \"$BIN\", \"mode\": \"share\",
	      \"accounts\": \"100000000000\n222222222222\",
	      \"role-name\": \"AmishareTagger\", \"report\": \"r2.json\"}" &&
	cat log &&
	test "$(json_get result.json "d[\"exit\"]")" = 1 &&
	test "$(out status)" = partial &&
	test "$(out exit_code)" = 1 &&
	test "$(out failed)" = 2 && test "$(out ok)" = 2 &&
	test "$(aout status)" = partial && test "$(aout failed)" = 2 &&
	grep "^::error title=amishare share%3A 100000000000 in us-east-1::assume-role: AccessDenied: " log &&
	grep "^::error title=amishare share%3A 100000000000 in eu-west-1::assume-role: AccessDenied: " log &&
	test "$(grep -c "^::error" log)" = 2 &&
	grep "^### amishare share: partial$" summary.md &&
	grep -n "| 100000000000 | \*\*failed\*\* | 0 | AccessDenied | assume-role: " summary.md >failed &&
	grep -n "| 222222222222 | ok | " summary.md >ok &&
	test "$(tail -n1 failed | cut -d: -f1)" -lt "$(head -n1 ok | cut -d: -f1)"
'

test_expect_success 'OIDC: role-to-assume trades the GitHub token for the role' '
	(
		unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
		export ACTIONS_ID_TOKEN_REQUEST_URL="$FAKEAWS_URL/_actions/token?api-version=2.0" &&
		export ACTIONS_ID_TOKEN_REQUEST_TOKEN=fakeaws-actions-request-token &&
		gha "{\"binary\": \"$BIN\", \"mode\": \"verify\",
		      \"accounts\": \"222222222222,333333333333\",
		      \"role-name\": \"AmishareTagger\", \"report\": \"v.json\",
		      \"tags\": \"Approved=true\nOwner=platform team\",
		      \"args\": \"--no-provenance-tags\",
		      \"role-to-assume\": \"arn:aws:iam::111111111111:role/AmishareCI\"}"
	) &&
	cat log &&
	test "$(json_get result.json "d[\"exit\"]")" = 0 &&
	test "$(out status)" = ok &&
	json_get v.json "d[\"source\"][\"arn\"]" >arn &&
	grep "^arn:aws:sts::111111111111:assumed-role/AmishareCI/amishare-4242$" arn &&
	token=$(sed -n "s/^::add-mask:://p" log) && test -n "$token" &&
	! grep -rF "$token" v.json summary.md result.json &&
	! ls amishare-oidc.* 2>/dev/null
'

test_expect_success 'revoke undoes the share, and says so' '
	gha "{\"binary\": \"$BIN\", \"mode\": \"revoke\",
	      \"accounts\": \"222222222222,333333333333\",
	      \"role-name\": \"AmishareTagger\",
	      \"tags\": \"Approved=true\nOwner=platform team\",
	      \"args\": \"--no-provenance-tags\"}" &&
	cat log &&
	test "$(json_get result.json "d[\"exit\"]")" = 0 &&
	test "$(out command)" = revoke && test "$(aout status)" = ok &&
	grep "^### amishare revoke: ok$" summary.md &&
	grep "| Launch permission | Removed | Error | Detail |$" summary.md &&
	grep "| Tags removed |" summary.md &&
	awsview tags 222222222222:us-east-1:$E1 >t &&
	grep "not-visible" t
'

test_expect_success 'OIDC without id-token permission is a usage error (2)' '
	gha "{\"binary\": \"$BIN\", \"accounts\": \"222222222222\",
	      \"role-name\": \"AmishareTagger\",
	      \"role-to-assume\": \"arn:aws:iam::111111111111:role/AmishareCI\"}" &&
	test "$(json_get result.json "d[\"exit\"]")" = 2 &&
	grep "^::error title=amishare::role-to-assume needs .permissions: id-token: write." log
'

test_expect_success 'bad inputs exit 2 before anything runs' '
	gha "{\"binary\": \"$BIN\", \"mode\": \"deploy\"}" &&
	test "$(json_get result.json "d[\"exit\"]")" = 2 &&
	grep "mode must be share, plan, verify or revoke, not .deploy." log &&
	gha "{\"binary\": \"$BIN\", \"share-snapshots\": \"yes\"}" &&
	test "$(json_get result.json "d[\"exit\"]")" = 2 &&
	grep "share-snapshots must be true or false, not .yes." log &&
	gha "{\"binary\": \"$BIN\", \"accounts\": \"222222222222\"}" &&
	test "$(json_get result.json "d[\"exit\"]")" = 2 &&
	test "$(json_get result.json "d[\"steps\"][\"amishare\"]")" = "{}"
'

# A copy of the repository as GitHub checks an action out: committed
# sources, with this working tree's ci/ on top.
make_checkout() {
	git clone -q --depth 1 "file://$TEST_TOP" "$1" &&
	rm -rf "$1/ci" && cp -R "$TEST_TOP/ci" "$1/ci"
}

test_expect_success 'without binary: builds the action checkout, then runs' '
	make_checkout checkout &&
	gha "{\"mode\": \"plan\", \"accounts\": \"222222222222\",
	      \"role-name\": \"AmishareTagger\", \"install-deps\": \"false\"}" \
		"$PWD/checkout/ci/github" &&
	test "$(json_get result.json "d[\"exit\"]")" = 0 &&
	test -x amishare-build/amishare &&
	grep "^amishare 0" log &&
	test "$(out command)" = plan && test "$(out status)" = ok
'

test_expect_success 'ref: fetches that ref of repository and builds it' '
	mkdir fake && (
		cd fake && git init -q -b v9 &&
		printf "all:\n\tmkdir -p \$(BUILD) && cp fake.sh \$(BUILD)/amishare\n" >Makefile &&
		printf "#!/bin/sh\necho \"fake amishare from ref v9: \$*\"\n" >fake.sh &&
		chmod +x fake.sh && git add . &&
		git -c user.name=t -c user.email=t@t commit -q -m fake
	) &&
	gha "{\"mode\": \"verify\", \"ref\": \"v9\",
	      \"repository\": \"file://$PWD/fake\", \"accounts\": \"222222222222\"}" &&
	grep "^fake amishare from ref v9: verify --accounts 222222222222 --report amishare-report.json$" log &&
	test -d amishare-src/.git
'

test_done
