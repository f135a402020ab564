#!/usr/bin/env python3
"""SigV4 verification: AWS's published suite, the reference document's
vectors, botocore's SigV4Auth as an oracle on random requests, and the
signature/credential failures each service reports on the wire."""
import datetime
import hashlib
import http.client
import json
import os
import random
import sys
import unittest
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import (Emulator, BUILD, OUTSIDER, key_of, secret_of,  # noqa
                     error_of, session)

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from emulator import sigv4, httpd  # noqa: E402

SUITE = "/work/shared/testdata/aws-sigv4-test-suite"
E = None


def setUpModule():
    global E
    E = Emulator()


def tearDownModule():
    E.stop()


def parse_raw(raw):
    head, _, body = raw.partition(b"\n\n")
    first = head.split(b"\n")[0].decode("utf-8")
    method, _, rest = first.partition(" ")
    target = rest.rpartition(" ")[0]
    _, _, _, headers = httpd.parse_head(head.replace(b"\n", b"\r\n"))
    path, _, query = target.partition("?")
    hm = {}
    for n, v in headers:
        ln = n.lower()
        hm[ln] = hm[ln] + "," + v if ln in hm else v
    return method, path, query, headers, hm, body


class SuiteVectors(unittest.TestCase):
    def test_every_suite_case_verifies_with_matching_canonical_request(self):
        cases = [c for c in sorted(os.listdir(SUITE))
                 if os.path.isdir(os.path.join(SUITE, c))]
        self.assertGreater(len(cases), 30)
        for case in cases:
            d = os.path.join(SUITE, case)
            ctx = json.load(open(os.path.join(d, "context.json")))
            with open(os.path.join(d, "header-signed-request.txt"),
                      "rb") as f:
                method, path, query, headers, hm, body = parse_raw(f.read())
            pa = sigv4.parse_authorization(hm, query)
            norm = ctx.get("normalize", True)
            creq = sigv4.canonical_request(
                method, path, query, headers, pa.signed,
                hashlib.sha256(body).hexdigest(), norm)
            with open(os.path.join(d, "header-canonical-request.txt")) as f:
                self.assertEqual(creq, f.read(), case)
            sigv4.verify(pa, ctx["credentials"]["secret_access_key"], method,
                         path, query, headers, body, norm)
            with open(os.path.join(d, "header-signature.txt")) as f:
                self.assertEqual(pa.signature, f.read().strip(), case)

    def test_tampered_suite_requests_fail(self):
        d = os.path.join(SUITE, "post-x-www-form-urlencoded")
        with open(os.path.join(d, "header-signed-request.txt"), "rb") as f:
            method, path, query, headers, hm, body = parse_raw(f.read())
        pa = sigv4.parse_authorization(hm, query)
        secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        sigv4.verify(pa, secret, method, path, query, headers, body)
        with self.assertRaises(sigv4.SigError):
            sigv4.verify(pa, secret, method, path, query, headers,
                         body + b"x")
        with self.assertRaises(sigv4.SigError):
            sigv4.verify(pa, secret[:-1] + "Z", method, path, query,
                         headers, body)


DOC_KEY = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


def doc_vector(host, body, token=None, service="ec2"):
    headers = [("Host", host),
               ("Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8"),
               ("X-Amz-Date", "20250115T120000Z")]
    signed = ["content-type", "host", "x-amz-date"]
    if token:
        headers.append(("X-Amz-Security-Token", token))
        signed.append("x-amz-security-token")
    creq = sigv4.canonical_request("POST", "/", "", headers, signed,
                                   hashlib.sha256(body).hexdigest())
    scope = "20250115/us-east-1/%s/aws4_request" % service
    sts = sigv4.string_to_sign("20250115T120000Z", scope, creq)
    sig = sigv4.signature(DOC_KEY[1], "20250115", "us-east-1", service, sts)
    return hashlib.sha256(body).hexdigest(), \
        hashlib.sha256(creq.encode()).hexdigest(), sig


