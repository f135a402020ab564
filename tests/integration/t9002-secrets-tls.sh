#!/usr/bin/env bash
# TLS verification cannot be turned off: the code only ever turns peer
# and host verification on, no option or variable turns them off, and an
# endpoint with a certificate nobody vouches for fails with a clear error
# before any request is made.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_TOP/tests/lib/faults.sh"

test_expect_success 'the code sets TLS peer and host verification on, only on' '
	cd "$TEST_TOP" &&
	grep -rn "CURLOPT_SSL_VERIFY\|CURLOPT_PROXY_SSL_VERIFY\|SSL_VERIFYSTATUS" \
		src cmd >"$TEST_DIR/verify" &&
	cat "$TEST_DIR/verify" &&
	grep -q "CURLOPT_SSL_VERIFYPEER, 1L)" "$TEST_DIR/verify" &&
	grep -q "CURLOPT_SSL_VERIFYHOST, 2L)" "$TEST_DIR/verify" &&
	test "$(grep -c . "$TEST_DIR/verify")" = 2 &&
	! grep -rn "CURLSSLOPT_NO_REVOKE\|CURLSSLOPT_ALLOW_BEAST\|SSL_VERIFY_NONE\|ssl_verify\|no.verify\|insecure" \
		src cmd &&
	"$AMS_BIN" help share >"$TEST_DIR/help" &&
	! grep -i "insecure\|no-verify\|verify-ssl\|ssl" "$TEST_DIR/help"
'

start_fakeaws --tls --ca-file "$TEST_DIR/ca.pem"
use_account 111111111111
export AWS_CA_BUNDLE=$TEST_DIR/ca.pem
cd "$TEST_DIR" || exit 1
new_golden tls
unset AWS_CA_BUNDLE

test_expect_success 'a self-signed endpoint without AWS_CA_BUNDLE fails clearly, before any request' '
	before=$(AWS_CA_BUNDLE=$TEST_DIR/ca.pem calls GetCallerIdentity) &&
	test_expect_code 1 amishare share --manifest tls.json \
		--accounts 222222222222 --role-name AmishareTagger \
		--report r.json >out 2>err &&
	cat err &&
	grep -i "certificate" err &&
	grep "GetCallerIdentity" err &&
	! grep "GetCallerIdentity.*GetCallerIdentity" err &&
	test "$(AWS_CA_BUNDLE=$TEST_DIR/ca.pem calls GetCallerIdentity)" = "$before" &&
	test "$(AWS_CA_BUNDLE=$TEST_DIR/ca.pem write_calls)" = 0
'

test_expect_success 'an empty AWS_CA_BUNDLE does not turn verification off' '
	AWS_CA_BUNDLE= test_expect_code 1 amishare share --manifest tls.json \
		--accounts 222222222222 --role-name AmishareTagger >out 2>err &&
	grep -i "certificate" err
'

test_expect_success 'a CA bundle that does not vouch for the endpoint fails' '
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout other.key -out other.pem -days 1 -subj /CN=other \
		2>/dev/null &&
	AWS_CA_BUNDLE=$PWD/other.pem test_expect_code 1 amishare share \
		--manifest tls.json --accounts 222222222222 \
		--role-name AmishareTagger >out 2>err &&
	grep -i "certificate" err
'

test_expect_success 'an unreadable AWS_CA_BUNDLE is a usage error, not a fallback' '
	AWS_CA_BUNDLE=$PWD/missing.pem test_expect_code 2 amishare share \
		--manifest tls.json --accounts 222222222222 \
		--role-name AmishareTagger >out 2>err &&
	grep AWS_CA_BUNDLE err
'

test_expect_success 'with the CA that signed it, the same run works' '
	export AWS_CA_BUNDLE=$TEST_DIR/ca.pem &&
	amishare share --manifest tls.json --accounts 222222222222 \
		--role-name AmishareTagger --report r.json >out 2>err &&
	check_report r.json 0 --status ok
'

test_done
