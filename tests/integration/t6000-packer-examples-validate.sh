#!/usr/bin/env bash
# The Packer examples (packer-examples/): each directory passes `packer
# validate` with the system's Packer, with nothing fetched from the
# network, and runs amishare from its manifest and shell-local
# post-processors as the README says.
. "$(dirname "$0")/test-lib.sh"

EXAMPLES=$TEST_TOP/packer-examples
export PACKER_CHECKPOINT_DISABLE=1 CHECKPOINT_DISABLE=1
export PACKER_CONFIG_DIR=$TEST_DIR/.packer.d PACKER_CACHE_DIR=$TEST_DIR/.packer-cache

if ! command -v packer >/dev/null; then
	echo "Bail out! packer is not installed (make deps installs it)"
	exit 1
fi

for ex in share-accounts share-ou share-encrypted; do
	test_expect_success "$ex: packer validate accepts it" '
		packer validate "$EXAMPLES/'"$ex"'/" >out 2>&1 || { cat out; false; }
	'
	test_expect_success "$ex: a manifest, then shell-local running amishare" '
		d="$EXAMPLES/'"$ex"'" &&
		test "$(ls "$d")" = "build.pkr.hcl
source.pkr.hcl" &&
		grep -q "^source \"amazon-ebs\" \"golden\" {" "$d/source.pkr.hcl" &&
		grep -q "ami_regions *= var.copy_regions" "$d/source.pkr.hcl" &&
		python3 - "$d/build.pkr.hcl" <<-\PY
		import re, sys
		text = open(sys.argv[1]).read()
		chain = re.search(r"post-processors \{(.*)\n  \}", text, re.S).group(1)
		kinds = re.findall(r"post-processor \"([a-z-]+)\"", chain)
		assert kinds == ["manifest", "shell-local"], kinds
		assert "output     = local.manifest" in chain or \
			"output      = local.manifest" in chain
		cmd = re.search(r"inline = \[\s*\"(.*)\",\s*\]", chain).group(1)
		assert cmd.startswith("${var.amishare} share --manifest ${local.manifest} "), cmd
		assert "--report ${local.report}" in cmd, cmd
		PY
	'
done

test_expect_success 'the examples differ where the README says they do' '
	grep -q -- "--accounts \${join" "$EXAMPLES/share-accounts/build.pkr.hcl" &&
	grep -q -- "--ou-arn \${var.ou_arn} --org-role \${var.org_role}" \
		"$EXAMPLES/share-ou/build.pkr.hcl" &&
	grep -q -- "--share-snapshots --kms-grants" \
		"$EXAMPLES/share-encrypted/build.pkr.hcl" &&
	grep -q "encrypt_boot *= true" "$EXAMPLES/share-encrypted/source.pkr.hcl" &&
	grep -q "region_kms_key_ids *= var.region_kms_key_ids" \
		"$EXAMPLES/share-encrypted/source.pkr.hcl"
'

test_expect_success 'every amishare option the examples pass exists' '
	amishare help share >help &&
	cat "$EXAMPLES"/*/build.pkr.hcl | grep -o -- " --[a-z][a-z-]*" |
		sort -u >used &&
	test -s used &&
	while read -r opt; do
		grep -q -- "$opt " help || { echo "unknown: $opt"; exit 1; }
	done <used
'

test_expect_success 'validate fails on a broken example (the check has teeth)' '
	cp -R "$EXAMPLES/share-ou" broken &&
	sed -i "s/length(var.exclude_accounts)/lenght(var.exclude_accounts)/" \
		broken/build.pkr.hcl &&
	! packer validate broken/ >out 2>&1 &&
	grep "There is no function named \"lenght\"" out
'

test_done
