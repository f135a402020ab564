#!/usr/bin/env bash
# What is written: tag filters, --no-copy-tags, placeholders, and
# snapshot sharing (createVolumePermission for accounts only).
. "$(dirname "$0")/test-lib.sh"

start_fakeaws
use_account 111111111111
cd "$TEST_DIR" || exit 1
build_golden --regions us-east-1 --name golden --tag Name=golden \
	--tag team=platform --tag team-secret=s3cr --tag cost-center=42 \
	--manifest manifest.json --run-uuid run-7 --build-name base \
	--custom-data os=al2023 >/dev/null
cd - >/dev/null || exit 1
E1=$(ami_of "$TEST_DIR/manifest.json" us-east-1)
R="--role-name AmishareTagger --no-provenance-tags"

test_expect_success 'include and exclude globs select the copied tags' '
	amishare share --accounts 222222222222 $R --include-tags "team*,Name" \
		--exclude-tags "*secret*" >/dev/null &&
	awsview tags 222222222222:us-east-1:$E1 >t &&
	grep -x "222222222222 us-east-1 $E1 Name=golden,team=platform" t
'

test_expect_success '--no-copy-tags writes only what was asked' '
	amishare share --accounts 333333333333 $R --no-copy-tags \
		--tag Approved=yes >/dev/null &&
	awsview tags 333333333333:us-east-1:$E1 >t &&
	grep -x "333333333333 us-east-1 $E1 Approved=yes" t
'

test_expect_success 'placeholders expand from the build and the date' '
	amishare share --accounts 444444444444 $R --no-copy-tags \
		--tag "Run={packer.run_uuid}" --tag "Os={custom.os}" \
		--tag "Built={build.name}@{date}" --tag "Lit={{x}}" >/dev/null &&
	awsview tags 444444444444:us-east-1:$E1 >t &&
	today=$(date -u +%Y-%m-%d) &&
	grep -x "444444444444 us-east-1 $E1 Built=base@$today,Lit={x},Os=al2023,Run=run-7" t
'

test_expect_success 'the owner'\''s tags are untouched by the targets'\'' writes' '
	awsview tags 111111111111:us-east-1:$E1 >t &&
	grep -x "111111111111 us-east-1 $E1 Name=golden,cost-center=42,team-secret=s3cr,team=platform" t
'

test_expect_success '--share-snapshots grants createVolumePermission' '
	amishare share --accounts 222222222222,333333333333 $R \
		--share-snapshots --report r.json >/dev/null &&
	snap=$(json_get r.json "d[\"images\"][0][\"snapshots\"][0]") &&
	test -n "$snap" &&
	awsview snapperms 111111111111:us-east-1:$snap >p &&
	grep -x "111111111111 us-east-1 $snap 222222222222,333333333333" p &&
	test "$(json_get r.json "d[\"images\"][0][\"snapshot_share\"]")" = ok
'

test_expect_success 'snapshot sharing converges too' '
	before=$(api_count ModifySnapshotAttribute) &&
	amishare share --accounts 222222222222,333333333333 $R \
		--share-snapshots >/dev/null &&
	test "$(api_count ModifySnapshotAttribute)" = "$before"
'

test_done
