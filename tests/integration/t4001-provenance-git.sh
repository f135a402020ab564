#!/usr/bin/env bash
# amishare provenance: git facts read with libgit2 from repositories
# built here with the git command line, CI variables, and the in-toto
# statement checked field by field with Python's json module.
. "$(dirname "$0")/test-lib.sh"

# Nothing from the machine running the tests: no CI, no Packer, no git
# configuration.
for v in $(env | sed -n 's/^\(\(GITHUB\|GITLAB\|CI\|AMISHARE_CI\|JENKINS\|BUILD\|JOB\|GIT\|CHANGE\|BRANCH\|TAG_NAME\|PACKER\|RUNNER\)[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset "$v"
done
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME='A U Thor' \
	GIT_AUTHOR_EMAIL=author@example.com GIT_COMMITTER_NAME='C O Mitter' \
	GIT_COMMITTER_EMAIL=committer@example.com \
	GIT_COMMITTER_DATE=2015-08-30T12:36:00Z \
	GIT_AUTHOR_DATE=2015-08-30T12:36:00Z

# jget FILE PATH: prints the JSON value at a path like a.b[0].c (strings
# bare, anything else as JSON); exits 1 when the path is absent.
cat >"$TEST_DIR/jget" <<'EOF'
#!/usr/bin/env python3
import json, re, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
for key, idx in re.findall(r"([^.\[\]]+)|\[(\d+)\]", sys.argv[2]):
    try:
        doc = doc[int(idx)] if idx else doc[key]
    except (KeyError, IndexError, TypeError):
        sys.exit(1)
print(doc if isinstance(doc, str) else json.dumps(doc))
EOF
chmod +x "$TEST_DIR/jget"
jget() { "$TEST_DIR/jget" "$@"; }
expect() { # expect WANT GOT
	if [ "$1" != "$2" ]; then
		echo "expected '$1', got '$2'" >&2
		return 1
	fi
}

git init -q -b main "$TEST_DIR/repo"
(
	cd "$TEST_DIR/repo" &&
	echo a >file && git add file && git commit -q -m one &&
	git tag -a -m release v1.0 &&
	echo b >>file && git commit -q -am two &&
	git remote add origin 'https://x-access-token:ghs_SeCrEtToKeN@github.com/org/repo.git' &&
	mkdir -p sub/dir
) >/dev/null
HEAD=$(git -C "$TEST_DIR/repo" rev-parse HEAD)
PREV=$(git -C "$TEST_DIR/repo" rev-parse HEAD~1)
SHORT=$(git -C "$TEST_DIR/repo" rev-parse --short HEAD)

test_expect_success 'help provenance describes the command' '
	amishare help provenance >out &&
	grep "^usage: amishare provenance \[--repo PATH\]" out &&
	grep -- "--no-dirty-check" out &&
	amishare --help >out &&
	grep -E "^   provenance " out
'

test_expect_success 'the statement is in-toto v1 with SLSA provenance v1' '
	amishare provenance --repo repo --ami us-east-1:ami-0123456789abcdef0 \
		--ami=cn-north-1:ami-12345678 >st.json &&
	expect https://in-toto.io/Statement/v1 "$(jget st.json _type)" &&
	expect https://slsa.dev/provenance/v1 "$(jget st.json predicateType)" &&
	expect arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0 \
		"$(jget st.json "subject[0].name")" &&
	expect ami-0123456789abcdef0 "$(jget st.json "subject[0].digest.amiId")" &&
	expect us-east-1 "$(jget st.json "subject[0].annotations.region")" &&
	expect arn:aws-cn:ec2:cn-north-1::image/ami-12345678 \
		"$(jget st.json "subject[1].name")" &&
	expect cn-north-1 "$(jget st.json "subject[1].annotations.region")" &&
	! jget st.json "subject[2]" &&
	expect "[\"us-east-1\", \"cn-north-1\"]" \
		"$(jget st.json predicate.buildDefinition.externalParameters.regions)"
'

test_expect_success 'git facts: commit, short commit, branch, tag, clean' '
	amishare provenance --repo repo >st.json &&
	p=predicate.buildDefinition &&
	expect "$HEAD" "$(jget st.json $p.internalParameters.git.commit)" &&
	expect "$SHORT" "$(jget st.json $p.internalParameters.git.shortCommit)" &&
	expect 2015-08-30T12:36:00Z \
		"$(jget st.json $p.internalParameters.git.commitTime)" &&
	expect two "$(jget st.json $p.internalParameters.git.subject)" &&
	expect main "$(jget st.json $p.internalParameters.git.branch)" &&
	expect v1.0 "$(jget st.json $p.internalParameters.git.tag)" &&
	expect 1 "$(jget st.json $p.internalParameters.git.tagDistance)" &&
	expect clean "$(jget st.json $p.internalParameters.git.dirty)" &&
	expect "$HEAD" "$(jget st.json "$p.resolvedDependencies[0].digest.gitCommit")" &&
	expect "git+https://github.com/org/repo.git@refs/heads/main" \
		"$(jget st.json "$p.resolvedDependencies[0].uri")"
'

test_expect_success 'the remote token never reaches any output' '
	amishare provenance --repo repo >st.json 2>err &&
	amishare provenance --repo repo --output text >sum.txt 2>>err &&
	! grep -r "SeCrEtToKeN\|x-access-token" st.json sum.txt err &&
	grep "^remote  *https://github.com/org/repo.git (from git)$" sum.txt
'

test_expect_success 'the repository is found from a subdirectory' '
	(cd repo/sub/dir && amishare provenance) >st.json &&
	expect "$HEAD" "$(jget st.json predicate.buildDefinition.internalParameters.git.commit)"
'

test_expect_success 'dirty: a modified tracked file, not an untracked one' '
	echo untracked >repo/new-file &&
	amishare provenance --repo repo --output text >sum.txt &&
	grep "^work tree  *clean$" sum.txt &&
	echo change >>repo/file &&
	amishare provenance --repo repo --output text >sum.txt &&
	grep "^work tree  *dirty$" sum.txt &&
	amishare provenance --repo repo --no-dirty-check --output text >sum.txt &&
	grep "^work tree  *unknown (not checked)$" sum.txt &&
	git -C repo checkout -q -- file && rm repo/new-file
'

test_expect_success 'exactly at a tag' '
	git -C repo checkout -q --detach v1.0 &&
	amishare provenance --repo repo --output text >sum.txt &&
	git -C repo checkout -q main &&
	grep "^tag  *v1.0 (HEAD is at the tag)$" sum.txt &&
	grep "^branch  *none: HEAD is detached$" sum.txt
'

test_expect_success 'GitHub Actions: detached HEAD takes the CI branch' '
	git -C repo checkout -q --detach HEAD &&
	GITHUB_ACTIONS=true GITHUB_SHA=$HEAD GITHUB_REF=refs/heads/release \
	GITHUB_REF_NAME=release GITHUB_REPOSITORY=org/repo \
	GITHUB_SERVER_URL=https://github.com GITHUB_RUN_ID=77 \
	GITHUB_RUN_ATTEMPT=2 \
	GITHUB_WORKFLOW_REF=org/repo/.github/workflows/ami.yml@refs/heads/release \
		amishare provenance --repo repo >st.json &&
	git -C repo checkout -q main &&
	expect "git+https://github.com/org/repo.git@refs/heads/release" \
		"$(jget st.json "predicate.buildDefinition.resolvedDependencies[0].uri")" &&
	expect release "$(jget st.json predicate.buildDefinition.internalParameters.ci.branch)" &&
	expect https://github.com/org/repo/.github/workflows/ami.yml@refs/heads/release \
		"$(jget st.json predicate.runDetails.builder.id)" &&
	expect https://github.com/org/repo/actions/runs/77/attempts/2 \
		"$(jget st.json predicate.runDetails.metadata.invocationId)" &&
	! jget st.json predicate.buildDefinition.internalParameters.warnings
'

test_expect_success 'GitLab CI: branch and job URL' '
	git -C repo checkout -q --detach HEAD &&
	GITLAB_CI=true CI_COMMIT_SHA=$HEAD CI_COMMIT_REF_NAME=develop \
	CI_COMMIT_BRANCH=develop CI_JOB_URL=https://gl.example/g/p/-/jobs/5 \
	CI_SERVER_URL=https://gl.example \
		amishare provenance --repo repo --output text >sum.txt &&
	git -C repo checkout -q main &&
	grep "^branch  *develop (from ci)$" sum.txt &&
	grep "^ci  *gitlab-ci$" sum.txt
'

test_expect_success 'Jenkins: origin/ is stripped from GIT_BRANCH' '
	git -C repo checkout -q --detach HEAD &&
	JENKINS_URL=https://ci.example/ GIT_COMMIT=$HEAD \
	GIT_BRANCH=origin/hotfix BUILD_URL=https://ci.example/job/ami/3/ \
		amishare provenance --repo repo --output text >sum.txt &&
	git -C repo checkout -q main &&
	grep "^branch  *hotfix (from ci)$" sum.txt &&
	grep "^ci  *jenkins, run https://ci.example/job/ami/3/$" sum.txt
'

test_expect_success 'a CI commit that differs from HEAD is a warning' '
	GITHUB_ACTIONS=true GITHUB_SHA=$PREV \
		amishare provenance --repo repo >st.json &&
	jget st.json "predicate.buildDefinition.internalParameters.warnings[0]" >w &&
	grep "$HEAD" w && grep "$PREV" w && grep GITHUB_SHA w &&
	expect "$HEAD" "$(jget st.json predicate.buildDefinition.internalParameters.git.commit)" &&
	GITHUB_ACTIONS=true GITHUB_SHA=$PREV \
		amishare provenance --repo repo --output text >sum.txt &&
	grep "^warning  *git HEAD $HEAD differs" sum.txt
'

test_expect_success 'Packer variables become external parameters' '
	PACKER_BUILD_NAME=golden PACKER_BUILDER_TYPE=amazon-ebs \
	PACKER_RUN_UUID=6f1c2c52-0000-4000-8000-000000000001 \
		amishare provenance --repo repo >st.json &&
	expect golden "$(jget st.json predicate.buildDefinition.externalParameters.packer.buildName)" &&
	expect amazon-ebs "$(jget st.json predicate.buildDefinition.externalParameters.packer.builderType)" &&
	expect 6f1c2c52-0000-4000-8000-000000000001 \
		"$(jget st.json predicate.buildDefinition.internalParameters.packer.runUuid)"
'

test_expect_success 'no repository is reported, exit 0' '
	mkdir -p plain &&
	amishare provenance --repo plain >st.json &&
	expect no-repository "$(jget st.json predicate.buildDefinition.internalParameters.git.state)" &&
	! jget st.json predicate.buildDefinition.resolvedDependencies &&
	amishare provenance --repo plain --output text >sum.txt &&
	grep "^git  *no git repository at or above" sum.txt
'

test_expect_success 'an unborn HEAD is reported, exit 0' '
	git init -q -b trunk unborn &&
	amishare provenance --repo unborn >st.json &&
	expect unborn "$(jget st.json predicate.buildDefinition.internalParameters.git.state)" &&
	expect trunk "$(jget st.json predicate.buildDefinition.internalParameters.git.branch)"
'

test_expect_success 'an unreadable repository exits 1 with the reason' '
	git clone -q repo broken &&
	h=$(git -C broken rev-parse HEAD) &&
	rm -f broken/.git/objects/$(echo $h | cut -c1-2)/$(echo $h | cut -c3-) &&
	test_expect_code 1 amishare provenance --repo broken >out 2>err &&
	test ! -s out &&
	grep "^amishare: error: cannot read the HEAD commit of" err
'

test_expect_success 'usage errors exit 2 with one line' '
	for args in "--ami us-east-1" "--ami moon:ami-12345678" \
		"--ami us-east-1:ami-XYZ" "--output xml" "--frob" "extra" \
		"--repo" "--repo does-not-exist"; do
		test_expect_code 2 amishare provenance $args >out 2>err &&
		test ! -s out &&
		test "$(grep -c "^amishare: error: " err)" = 1 || exit 1
	done
'

test_done
