#!/usr/bin/env bash
# The Jenkinsfile's one sh step: get an amishare binary and run
# `amishare $AMISHARE_COMMAND`. Every option comes from the pipeline's
# environment as AMISHARE_<OPTION> (amishare reads those itself), the AWS
# credentials from the agent (instance profile, withAWS, a credentials
# binding). The exit code is amishare's: 0 done, 1 something failed or
# drifted, 2 usage or configuration error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command=${AMISHARE_COMMAND:-share}
case $command in
share | plan | verify | revoke) ;;
*)
	echo "amishare: AMISHARE_COMMAND must be share, plan, verify or revoke," \
		"not '$command'" >&2
	exit 2
	;;
esac

bin=${AMISHARE_BIN:-}
if [ -z "$bin" ]; then
	bin=$("$here/../build.sh" "$(cd "$here/../.." && pwd)")
fi
exec "$bin" "$command"
