"""Differential test: amishare's SigV4 signer against botocore's SigV4Auth.

A seeded generator builds 1,200 random requests: form bodies and query
strings with random unicode names and values, JSON 1.1 bodies, binary
bodies, random header names and values (runs of white space, duplicates in
mixed case, blacklisted and signer-owned headers), session tokens or not,
regions of all three partitions, the services amishare calls, endpoint
hosts with and without ports (IPv4, IPv6, names in mixed case), and paths
with dot segments, empty segments and percent-escapes.

Each request is signed by botocore (clock fixed by patching
botocore.auth.get_current_datetime) and by amishare through the driver
$AMS_BUILD/tests/tools/sigv4_sign (one process for all requests). The
Authorization headers must be identical. Form bodies are built on the
amishare side by ams_uri_form_add and on the botocore side by
botocore.utils.percent_encode_sequence, so a difference in body encoding
also shows up as a mismatch.

One TAP point per batch of 100 requests plus summary points; the first
mismatches are printed in full (both canonical requests).
"""
import datetime
import json
import os
import random
import subprocess
import sys
import unittest
from unittest import mock
from urllib.parse import quote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode_sequence

SEED = 20250115
COUNT = 1200
BATCH = 100

REGIONS = {
    "aws": ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1",
            "ap-southeast-2", "ap-northeast-1", "sa-east-1", "ca-central-1",
            "me-central-1", "af-south-1", "il-central-1", "mx-central-1"],
    "aws-cn": ["cn-north-1", "cn-northwest-1"],
    "aws-us-gov": ["us-gov-west-1", "us-gov-east-1"],
}
SUFFIX = {"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn",
          "aws-us-gov": "amazonaws.com"}
SERVICES = ["ec2", "sts", "kms", "ssm", "organizations"]
JSON_TARGET = {"kms": "TrentService", "ssm": "AmazonSSM",
               "organizations": "AWSOrganizationsV20161128"}
FORM_VERSION = {"ec2": "2016-11-15", "sts": "2011-06-15"}
BLACKLISTED = ["User-Agent", "Connection", "Expect", "Keep-Alive",
               "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
               "Transfer-Encoding", "Upgrade", "X-Amzn-Trace-Id"]
TCHAR_EXTRA = "!#$%&'*+-.^_`|~"
# White space Python's str.split() (botocore's trimall) and amishare agree on.
WS = [" ", " ", " ", "  ", "   ", "\t", " \t ", "\x0b", "\x0c", "\r\n ",
      "\x1c", "\x1f "]


def driver_path():
    build = os.environ.get("AMS_BUILD") or "build"
    return os.path.join(build, "tests", "tools", "sigv4_sign")