class DocumentVectors(unittest.TestCase):
    def test_vector_a_modify_image_attribute(self):
        body = (b"Action=ModifyImageAttribute&Version=2016-11-15&ImageId=ami-"
                b"0abcdef1234567890&LaunchPermission.Add.1.UserId=11112222333"
                b"3&LaunchPermission.Add.2.OrganizationalUnitArn=arn%3Aaws%3A"
                b"organizations%3A%3A123456789012%3Aou%2Fo-abcde12345%2Fou-ab"
                b"12-34cd56ef")
        self.assertEqual(len(body), 247)
        bh, ch, sig = doc_vector("ec2.us-east-1.amazonaws.com", body)
        self.assertEqual(bh, "846166e185ef519d6cd2045efe2784cd6777d616dde4"
                             "07f9c3f89b2a9aecb1e6")
        self.assertEqual(ch, "41ac9f5b1b0bd553958588e4f47bbdf9c03ce4c8390a"
                             "389197d154cd2072cfa7")
        self.assertEqual(sig, "e4278cde1ad72c693767c6921450bc8e874ed81ec619"
                              "cd9cc8b0ab693e9d2e89")

    def test_vector_b_create_tags_with_session_token(self):
        body = (b"Action=CreateTags&Version=2016-11-15&ResourceId.1=ami-0abc"
                b"def1234567890&Tag.1.Key=Name&Tag.1.Value=golden%20base%202"
                b"025-01&Tag.2.Key=team&Tag.2.Value=")
        bh, ch, sig = doc_vector("ec2.us-east-1.amazonaws.com", body,
                                 token="FQoGZXIvYXdzEXAMPLETOKEN")
        self.assertEqual(bh, "7a04c2e9da98f1d6851194475e47534a5aa3d88f4aea"
                             "b970c3d13a61b574eb87")
        self.assertEqual(ch, "a2eeacdae7e8d90a2584efdb0b8c21283779faa1d7b0"
                             "64ec983c2952da002cf8")
        self.assertEqual(sig, "e6164d4831f585ae2a24ef1a6ddea99ae330b97e9fd4"
                              "7c942cced122e438d3cd")

    def test_vector_c_assume_role(self):
        body = (b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Ai"
                b"am%3A%3A444455556666%3Arole%2Fami-publisher&RoleSessionNam"
                b"e=ci-build-42&DurationSeconds=3600&ExternalId=ext-123&Tags"
                b".member.1.Key=project&Tags.member.1.Value=ami&TransitiveTa"
                b"gKeys.member.1=project")
        bh, ch, sig = doc_vector("sts.us-east-1.amazonaws.com", body,
                                 service="sts")
        self.assertEqual(bh, "44c01a54a4363ec3f707727b8df57c0f13976180bd76"
                             "1fb0d345aa37bc489295")
        self.assertEqual(ch, "dbcab692ce6e9ab647241e30a73ef2e3d0f906c9bbe1"
                             "e30b41f303ee27da6b9b")
        self.assertEqual(sig, "c7dcace5b45c7814a613e0569f0843bf86d03b558d6f"
                              "ef65a35b14d9d0623207")


def random_request(rng):
    """A random request signed by botocore; returns the parts as they
    would arrive on the wire."""
    alphabet = "abcXYZ019-_.~ !*'()/%+=&:@,;$\u00e9\u4e2d"
    method = rng.choice(["GET", "POST"])
    segs = ["".join(rng.choice(alphabet.replace("/", "").replace("%", ""))
                    for _ in range(rng.randint(0, 6)))
            for _ in range(rng.randint(0, 3))]
    path = "/" + "/".join(quote(s, safe="") for s in segs)
    params = []
    for _ in range(rng.randint(0, 4)):
        params.append((
            "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5))),
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))))
    query = "&".join("%s=%s" % (quote(k, safe="-_.~"), quote(v, safe="-_.~"))
                     for k, v in params)
    url = "https://example.amazonaws.com" + path + ("?" + query
                                                    if query else "")
    headers = {"X-Custom-%d" % i: "  a   b  %d " % rng.randint(0, 99)
               for i in range(rng.randint(0, 3))}
    body = b""
    if method == "POST":
        body = "".join(rng.choice(alphabet) for _ in range(
            rng.randint(0, 40))).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    token = "tok" + str(rng.randint(0, 10 ** 9)) if rng.random() < .3 \
        else None
    creds = Credentials("AKIDEXAMPLE", "secret/+" + str(rng.random()), token)
    req = AWSRequest(method=method, url=url, data=body, headers=headers)
    region = rng.choice(["us-east-1", "eu-west-1", "ap-southeast-2"])
    service = rng.choice(["ec2", "sts", "kms", "ssm"])
    SigV4Auth(creds, service, region).add_auth(req)
    hdrs = [("Host", "example.amazonaws.com")]
    hdrs += [(k, v) for k, v in req.headers.items()]
    return method, path, query, hdrs, body, creds.secret_key


