#!/usr/bin/env bash
# share, plan and verify end to end: a golden AMI in two regions, shared
# with accounts and an OU, tagged in every target; checked from the
# targets' side with botocore, rerun makes no writes, drift is found.
. "$(dirname "$0")/test-lib.sh"

start_fakeaws
use_account 111111111111
OU=arn:aws:organizations::100000000000:ou/o-amishare01/ou-ams1-prodnest
(cd "$TEST_DIR" && build_golden --regions us-east-1,eu-west-1 \
	--name golden-base --tag Name=golden --tag team=platform \
	--manifest manifest.json --run-uuid run-1 --build-name base >/dev/null)
E1=$(ami_of "$TEST_DIR/manifest.json" us-east-1)
W1=$(ami_of "$TEST_DIR/manifest.json" eu-west-1)
set -- --accounts 222222222222,333333333333 --ou-arn "$OU" \
	--role-name AmishareTagger --tag 'Build={build.name}' --no-provenance-tags
ARGS=("$@")

test_expect_success 'targets see nothing before the share' '
	awsview tags 222222222222:us-east-1:$E1 >out &&
	grep "not-visible" out
'

test_expect_success 'plan lists the writes and makes none' '
	amishare plan "${ARGS[@]}" >plan.out &&
	grep "to add: user:222222222222 user:333333333333 ou:$OU" plan.out &&
	grep -c "3 tags to write" plan.out >n && test "$(cat n)" = 4 &&
	test "$(api_count ModifyImageAttribute)" = 0 &&
	test "$(api_count CreateTags 222222222222)" = 0
'

test_expect_success 'share exits 0 and reports ok' '
	amishare share "${ARGS[@]}" --report report.json >out &&
	grep "^amishare share: ok: 2 images x 2 accounts: 4 ok" out &&
	test "$(json_get report.json "d[\"status\"]")" = ok &&
	test "$(json_get report.json "d[\"summary\"][\"ok\"]")" = 4 &&
	test "$(json_get report.json "d[\"schema_version\"]")" = 1 &&
	test "$(json_get report.json "d[\"inputs\"][\"run_uuid\"]")" = run-1
'

test_expect_success 'the report is private to its owner' '
	test "$(stat -c %a report.json)" = 600
'

test_expect_success 'launch permissions hold the accounts and the OU' '
	awsview perms 111111111111:us-east-1:$E1 111111111111:eu-west-1:$W1 >out &&
	grep -x "111111111111 us-east-1 $E1 ou:$OU,user:222222222222,user:333333333333" out &&
	grep -x "111111111111 eu-west-1 $W1 ou:$OU,user:222222222222,user:333333333333" out
'

test_expect_success 'every target sees its tags in every region' '
	awsview tags 222222222222:us-east-1:$E1 333333333333:us-east-1:$E1 \
		222222222222:eu-west-1:$W1 333333333333:eu-west-1:$W1 >out &&
	test "$(grep -c "Build=base,Name=golden,team=platform$" out)" = 4
'

test_expect_success 'an OU member sees the image, but untagged: not asked' '
	awsview tags 444444444444:us-east-1:$E1 555555555555:us-east-1:$E1 >out &&
	grep -x "444444444444 us-east-1 $E1 (no tags)" out &&
	grep -x "555555555555 us-east-1 $E1 not-visible" out
'

test_expect_success 'a rerun converges with zero writes' '
	before_ct=$(api_count CreateTags) &&
	before_mia=$(api_count ModifyImageAttribute) &&
	amishare share "${ARGS[@]}" --report again.json >out &&
	test "$(json_get again.json "d[\"summary\"][\"writes\"]")" = 0 &&
	test "$(api_count CreateTags)" = "$before_ct" &&
	test "$(api_count ModifyImageAttribute)" = "$before_mia" &&
	grep -c "3 tags already there" out >n && test "$(cat n)" = 4
'

test_expect_success 'progress: plain lines in logs, one live line on a TTY' '
	amishare verify "${ARGS[@]}" >out 2>err &&
	grep -x "amishare: progress: 4/4 done (100%), 0 failed" err &&
	python3 -c "
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.environ.pop(\"CI\", None)
    os.execvp(sys.argv[1], sys.argv[1:])
out = b\"\"
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors=\"replace\"))
" "$AMS_BIN" verify "${ARGS[@]}" >tty.out &&
	grep -a "amishare: 4/4 done, 0 failed" tty.out &&
	! grep -a "progress:" tty.out
'

test_expect_success 'verify passes after share' '
	amishare verify "${ARGS[@]}" >out &&
	grep "^amishare verify: ok" out
'

test_expect_success 'verify finds a tag removed in one target (exit 1)' '
	awsview untag 333333333333:eu-west-1:$W1:team >/dev/null &&
	test_expect_code 1 amishare verify "${ARGS[@]}" --output json >v.json &&
	test "$(json_get v.json "d[\"status\"]")" = partial &&
	json_get v.json "[(r[\"account\"], r[\"region\"], r[\"error\"][\"step\"]) for r in d[\"results\"] if r[\"status\"] != \"ok\"]" >bad &&
	grep -x "\[(.333333333333., .eu-west-1., .verify.)\]" bad
'

test_expect_success 'share repairs the drift with one write' '
	before=$(api_count CreateTags 333333333333) &&
	amishare share "${ARGS[@]}" >out &&
	test "$(api_count CreateTags 333333333333)" = $((before + 1)) &&
	awsview tags 333333333333:eu-west-1:$W1 >out &&
	grep "Build=base,Name=golden,team=platform$" out
'

test_expect_success 'verify finds an account that was never shared' '
	test_expect_code 1 amishare verify "${ARGS[@]}" \
		--accounts 555555555555 >out &&
	grep "drift: 1 launch permission missing (user:555555555555)" out &&
	grep "555555555555 failed   describe-images: InvalidAMIID.NotFound" out
'

test_done