class Gen:
    """Deterministic generator of random requests."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.stats = {}

    def count(self, key):
        self.stats[key] = self.stats.get(key, 0) + 1

    def unicode_text(self, lo=0, hi=12, allow_space=True):
        r = self.r
        out = []
        for _ in range(r.randint(lo, hi)):
            kind = r.random()
            if kind < 0.45:
                c = r.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            elif kind < 0.6:
                c = r.choice("-_.~")
            elif kind < 0.75:
                c = r.choice("!\"#$%&'()*+,/:;<=>?@[\\]^`{|}" +
                             (" " if allow_space else ""))
            elif kind < 0.85:
                c = chr(r.choice([r.randint(0xa1, 0x24f),
                                  r.randint(0x370, 0x3ff),
                                  r.randint(0x4e00, 0x4fff)]))
            elif kind < 0.92:
                c = chr(r.randint(0x1f300, 0x1f64f))
            else:
                c = r.choice(["%2B", "%20", "+", "%", "=", "&"])
            out.append(c)
        return "".join(out)

    def header_value(self):
        r = self.r
        parts = []
        if r.random() < 0.4:
            parts.append(r.choice(WS))
        for _ in range(r.randint(0, 5)):
            word = []
            for _ in range(r.randint(1, 8)):
                if r.random() < 0.9:
                    word.append(chr(r.randint(0x21, 0x7e)))
                else:
                    c = chr(r.choice([r.randint(0xc0, 0x24f),
                                      r.randint(0x4e00, 0x4fff)]))
                    if not c.isspace():
                        word.append(c)
            parts.append("".join(word))
            parts.append(r.choice(WS))
        if parts and r.random() < 0.5:
            parts.pop()
        return "".join(parts)

    def header_name(self):
        r = self.r
        if r.random() < 0.5:
            base = r.choice(["X-Amz-Meta-Build", "X-Custom", "My-Header1",
                             "Accept", "Content-Encoding", "X-Amz-Foo",
                             "Cache-Control", "X-A", "x_b", "A"])
        else:
            alphabet = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789" + TCHAR_EXTRA)
            base = "".join(r.choice(alphabet)
                           for _ in range(r.randint(1, 12)))
        return "".join(c.upper() if r.random() < 0.2 else c for c in base)

    def endpoint(self, service, region, partition):
        r = self.r
        scheme = "https" if r.random() < 0.7 else "http"
        kind = r.random()
        if kind < 0.5:
            host = f"{service}.{region}.{SUFFIX[partition]}"
            if r.random() < 0.1:
                host = host.upper()
            self.count("host:aws")
        elif kind < 0.7:
            host = "127.0.0.1"
            self.count("host:ipv4")
        elif kind < 0.85:
            host = r.choice(["[::1]", "[fd00:ec2::254]", "[::FFFF:7f00:1]"])
            self.count("host:ipv6")
        else:
            host = r.choice(["localhost", "LocalHost", "fake-aws.test",
                             "my_host.internal"])
            self.count("host:name")
        p = r.random()
        if p < 0.4:
            port = ""
        elif p < 0.55:
            port = ":443" if scheme == "https" else ":80"
            self.count("port:default")
        elif p < 0.65:
            port = ":80" if scheme == "https" else ":443"
            self.count("port:other-default")
        else:
            port = ":%d" % r.choice([4566, 8080, 1, 65535,
                                     r.randint(1, 65535)])
            self.count("port:explicit")
        userinfo = "user:pw@" if r.random() < 0.03 else ""
        return f"{scheme}://{userinfo}{host}{port}"

    def path(self):
        r = self.r
        if r.random() < 0.55:
            return r.choice(["", "/"])
        self.count("path")
        segs = []
        for _ in range(r.randint(1, 6)):
            k = r.random()
            if k < 0.15:
                segs.append(r.choice([".", "..", ""]))
                self.count("path:dots")
            elif k < 0.35:
                segs.append(quote(self.unicode_text(1, 6).encode(), safe=""))
            elif k < 0.45:
                segs.append(r.choice(["!$&'()*+,;=:@", "a+b", "%41", "~x"]))
            else:
                segs.append("".join(r.choice("abcxyz019-_.~")
                                    for _ in range(r.randint(1, 6))))
        return "/" + "/".join(segs) + ("/" if r.random() < 0.3 else "")

    def query(self):
        r = self.r
        if r.random() < 0.6:
            return ""
        self.count("query")
        parts = []
        keys = []
        for _ in range(r.randint(1, 8)):
            if keys and r.random() < 0.2:
                key = r.choice(keys)
                self.count("query:dup")
            else:
                key = quote(self.unicode_text(1, 8).encode(), safe="-_.~")
                keys.append(key)
            if r.random() < 0.1:
                parts.append(key)
            else:
                val = quote(self.unicode_text(0, 10).encode(), safe="-_.~")
                parts.append(f"{key}={val}")
        return "?" + "&".join(parts)

    def creds(self):
        r = self.r
        alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        b64 = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
               "0123456789+/")
        token = None
        prefix = "AKIA"
        if r.random() < 0.5:
            prefix = "ASIA"
            token = "".join(r.choice(b64)
                            for _ in range(r.randint(16, 400))) + "=="
            self.count("token")
        akid = prefix + "".join(r.choice(alnum) for _ in range(16))
        secret = "".join(r.choice(b64) for _ in range(40))
        return akid, secret, token

    def request(self, i):
        r = self.r
        service = r.choice(SERVICES)
        partition = r.choices(list(REGIONS), weights=[6, 2, 2])[0]
        region = r.choice(REGIONS[partition])
        self.count("partition:" + partition)
        self.count("service:" + service)
        url = self.endpoint(service, region, partition) + self.path() + \
            self.query()
        headers = []
        line = {"url": url, "region": region, "service": service}
        body = b""
        b = r.random()
        if service in FORM_VERSION and b < 0.8:
            form = [("Action", r.choice(["DescribeImages", "CreateTags",
                                         "AssumeRole"])),
                    ("Version", FORM_VERSION[service])]
            for n in range(r.randint(0, 10)):
                form.append((f"P.{n}." + self.unicode_text(0, 6),
                             self.unicode_text(0, 16)))
            line["form"] = [list(p) for p in form]
            body = percent_encode_sequence(form).encode()
            headers.append(("Content-Type",
                            "application/x-www-form-urlencoded; "
                            "charset=utf-8"))
            self.count("body:form")
        elif service in JSON_TARGET and b < 0.8:
            obj = {self.unicode_text(1, 6): self.unicode_text(0, 20)
                   for _ in range(r.randint(0, 5))}
            text = json.dumps(obj, ensure_ascii=r.random() < 0.5)
            line["body"] = text
            body = text.encode()
            headers.append(("Content-Type", "application/x-amz-json-1.1"))
            headers.append(("X-Amz-Target", JSON_TARGET[service] + "." +
                            r.choice(["CreateGrant", "PutParameter",
                                      "DescribeOrganization"])))
            self.count("body:json")
        elif b < 0.9:
            raw = bytes(r.randint(0, 255) for _ in range(r.randint(1, 64)))
            line["body_hex"] = raw.hex()
            body = raw
            self.count("body:binary")
        else:
            self.count("body:empty")
        for _ in range(r.randint(0, 6)):
            k = r.random()
            if k < 0.12:
                name = r.choice(BLACKLISTED)
                self.count("hdr:blacklisted")
            elif k < 0.2 and headers:
                name = r.choice(headers)[0]
                name = "".join(c.swapcase() if r.random() < 0.5 else c
                               for c in name)
                self.count("hdr:dup")
            elif k < 0.24:
                name = r.choice(["Authorization", "X-Amz-Date",
                                 "X-Amz-Security-Token"])
                self.count("hdr:signer-owned")
            elif k < 0.27:
                name = "Host"
                self.count("hdr:host")
            else:
                name = self.header_name()
            value = self.header_value()
            if name == "Host":
                value = r.choice(["example.amazonaws.com",
                                  "Example.COM:8443", "[::1]:4566"])
            headers.append((name, value))
        if any(h[0].lower() == "host" for h in headers):
            pass
        insert = r.randint(0, len(headers))
        unsigned = r.random() < 0.08
        if unsigned:
            line["payload_hash"] = "UNSIGNED-PAYLOAD"
            line["content_sha256"] = True
            self.count("payload:unsigned")
        elif r.random() < 0.04:
            headers.insert(insert, ("X-Amz-Content-SHA256",
                                    r.choice(["UNSIGNED-PAYLOAD",
                                              "0" * 64])))
            self.count("payload:given-header")
        method = r.choice(["POST"] * 6 + ["GET", "PUT", "DELETE", "post"])
        akid, secret, token = self.creds()
        when = r.randint(946684800, 2082758399)  # 2000 .. 2035
        line.update({"method": method, "headers": [list(h) for h in headers],
                     "time": when, "access_key": akid, "secret_key": secret})
        if token:
            line["token"] = token
        ctx = {"payload_signing_enabled": not unsigned}
        bot = dict(method=method, url=url, headers=headers, body=body,
                   region=region, service=service, when=when, akid=akid,
                   secret=secret, token=token, ctx=ctx)
        return line, bot


def botocore_sign(b):
    req = AWSRequest(method=b["method"], url=b["url"], data=b["body"])
    for name, value in b["headers"]:
        req.headers[name] = value
    req.context.update(b["ctx"])
    auth = SigV4Auth(Credentials(b["akid"], b["secret"], b["token"]),
                     b["service"], b["region"])
    now = datetime.datetime(1970, 1, 1) + \
        datetime.timedelta(seconds=b["when"])
    with mock.patch("botocore.auth.get_current_datetime", return_value=now):
        auth.add_auth(req)
    authz = req.headers["Authorization"]
    del req.headers["Authorization"]
    creq = auth.canonical_request(req)
    return authz, creq


class DifferentialTest(unittest.TestCase):
    results = None

    @classmethod
    def setUpClass(cls):
        gen = Gen(SEED)
        cls.requests = [gen.request(i) for i in range(COUNT)]
        cls.stats = gen.stats
        cls.expected = [botocore_sign(b) for _, b in cls.requests]
        stdin = "".join(json.dumps(line, ensure_ascii=True) + "\n"
                        for line, _ in cls.requests)
        cls.driver_error = None
        try:
            proc = subprocess.run([driver_path(), "--json"], input=stdin,
                                  capture_output=True, text=True,
                                  timeout=300)
            out = proc.stdout.splitlines()
            if proc.returncode or len(out) != COUNT:
                cls.driver_error = "driver exit %d, %d lines: %s" % (
                    proc.returncode, len(out), proc.stderr[-2000:])
            cls.results = [json.loads(o) for o in out]
        except (OSError, subprocess.SubprocessError, ValueError) as e:
            cls.driver_error = "cannot run %s: %s" % (driver_path(), e)
            cls.results = []

    def check_range(self, lo, hi):
        self.assertIsNone(self.driver_error)
        bad = []
        for i in range(lo, hi):
            got = self.results[i]
            want, creq = self.expected[i]
            if got.get("authorization") != want:
                bad.append(i)
        if bad:
            lines = ["%d of %d differ: %s" % (len(bad), hi - lo, bad[:20])]
            for i in bad[:3]:
                got = self.results[i]
                want, creq = self.expected[i]
                lines.append("request %d: %s" % (
                    i, json.dumps(self.requests[i][0], ensure_ascii=True)))
                lines.append("botocore: " + want)
                lines.append("amishare: " + str(got.get("authorization",
                                                        got.get("error"))))
                lines.append("botocore canonical request:")
                lines.extend("  " + l for l in creq.split("\n"))
                lines.append("amishare canonical request:")
                lines.extend("  " + l for l in
                             str(got.get("canonical_request")).split("\n"))
            self.fail("\n".join(lines))

    def test_zz_summary(self):
        """All requests signed identically, and the generator covered
        every feature it is meant to."""
        self.assertIsNone(self.driver_error)
        self.assertGreaterEqual(len(self.results), 1000)
        same = sum(1 for g, (w, _) in zip(self.results, self.expected)
                   if g.get("authorization") == w)
        self.assertEqual(same, COUNT)
        for key in ["token", "query", "query:dup", "path", "path:dots",
                    "host:aws", "host:ipv4", "host:ipv6", "host:name",
                    "port:default", "port:other-default", "port:explicit",
                    "partition:aws", "partition:aws-cn",
                    "partition:aws-us-gov", "body:form", "body:json",
                    "body:binary", "body:empty", "hdr:blacklisted",
                    "hdr:dup", "hdr:signer-owned", "hdr:host",
                    "payload:unsigned", "payload:given-header"] + \
                ["service:" + s for s in SERVICES]:
            self.assertGreaterEqual(self.stats.get(key, 0), 10,
                                    "too few requests with " + key)
        print("# %d requests, all identical; coverage: %s" % (
            COUNT, ", ".join("%s=%d" % kv for kv in sorted(
                self.stats.items()))))

    def test_zz_form_body_matches_botocore_serializer(self):
        """ams_uri_form_add's bodies equal what botocore's Query
        serializer sends, except that botocore writes a space as '+'
        (urlencode) where amishare writes %20 (RFC 3986)."""
        n = 0
        for line, b in self.requests:
            if "form" not in line:
                continue
            pairs = dict((k, v) for k, v in line["form"])
            if len(pairs) != len(line["form"]):
                continue
            sent = AWSRequest(method="POST", url="https://h/",
                              data=pairs).prepare().body
            self.assertEqual(sent.replace("+", "%20").encode(), b["body"])
            n += 1
        self.assertGreaterEqual(n, 100)


def _make_batch(lo, hi):
    def test(self):
        self.check_range(lo, hi)
    test.__doc__ = "requests %d-%d sign identically" % (lo, hi - 1)
    return test


for _lo in range(0, COUNT, BATCH):
    setattr(DifferentialTest, "test_batch_%04d" % _lo,
            _make_batch(_lo, min(_lo + BATCH, COUNT)))


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
    import pytap
    pytap.main()