class BotocoreOracle(unittest.TestCase):
    def test_random_requests_signed_by_botocore_verify(self):
        rng = random.Random(1234)
        for i in range(400):
            method, path, query, hdrs, body, secret = random_request(rng)
            hm = {}
            for n, v in hdrs:
                hm[n.lower()] = v
            pa = sigv4.parse_authorization(hm, query)
            try:
                sigv4.verify(pa, secret, method, path, query, hdrs, body)
            except sigv4.SigError as e:
                self.fail("case %d %s %s?%s: %s" % (i, method, path, query,
                                                   e))

    def test_random_mutations_are_rejected(self):
        rng = random.Random(99)
        for i in range(200):
            method, path, query, hdrs, body, secret = random_request(rng)
            hm = {n.lower(): v for n, v in hdrs}
            pa = sigv4.parse_authorization(hm, query)
            which = i % 3
            if which == 0:
                body = body + b"!"
            elif which == 1:
                query = (query + "&" if query else "") + "extra=1"
            else:
                hdrs = [(n, v + "x") if n.lower() == "x-amz-date" else (n, v)
                        for n, v in hdrs]
                pa.amz_date = pa.amz_date
            with self.assertRaises(sigv4.SigError, msg="case %d" % i):
                sigv4.verify(pa, secret, method, path, query, hdrs, body)


def send(method, body, headers, path="/"):
    conn = http.client.HTTPConnection("127.0.0.1", E.port, timeout=10)
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data


