#!/usr/bin/env bash
# The GitHub Action's one step (action.yml maps every input to an
# INPUT_* variable): get an amishare binary, optionally trade GitHub's
# OIDC token for the build-account role, and run amishare with the
# inputs as flags. amishare itself writes the step outputs
# ($GITHUB_OUTPUT), the step summary and the ::error annotations; this
# script only passes flags and amishare's exit code through.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}

fail() { # usage problems in the inputs: exit 2, as amishare does
	echo "::error title=amishare::$*"
	exit 2
}

# 1. The binary: given, else built from the action's checkout or a ref.
bin=${INPUT_BINARY:-}
if [ -z "$bin" ]; then
	src=$(cd "$here/../.." && pwd)
	if [ -n "${INPUT_REF:-}" ]; then
		[ -n "${INPUT_REPOSITORY:-}" ] || fail "ref needs repository"
		src=$tmp/amishare-src
		rm -rf "$src"
		git clone --quiet --depth 1 --branch "$INPUT_REF" \
			"$INPUT_REPOSITORY" "$src"
	fi
	bin=$(AMISHARE_INSTALL_DEPS=${INPUT_INSTALL_DEPS:-true} \
		"$here/../build.sh" "$src" "$tmp/amishare-build")
fi

# 2. Credentials: GitHub's OIDC token for the build account's role
#    (the workflow needs `permissions: id-token: write`). Without
#    role-to-assume, the usual AWS environment is used as it is.
token_file=""
trap '[ -z "$token_file" ] || rm -f "$token_file"' EXIT
if [ -n "${INPUT_ROLE_TO_ASSUME:-}" ]; then
	[ -n "${ACTIONS_ID_TOKEN_REQUEST_URL:-}" ] ||
		fail "role-to-assume needs 'permissions: id-token: write'"
	token_file=$(mktemp "$tmp/amishare-oidc.XXXXXX")
	curl -fsS --retry 3 -G \
		-H "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
		--data-urlencode "audience=${INPUT_AUDIENCE:-sts.amazonaws.com}" \
		"$ACTIONS_ID_TOKEN_REQUEST_URL" |
		sed -n 's/.*"value" *: *"\([^"]*\)".*/\1/p' | tr -d '\n' \
		>"$token_file"
	[ -s "$token_file" ] || fail "no OIDC token from GitHub"
	echo "::add-mask::$(cat "$token_file")"
	export AWS_ROLE_ARN=$INPUT_ROLE_TO_ASSUME
	export AWS_WEB_IDENTITY_TOKEN_FILE=$token_file
	export AWS_ROLE_SESSION_NAME=${AWS_ROLE_SESSION_NAME:-amishare-${GITHUB_RUN_ID:-run}}
fi

# 3. The flags.
mode=${INPUT_MODE:-share}
case $mode in
share | plan | verify | revoke) ;;
*) fail "mode must be share, plan, verify or revoke, not '$mode'" ;;
esac
args=("$mode")
opt() { # --flag VALUE when VALUE is not empty
	if [ -n "$2" ]; then args+=("$1" "$2"); fi
}
flag() { # --flag for true, --no-flag for false, nothing when empty
	case $2 in
	true) args+=("$1") ;;
	false) args+=("--no-${1#--}") ;;
	"") ;;
	*) fail "${1#--} must be true or false, not '$2'" ;;
	esac
}
lines() { # --flag LINE for each non-empty line of VALUE, trimmed
	local line
	while IFS= read -r line; do
		line=${line#"${line%%[![:space:]]*}"}
		line=${line%"${line##*[![:space:]]}"}
		if [ -n "$line" ]; then args+=("$1" "$line"); fi
	done <<<"$2"
}
opt --manifest "${INPUT_MANIFEST:-}"
opt --build "${INPUT_BUILD:-}"
opt --run-uuid "${INPUT_RUN_UUID:-}"
lines --ami "${INPUT_AMI:-}"
lines --accounts "${INPUT_ACCOUNTS:-}"
opt --accounts-file "${INPUT_ACCOUNTS_FILE:-}"
lines --exclude-accounts "${INPUT_EXCLUDE_ACCOUNTS:-}"
lines --org-arn "${INPUT_ORG_ARN:-}"
lines --ou-arn "${INPUT_OU_ARN:-}"
opt --role-name "${INPUT_ROLE_NAME:-}"
opt --role-arn "${INPUT_ROLE_ARN:-}"
opt --external-id "${INPUT_EXTERNAL_ID:-}"
opt --session-name "${INPUT_SESSION_NAME:-}"
lines --tag "${INPUT_TAGS:-}"
lines --include-tags "${INPUT_INCLUDE_TAGS:-}"
lines --exclude-tags "${INPUT_EXCLUDE_TAGS:-}"
flag --copy-tags "${INPUT_COPY_TAGS:-}"
flag --share-snapshots "${INPUT_SHARE_SNAPSHOTS:-}"
flag --preflight "${INPUT_PREFLIGHT:-}"
opt --parallel "${INPUT_PARALLEL:-}"
opt --visibility-wait "${INPUT_VISIBILITY_WAIT:-}"
opt --region "${INPUT_REGION:-}"
opt --report "${INPUT_REPORT:-}"
while IFS= read -r line; do # extra arguments, one per line
	line=${line%$'\r'}
	if [ -n "$line" ]; then args+=("$line"); fi
done <<<"${INPUT_ARGS:-}"

code=0
"$bin" "${args[@]}" || code=$?
exit "$code"
