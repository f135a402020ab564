#!/usr/bin/env bash
# The command line: version, help, dispatch and usage errors.
. "$(dirname "$0")/test-lib.sh"

test_expect_success '--version names the program and its libraries' '
	amishare --version >out &&
	grep -E "^amishare [0-9]+\.[0-9]+\.[0-9]+$" out &&
	grep -E "^libcurl .*libxml2 .*libgit2 " out
'

test_expect_success '--help lists the commands on stdout' '
	amishare --help >out &&
	grep "^usage: amishare" out &&
	grep -E "^   version " out
'

test_expect_success 'help <command> shows that command' '
	amishare help version >out &&
	grep "usage: amishare version" out
'

test_expect_success 'no command is a usage error (exit 2)' '
	test_expect_code 2 amishare 2>err &&
	grep "^usage: amishare" err
'

test_expect_success 'an unknown command exits 2 with a one-line reason' '
	test_expect_code 2 amishare frobnicate 2>err &&
	grep -x "amishare: error: unknown command '\''frobnicate'\''" err
'

test_expect_success 'an unknown global option exits 2' '
	test_expect_code 2 amishare --frob 2>err &&
	grep "unknown option" err
'

test_expect_success 'help for an unknown command exits 2' '
	test_expect_code 2 amishare help frobnicate 2>err &&
	grep "unknown command" err
'

test_done
