#!/usr/bin/env bash
# The least-privilege policies of README.md ("Security") are exact: with
# every feature on (OU and organisation expansion, KMS grants, snapshot
# sharing, deprecation, the SSM parameter), plan --preflight, share,
# verify and revoke make each identity call only actions its policy
# allows, and use every action the policy grants.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/lib/faults.sh"

start_fakeaws
use_account 111111111111
cd "$TEST_DIR" || exit 1
new_golden iam --encrypted
curl -s -X POST "$FAKEAWS_URL/_fakeaws/reset-stats" >/dev/null

test_expect_success 'the README policies are valid JSON, one per identity' '
	python3 - "$TEST_TOP/README.md" >policies.json <<-\EOF
	import json, re, sys
	text = open(sys.argv[1]).read()
	out = {}
	for name, body in re.findall(
	        r"<!-- (policy:\w+|trust:\w+) -->\n```json\n(.*?)```", text, re.S):
	    out[name] = json.loads(body)
	json.dump(out, sys.stdout)
	EOF
	test "$(json_get policies.json "sorted(d)")" = \
		"['\''policy:build'\'', '\''policy:org'\'', '\''policy:target'\'', '\''trust:target'\'']"
'

test_expect_success 'every command with every feature, against the emulator' '
	OU=arn:aws:organizations::100000000000:ou/o-amishare01/ou-ams1-prodnest &&
	ORG=arn:aws:organizations::100000000000:organization/o-amishare01 &&
	A="--manifest iam.json --org-role arn:aws:iam::100000000000:role/AmishareOrgReader
	   --role-name AmishareTagger --kms-grants --share-snapshots
	   --ssm-parameter /golden/base/latest --deprecate-at 2030-01-01" &&
	amishare plan $A --ou-arn $OU --accounts 222222222222 --preflight >plan.out 2>err &&
	amishare share $A --ou-arn $OU --accounts 222222222222 >share.out 2>err &&
	amishare verify $A --ou-arn $OU --accounts 222222222222 >out 2>err &&
	amishare revoke $A --ou-arn $OU --accounts 222222222222 >revoke.out 2>err &&
	amishare plan $A --org-arn $ORG --exclude-accounts 100000000000,555555555555 >out 2>err
'

test_expect_success 'the summary says what each command did, or would do' '
	grep "snapshots ok (3 permissions to add)" plan.out &&
	grep "222222222222 ok  .* tags to write, 1 KMS grant to create, parameter to set" plan.out &&
	grep "snapshots ok (3 permissions added)" share.out &&
	grep "222222222222 ok  .* tags written, 1 KMS grant created, parameter set" share.out &&
	grep "snapshots ok (3 permissions removed)" revoke.out &&
	grep "222222222222 ok  .* tags removed, 1 KMS grant revoked, parameter deleted" revoke.out
'

test_expect_success 'each identity used exactly the actions its policy grants' '
	curl -s "$FAKEAWS_URL/_fakeaws/log?limit=100000" >log.json &&
	python3 - policies.json log.json <<-\EOF
	import fnmatch, json, sys
	policies = json.load(open(sys.argv[1]))
	entries = json.load(open(sys.argv[2]))["entries"]
	used = {}
	for e in entries:
	    p = e["principal"] or ""
	    who = ("target" if ":assumed-role/AmishareTagger/" in p else
	           "org" if ":assumed-role/AmishareOrgReader/" in p else
	           "build" if p.endswith(":user/amishare") else None)
	    if who is None:
	        sys.exit("unexpected principal %r" % p)
	    used.setdefault(who, set()).add(
	        "%s:%s" % (e["service"], e["action"]))
	bad = 0
	for who in ("build", "target", "org"):
	    granted = set()
	    for st in policies["policy:" + who]["Statement"]:
	        acts = st["Action"]
	        granted |= set([acts] if isinstance(acts, str) else acts)
	    for a in sorted(used.get(who, ())):
	        if not any(fnmatch.fnmatch(a, g) for g in granted):
	            print("%s called %s, which its policy does not grant" % (who, a))
	            bad += 1
	    for g in sorted(granted):
	        if not any(fnmatch.fnmatch(a, g) for a in used.get(who, ())):
	            print("%s is granted %s, which it never used" % (who, g))
	            bad += 1
	    print(who, sorted(used.get(who, ())))
	sys.exit(bad)
	EOF
'

test_done
