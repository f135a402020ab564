#!/usr/bin/env bash
# Input selection and validation: the current run's build is picked from
# an accumulated manifest; bad input exits 2 naming the file, field or
# account, reports every problem at once, and sends nothing to AWS.
. "$(dirname "$0")/test-lib.sh"

start_fakeaws
use_account 111111111111
cd "$TEST_DIR" || exit 1
build_golden --regions us-east-1 --name old-build --tag gen=old \
	--manifest manifest.json --run-uuid run-old --build-name base >/dev/null
build_golden --regions us-east-1,us-west-2 --name new-build --tag gen=new \
	--manifest manifest.json --run-uuid run-new --build-name base >/dev/null
build_golden --regions eu-west-1 --name new-gpu --tag gen=gpu \
	--manifest manifest.json --run-uuid run-new --build-name gpu >/dev/null
cd - >/dev/null || exit 1
T="--accounts 222222222222 --role-name AmishareTagger"

test_expect_success 'the last run is chosen, with every build in it' '
	amishare plan $T --output json >p.json &&
	json_get p.json "sorted(i[\"region\"] for i in d[\"inputs\"][\"images\"])" >r &&
	grep -x "\[.eu-west-1., .us-east-1., .us-west-2.\]" r &&
	test "$(json_get p.json "d[\"inputs\"][\"run_uuid\"]")" = run-new
'

test_expect_success 'PACKER_RUN_UUID picks an older run' '
	PACKER_RUN_UUID=run-old amishare plan $T --output json >p.json &&
	json_get p.json "[i[\"region\"] for i in d[\"inputs\"][\"images\"]]" >r &&
	grep -x "\[.us-east-1.\]" r &&
	json_get p.json "d[\"images\"][0][\"tags_written\"][\"gen\"]" >g &&
	grep -x old g
'

test_expect_success '--build and PACKER_BUILD_NAME narrow the run' '
	amishare plan $T --build gpu --output json >p.json &&
	test "$(json_get p.json "len(d[\"inputs\"][\"images\"])")" = 1 &&
	PACKER_BUILD_NAME=base amishare plan $T --output json >p2.json &&
	test "$(json_get p2.json "len(d[\"inputs\"][\"images\"])")" = 2
'

test_expect_success 'packer-manifest.json is found in the working directory' '
	cp manifest.json packer-manifest.json &&
	amishare plan $T --build gpu >out &&
	grep "eu-west-1" out
'

test_expect_success '--ami replaces the manifest' '
	ami=$(ami_of manifest.json eu-west-1) &&
	amishare plan $T --ami eu-west-1:$ami --output json >p.json &&
	test "$(json_get p.json "d[\"inputs\"][\"images\"][0][\"origin\"]")" = --ami
'

check_usage() { # expected-message args...
	want=$1; shift
	before=$(fakeaws_ctl stats | json_get /dev/stdin "d[\"requests\"]")
	test_expect_code 2 amishare share "$@" 2>err || return 1
	grep -F -- "$want" err || { cat err; return 1; }
	after=$(fakeaws_ctl stats | json_get /dev/stdin "d[\"requests\"]")
	test "$before" = "$after" || { echo "AWS was called"; return 1; }
}

test_expect_success 'malformed manifest JSON names the file and byte' '
	printf "{\"builds\": [" >bad.json &&
	check_usage "manifest '\''bad.json'\'': not valid JSON (at byte" \
		--manifest bad.json $T
'

test_expect_success 'no build of the run names what the file holds' '
	check_usage "no build named '\''nope'\'' of run '\''run-new'\''" \
		--manifest manifest.json --build nope $T &&
	grep "'\''gpu'\'' (run run-new)" err
'

test_expect_success 'a non-AMI artifact names the field' '
	cat >docker.json <<-\EOF &&
	{"builds": [{"name": "c", "builder_type": "docker",
	  "artifact_id": "sha256:abc", "packer_run_uuid": "r"}],
	 "last_run_uuid": "r"}
	EOF
	check_usage "manifest '\''docker.json'\'': builds[0].builder_type: '\''docker'\'' does not build AMIs" \
		--manifest docker.json $T
'

test_expect_success 'bad regions and AMI ids name their origin' '
	cat >m2.json <<-\EOF &&
	{"builds": [{"name": "b", "builder_type": "amazon-ebs",
	  "artifact_id": "mars-north-1:ami-0123456789abcdef0,us-east-1:ami-xyz",
	  "packer_run_uuid": "r"}], "last_run_uuid": "r"}
	EOF
	check_usage "builds[0].artifact_id: invalid region '\''mars-north-1'\''" \
		--manifest m2.json $T &&
	grep "builds\[0\].artifact_id" err | grep "ami-xyz"
'

test_expect_success 'every account problem is reported at once' '
	printf "# team A\n444444444444\n12345\n\n222222222222 # dup\n" >accts &&
	check_usage "account 222222222222 is listed twice" \
		--manifest manifest.json --accounts 222222222222,abc \
		--accounts-file accts --role-name R &&
	grep "accounts file '\''accts'\'' line 3" err &&
	grep "accounts file '\''accts'\'' line 5: account 222222222222 is listed twice" err &&
	grep -- "--accounts (option)" err | grep abc &&
	grep "3 problems; nothing was changed" err
'

test_expect_success 'ARNs, roles and tags are checked before any call' '
	check_usage "invalid organizational unit ARN '\''arn:aws:organizations::1:ou/x'\''" \
		--manifest manifest.json --ou-arn arn:aws:organizations::1:ou/x \
		--accounts 222222222222 &&
	grep "needs a role" err &&
	check_usage "--tag '\''x={nope}'\'': unknown placeholder '\''{nope}'\''" \
		--manifest manifest.json $T --tag "x={nope}" &&
	check_usage "reserved" --manifest manifest.json $T --tag aws:x=1
'

test_expect_success 'no targets and public sharing are refused' '
	check_usage "no targets" --manifest manifest.json &&
	check_usage "would make the image public" --manifest manifest.json \
		--accounts all --role-name R
'

test_expect_success 'options come from AMISHARE_* and a config file, flags win' '
	cat >.amishare.json <<-\EOF &&
	{"accounts": ["333333333333"], "role_name": "AmishareTagger",
	 "tag": {"Source": "file"}}
	EOF
	amishare plan --build gpu --output json >p.json &&
	json_get p.json "d[\"inputs\"][\"accounts\"]" | grep -x "\[.333333333333.\]" &&
	AMISHARE_ACCOUNTS=444444444444 amishare plan --build gpu --output json >p.json &&
	json_get p.json "d[\"inputs\"][\"accounts\"]" | grep -x "\[.444444444444.\]" &&
	AMISHARE_ACCOUNTS=444444444444 amishare plan --build gpu \
		--accounts 555555555555 --output json >p.json &&
	json_get p.json "d[\"inputs\"][\"accounts\"]" | grep -x "\[.555555555555.\]" &&
	json_get p.json "d[\"inputs\"][\"tags\"]" | grep "Source.: .file"
'

test_done
