#!/usr/bin/env bash
# The IAM documents the CI READMEs hand out (ci/iam): valid policy JSON,
# and exactly the least privilege amishare needs, no more.
. "$(dirname "$0")/test-lib.sh"

IAM=$TEST_TOP/ci/iam

# actions FILE: "Effect Action Resource" per action, sorted.
actions() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["Version"] == "2012-10-17", d["Version"]
out = []
for s in d["Statement"]:
    acts = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
    res = s.get("Resource", "-")
    for a in acts:
        out.append("%s %s %s" % (s["Effect"], a, res))
print("\n".join(sorted(out)))' "$1"
}

test_expect_success 'every document is a valid policy' '
	for f in "$IAM"/*.json; do actions "$f" >/dev/null || exit 1; done
'

test_expect_success 'build account: read, share, assume the target role, no more' '
	actions "$IAM/build-account-policy.json" >got &&
	cat >want <<-\EOT &&
	Allow ec2:DescribeImageAttribute *
	Allow ec2:DescribeImages *
	Allow ec2:DescribeSnapshotAttribute *
	Allow ec2:ModifyImageAttribute *
	Allow ec2:ModifySnapshotAttribute *
	Allow sts:AssumeRole arn:aws:iam::*:role/AmishareTagger
	Allow sts:GetCallerIdentity *
	EOT
	diff -u want got
'

test_expect_success 'target role: describe, and tag images only' '
	actions "$IAM/target-role-policy.json" >got &&
	printf "%s\n" "Allow ec2:CreateTags arn:aws:ec2:*::image/*" \
		"Allow ec2:DescribeImages *" >want &&
	diff -u want got
'

test_expect_success 'trust policies name the right principal and conditions' '
	json_get "$IAM/target-role-trust.json" "d[\"Statement\"][0][\"Principal\"][\"AWS\"].endswith(\":role/amishare-ci\")" >o &&
	json_get "$IAM/github-oidc-trust.json" "d[\"Statement\"][0][\"Condition\"][\"StringEquals\"] == {\"token.actions.githubusercontent.com:aud\": \"sts.amazonaws.com\", \"token.actions.githubusercontent.com:sub\": \"repo:ORG/REPO:ref:refs/heads/main\"}" >>o &&
	json_get "$IAM/github-oidc-trust.json" "d[\"Statement\"][0][\"Principal\"][\"Federated\"].endswith(\":oidc-provider/token.actions.githubusercontent.com\")" >>o &&
	json_get "$IAM/gitlab-oidc-trust.json" "d[\"Statement\"][0][\"Condition\"][\"StringEquals\"][\"gitlab.com:sub\"].startswith(\"project_path:\")" >>o &&
	json_get "$IAM/gitlab-oidc-trust.json" "d[\"Statement\"][0][\"Action\"] == \"sts:AssumeRoleWithWebIdentity\"" >>o &&
	json_get "$IAM/jenkins-agent-trust.json" "d[\"Statement\"][0][\"Principal\"] == {\"Service\": \"ec2.amazonaws.com\"}" >>o &&
	test "$(sort -u o)" = True
'

test_done