def signed(service, body, access, secret, token=None, region="us-east-1",
           when=None, extra=None, host=None):
    headers = {"Content-Type":
               "application/x-www-form-urlencoded; charset=utf-8"}
    headers.update(extra or {})
    req = AWSRequest(method="POST", url=E.endpoint + "/", data=body,
                     headers=headers)
    auth = SigV4Auth(Credentials(access, secret, token), service, region)
    if when is not None:
        class Fixed(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return when

            @classmethod
            def now(cls, tz=None):
                return when.replace(tzinfo=tz) if tz else when
        import botocore.auth as ba
        old = ba.datetime.datetime
        ba.datetime.datetime = Fixed
        try:
            auth.add_auth(req)
        finally:
            ba.datetime.datetime = old
    else:
        auth.add_auth(req)
    h = dict(req.headers.items())
    if host:
        h["Host"] = host
    return h


EC2_BODY = "Action=DescribeRegions&Version=2016-11-15"
STS_BODY = "Action=GetCallerIdentity&Version=2011-06-15"


def code_of(data):
    s = data.decode()
    if s.lstrip().startswith("{"):
        return json.loads(s)["__type"]
    return s.split("<Code>")[1].split("</Code>")[0]


class WireFailures(unittest.TestCase):
    def test_good_signature_accepted_by_every_service(self):
        for svc, body, extra in (
                ("ec2", EC2_BODY, None), ("sts", STS_BODY, None),
                ("kms", "{}", {"X-Amz-Target": "TrentService.ListKeys",
                               "Content-Type":
                               "application/x-amz-json-1.1"})):
            h = signed(svc, body, key_of(BUILD), secret_of(BUILD),
                       extra=extra)
            st, _, data = send("POST", body, h)
            self.assertEqual(st, 200, (svc, data))

    def test_wrong_secret(self):
        for svc, body, extra, want in (
                ("ec2", EC2_BODY, None, ("SignatureDoesNotMatch", 403)),
                ("sts", STS_BODY, None, ("SignatureDoesNotMatch", 403)),
                ("ssm", "{}", {"X-Amz-Target": "AmazonSSM.DescribeParameters",
                               "Content-Type": "application/x-amz-json-1.1"},
                 ("InvalidSignatureException", 400))):
            h = signed(svc, body, key_of(BUILD), "wrong", extra=extra)
            st, hd, data = send("POST", body, h)
            self.assertEqual((code_of(data), st), want, svc)

    def test_error_envelopes_by_protocol(self):
        h = signed("ec2", EC2_BODY, key_of(BUILD), "wrong")
        st, hd, data = send("POST", EC2_BODY, h)
        s = data.decode()
        self.assertIn("<Response><Errors><Error><Code>", s)
        self.assertIn("<RequestID>", s)
        h = signed("sts", STS_BODY, key_of(BUILD), "wrong")
        st, hd, data = send("POST", STS_BODY, h)
        s = data.decode()
        self.assertIn('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/'
                      '2011-06-15/">', s)
        self.assertIn("<Type>Sender</Type>", s)
        self.assertIn("<RequestId>", s)
        extra = {"X-Amz-Target": "TrentService.ListKeys",
                 "Content-Type": "application/x-amz-json-1.1"}
        h = signed("kms", "{}", key_of(BUILD), "wrong", extra=extra)
        st, hd, data = send("POST", "{}", h)
        doc = json.loads(data)
        self.assertEqual(doc["__type"], "InvalidSignatureException")
        self.assertIn("message", doc)
        self.assertIn("x-amzn-requestid", hd)

    def test_unknown_access_key(self):
        for svc, body, want in (("ec2", EC2_BODY, ("AuthFailure", 401)),
                                ("sts", STS_BODY,
                                 ("InvalidClientTokenId", 403))):
            h = signed(svc, body, "AKIAFAKE999999999999", "x")
            st, _, data = send("POST", body, h)
            self.assertEqual((code_of(data), st), want)

    def test_clock_skew_beyond_15_minutes(self):
        when = datetime.datetime.utcnow() - datetime.timedelta(minutes=16)
        h = signed("ec2", EC2_BODY, key_of(BUILD), secret_of(BUILD),
                   when=when)
        st, _, data = send("POST", EC2_BODY, h)
        self.assertEqual((code_of(data), st), ("RequestExpired", 400))
        h = signed("sts", STS_BODY, key_of(BUILD), secret_of(BUILD),
                   when=when)
        st, _, data = send("POST", STS_BODY, h)
        self.assertEqual((code_of(data), st), ("SignatureDoesNotMatch", 403))
        self.assertIn("Signature expired", data.decode())
        # 14 minutes is inside the window
        when = datetime.datetime.utcnow() - datetime.timedelta(minutes=14)
        h = signed("ec2", EC2_BODY, key_of(BUILD), secret_of(BUILD),
                   when=when)
        self.assertEqual(send("POST", EC2_BODY, h)[0], 200)

    def test_temporary_credentials_need_their_token(self):
        ak, sk, tok = E.assume("222222222222")
        h = signed("ec2", EC2_BODY, ak, sk)          # no token
        st, _, data = send("POST", EC2_BODY, h)
        self.assertEqual((code_of(data), st), ("AuthFailure", 401))
        h = signed("ec2", EC2_BODY, ak, sk, token=tok + "x")
        st, _, data = send("POST", EC2_BODY, h)
        self.assertEqual((code_of(data), st), ("AuthFailure", 401))
        h = signed("sts", STS_BODY, ak, sk)
        st, _, data = send("POST", STS_BODY, h)
        self.assertEqual((code_of(data), st), ("InvalidClientTokenId", 403))
        h = signed("ec2", EC2_BODY, ak, sk, token=tok)
        self.assertEqual(send("POST", EC2_BODY, h)[0], 200)

    def test_expired_temporary_credentials(self):
        ak, sk, tok = E.assume("333333333333", DurationSeconds=900)
        try:
            E.advance(901)
            h = signed("ec2", EC2_BODY, ak, sk, token=tok,
                       when=datetime.datetime.utcnow() +
                       datetime.timedelta(seconds=901))
            st, _, data = send("POST", EC2_BODY, h)
            self.assertEqual((code_of(data), st), ("RequestExpired", 400))
            h = signed("sts", STS_BODY, ak, sk, token=tok,
                       when=datetime.datetime.utcnow() +
                       datetime.timedelta(seconds=901))
            st, _, data = send("POST", STS_BODY, h)
            self.assertEqual((code_of(data), st), ("ExpiredToken", 403))
            extra = {"X-Amz-Target": "TrentService.ListKeys",
                     "Content-Type": "application/x-amz-json-1.1"}
            h = signed("kms", "{}", ak, sk, token=tok, extra=extra,
                       when=datetime.datetime.utcnow() +
                       datetime.timedelta(seconds=901))
            st, _, data = send("POST", "{}", h)
            self.assertEqual((code_of(data), st),
                             ("ExpiredTokenException", 400))
        finally:
            E.advance(-901)

    def test_missing_authentication(self):
        st, _, data = send("POST", EC2_BODY, {
            "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((code_of(data), st),
                         ("MissingAuthenticationToken", 401))
        st, _, data = send("POST", STS_BODY, {
            "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((code_of(data), st),
                         ("MissingAuthenticationToken", 403))

    def test_scope_must_name_the_service_and_a_valid_region(self):
        extra = {"X-Amz-Target": "TrentService.ListKeys",
                 "Content-Type": "application/x-amz-json-1.1"}
        h = signed("ssm", "{}", key_of(BUILD), secret_of(BUILD), extra=extra)
        st, _, data = send("POST", "{}", h)
        self.assertEqual(code_of(data), "InvalidSignatureException")
        self.assertIn("Credential should be scoped to correct service",
                      data.decode())
        h = signed("ec2", EC2_BODY, key_of(BUILD), secret_of(BUILD),
                   region="moon-base-1")
        st, _, data = send("POST", EC2_BODY, h)
        self.assertEqual((code_of(data), st), ("SignatureDoesNotMatch", 403))
        self.assertIn("valid region", data.decode())

    def test_host_header_is_part_of_the_signature(self):
        h = signed("ec2", EC2_BODY, key_of(BUILD), secret_of(BUILD))
        h["Host"] = "127.0.0.1:%d" % (E.port + 1)
        st, _, data = send("POST", EC2_BODY, h)
        self.assertEqual((code_of(data), st), ("SignatureDoesNotMatch", 403))

    def test_get_query_string_form(self):
        q = "Action=DescribeRegions&Version=2016-11-15&RegionName.1=eu-west-1"
        req = AWSRequest(method="GET", url=E.endpoint + "/?" + q)
        SigV4Auth(Credentials(key_of(BUILD), secret_of(BUILD)), "ec2",
                  "us-east-1").add_auth(req)
        st, _, data = send("GET", None, dict(req.headers.items()),
                           path="/?" + q)
        self.assertEqual(st, 200, data)
        self.assertIn(b"<regionName>eu-west-1</regionName>", data)

    def test_presigned_query_authentication(self):
        from botocore.auth import SigV4QueryAuth
        q = "Action=DescribeRegions&Version=2016-11-15&RegionName.1=eu-west-1"
        req = AWSRequest(method="GET", url=E.endpoint + "/?" + q)
        SigV4QueryAuth(Credentials(key_of(BUILD), secret_of(BUILD)), "ec2",
                       "us-east-1", expires=60).add_auth(req)
        path = req.url[len(E.endpoint):]
        st, _, data = send("GET", None, {}, path=path)
        self.assertEqual(st, 200, data)
        st, _, data = send("GET", None, {}, path=path.replace(
            "eu-west-1", "eu-west-2"))
        self.assertEqual((code_of(data), st), ("SignatureDoesNotMatch", 403))

    def test_web_identity_is_the_only_unsigned_call(self):
        body = ("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn="
                "arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2FAmishareCI&"
                "RoleSessionName=x1&WebIdentityToken=" +
                E.admin("POST", "oidc-token", {})["token"])
        st, _, data = send("POST", body, {
            "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(st, 200, data)
        self.assertIn(b"<AssumeRoleWithWebIdentityResult>", data)

    def test_outsider_account_signs_fine(self):
        c = E.client("sts", OUTSIDER)
        self.assertEqual(c.get_caller_identity()["Account"], OUTSIDER)


if __name__ == "__main__":
    import pytap
    pytap.main()
