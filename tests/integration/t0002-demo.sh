#!/usr/bin/env bash
# The README's demo command works as written and tells the truth.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'the demo runs end to end on the bundled emulator' '
	"$TEST_TOP/tests/demo/run" >out 2>&1 &&
	grep "^amishare share: ok: 2 images x 2 accounts: 4 ok, 0 failed" out &&
	grep "^amishare verify: ok: 2 images x 2 accounts: 4 ok" out &&
	grep "\"Value\": \"base-$(date -u +%Y-%m-%d)\"" out &&
	grep "^Done: the AMI is shared and findable by tag" out
'

test_done
