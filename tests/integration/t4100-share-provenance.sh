#!/usr/bin/env bash
# Provenance travels with the image: tags in every target (commit,
# branch, credential-free repository, dirty state, Packer run), the
# AssumeRole session name carries the short commit (CloudTrail in every
# target shows the build), and the report holds the provenance object.
. "$(dirname "$0")/test-lib.sh"

start_fakeaws
use_account 111111111111
REPO=$TEST_DIR/golden-repo
git init -q -b main "$REPO"
git -C "$REPO" config user.email ci@example.com
git -C "$REPO" config user.name CI
git -C "$REPO" remote add origin https://deploy:s3cr3t-t0ken@git.example.com/platform/golden.git
echo 'build {}' >"$REPO/golden.pkr.hcl"
git -C "$REPO" add golden.pkr.hcl
git -C "$REPO" commit -q -m "golden image"
SHA=$(git -C "$REPO" rev-parse HEAD)
SHORT=$(git -C "$REPO" rev-parse --short HEAD)
(cd "$REPO" && build_golden --regions us-east-1 --name golden --tag Name=golden \
	--manifest manifest.json --run-uuid run-42 --build-name base >/dev/null)
E1=$(ami_of "$REPO/manifest.json" us-east-1)

test_expect_success 'provenance tags land in the target, credentials stripped' '
	(cd "$REPO" && amishare share --accounts 222222222222 \
		--role-name AmishareTagger --report "$TEST_DIR/r.json" \
		--tag "Commit={git.short_commit}" >/dev/null) &&
	awsview tags 222222222222:us-east-1:$E1 >t &&
	tr , "\n" <t >tags &&
	grep -x ".*provenance:commit=$SHA" tags &&
	grep -x "provenance:commit-short=$SHORT" tags &&
	grep -x "provenance:branch=main" tags &&
	grep -x "provenance:repository=https://git.example.com/platform/golden.git" tags &&
	grep -x "provenance:dirty=false" tags &&
	grep -x "provenance:packer-run-uuid=run-42" tags &&
	grep -x "provenance:build-name=base" tags &&
	grep -E "(^| )Commit=$SHORT$" tags &&
	! grep s3cr3t t
'

test_expect_success 'the session name in the target carries the short commit' '
	fakeaws_ctl log --action CreateTags --account 222222222222 >log &&
	grep "assumed-role/AmishareTagger/amishare-$SHORT" log
'

test_expect_success 'the report carries the provenance object, without secrets' '
	test "$(json_get r.json "d[\"provenance\"][\"commit\"]")" = "$SHA" &&
	test "$(json_get r.json "d[\"provenance\"][\"packer\"][\"run_uuid\"]")" = run-42 &&
	! grep s3cr3t r.json
'

test_expect_success 'a dirty tree and a CI run are recorded' '
	echo "# changed" >>"$REPO/golden.pkr.hcl" &&
	(cd "$REPO" && GITHUB_ACTIONS=true GITHUB_SHA=$SHA \
		GITHUB_REF_NAME=release-1 GITHUB_REPOSITORY=platform/golden \
		GITHUB_SERVER_URL=https://github.example.com GITHUB_RUN_ID=77 \
		GITHUB_RUN_ATTEMPT=2 GITHUB_OUTPUT=$TEST_DIR/gh.out \
		amishare share --accounts 333333333333 \
		--role-name AmishareTagger >/dev/null) &&
	awsview tags 333333333333:us-east-1:$E1 >t &&
	tr , "\n" <t >tags &&
	grep -x "provenance:dirty=true" tags &&
	grep -x "provenance:ci-run-url=https://github.example.com/platform/golden/actions/runs/77/attempts/2" tags
'

test_expect_success '--no-provenance-tags writes none' '
	(cd "$REPO" && amishare share --accounts 444444444444 \
		--role-name AmishareTagger --no-provenance-tags >/dev/null) &&
	awsview tags 444444444444:us-east-1:$E1 >t &&
	grep -x "444444444444 us-east-1 $E1 Name=golden" t
'

test_done
