#!/usr/bin/env python3
"""Wire protocols: EC2 query, STS query and JSON 1.1 response shapes,
request validation errors, and the HTTP/1.1 details (keep-alive,
Expect: 100-continue, chunked bodies, pipelining, Connection: close)."""
import http.client
import json
import os
import socket
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import Emulator, BUILD, key_of, secret_of, error_of  # noqa

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

E = None
EC2NS = "{http://ec2.amazonaws.com/doc/2016-11-15/}"


def setUpModule():
    global E
    E = Emulator()


def tearDownModule():
    E.stop()


def raw_call(service, body, extra=None, method="POST"):
    headers = {"Content-Type":
               "application/x-www-form-urlencoded; charset=utf-8"}
    headers.update(extra or {})
    req = AWSRequest(method=method, url=E.endpoint + "/", data=body,
                     headers=headers)
    SigV4Auth(Credentials(key_of(BUILD), secret_of(BUILD)), service,
              "us-east-1").add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", E.port, timeout=10)
    conn.request(method, "/", body=body, headers=dict(req.headers.items()))
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def signed_bytes(service, body, extra=None):
    headers = {"Content-Type":
               "application/x-www-form-urlencoded; charset=utf-8",
               "Host": "127.0.0.1:%d" % E.port}
    headers.update(extra or {})
    req = AWSRequest(method="POST", url=E.endpoint + "/", data=body,
                     headers=headers)
    SigV4Auth(Credentials(key_of(BUILD), secret_of(BUILD)), service,
              "us-east-1").add_auth(req)
    return req


class EC2Shapes(unittest.TestCase):
    def test_success_namespace_request_id_and_items(self):
        st, h, data = raw_call("ec2", "Action=DescribeImages&Version="
                               "2016-11-15&Owner.1=amazon")
        self.assertEqual(st, 200)
        root = ET.fromstring(data)
        self.assertEqual(root.tag, EC2NS + "DescribeImagesResponse")
        self.assertEqual(root[0].tag, EC2NS + "requestId")
        items = root.findall(EC2NS + "imagesSet/" + EC2NS + "item")
        self.assertEqual(len(items), 1)
        self.assertEqual(items[0].find(EC2NS + "imageOwnerId").text,
                         "137112412989")
        self.assertIn(items[0].find(EC2NS + "isPublic").text, ("true",))

    def test_void_operations_return_true(self):
        ec2 = E.ec2()
        from fixture import make_image
        ami = make_image(ec2)
        st, h, data = raw_call("ec2", "Action=CreateTags&Version=2016-11-15&"
                               "ResourceId.1=%s&Tag.1.Key=a&Tag.1.Value="
                               % ami)
        self.assertEqual(st, 200, data)
        root = ET.fromstring(data)
        self.assertEqual(root.tag, EC2NS + "CreateTagsResponse")
        self.assertEqual(root.find(EC2NS + "return").text, "true")
        self.assertIsNotNone(root.find(EC2NS + "requestId"))
        self.assertTrue(h["content-type"].startswith("text/xml"))

    def test_invalid_action_unknown_and_missing_parameters(self):
        st, h, data = raw_call("ec2", "Action=FlyToTheMoon&Version="
                               "2016-11-15")
        self.assertEqual(st, 400)
        self.assertIn(b"<Code>InvalidAction</Code>", data)
        st, h, data = raw_call("ec2", "Action=DescribeImages&Version="
                               "2016-11-15&ImageIds.1=ami-12345678")
        self.assertIn(b"<Code>UnknownParameter</Code>", data)
        self.assertIn(b"ImageIds.1", data)
        st, h, data = raw_call("ec2", "Action=DescribeImages&Version="
                               "2016-11-15&Filter.1.Nme=name")
        self.assertIn(b"<Code>UnknownParameter</Code>", data)
        st, h, data = raw_call("ec2", "Action=CreateTags&Version=2016-11-15&"
                               "Tag.1.Key=a&Tag.1.Value=b")
        self.assertEqual(st, 400)
        self.assertIn(b"<Code>MissingParameter</Code>", data)
        st, h, data = raw_call("ec2", "Action=DescribeImages&Version="
                               "2099-01-01")
        self.assertIn(b"<Code>NoSuchVersion</Code>", data)
        st, h, data = raw_call("ec2", "Action=DescribeImages&Version="
                               "2016-11-15&MaxResults=lots")
        self.assertIn(b"<Code>InvalidParameterValue</Code>", data)

    def test_error_document_parses_with_request_id(self):
        st, h, data = raw_call("ec2", "Action=DescribeImages&Version="
                               "2016-11-15&ImageId.1=ami-0123456789abcdef0")
        self.assertEqual(st, 400)
        root = ET.fromstring(data)
        self.assertEqual(root.tag, "Response")
        self.assertEqual(root.find("Errors/Error/Code").text,
                         "InvalidAMIID.NotFound")
        self.assertEqual(root.find("Errors/Error/Message").text,
                         "The image id '[ami-0123456789abcdef0]' does not "
                         "exist")
        self.assertTrue(root.find("RequestID").text)

    def test_dry_run_statuses(self):
        code, st, msg = error_of(E.ec2().describe_images, DryRun=True,
                                 Owners=["self"])
        self.assertEqual((code, st), ("DryRunOperation", 412))
        self.assertEqual(msg, "Request would have succeeded, but DryRun "
                              "flag is set.")


class STSShapes(unittest.TestCase):
    def test_result_wrapper_and_metadata(self):
        st, h, data = raw_call("sts", "Action=GetCallerIdentity&Version="
                               "2011-06-15")
        ns = "{https://sts.amazonaws.com/doc/2011-06-15/}"
        root = ET.fromstring(data)
        self.assertEqual(root.tag, ns + "GetCallerIdentityResponse")
        self.assertEqual(root.find(ns + "GetCallerIdentityResult/" + ns +
                                   "Account").text, BUILD)
        self.assertTrue(root.find(ns + "ResponseMetadata/" + ns +
                                  "RequestId").text)

    def test_sts_lists_are_member_encoded(self):
        st, h, data = raw_call(
            "sts", "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3A"
            "iam%3A%3A222222222222%3Arole%2FAmishareTagger&RoleSessionName="
            "s1&Tags.member.1.Key=project&Tags.member.1.Value=ami&"
            "TransitiveTagKeys.member.1=project")
        self.assertEqual(st, 200, data)
        st, h, data = raw_call(
            "sts", "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3A"
            "iam%3A%3A222222222222%3Arole%2FAmishareTagger&RoleSessionName="
            "s1&Tags.1.Key=project")
        self.assertIn(b"UnknownParameter", data)


class JSONShapes(unittest.TestCase):
    def test_json_success_and_errors(self):
        extra = {"X-Amz-Target": "AmazonSSM.GetParameter",
                 "Content-Type": "application/x-amz-json-1.1"}
        st, h, data = raw_call("ssm", json.dumps({"Name": "/nope"}), extra)
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(data)["__type"], "ParameterNotFound")
        self.assertIn("x-amzn-requestid", h)
        self.assertEqual(h["content-type"], "application/x-amz-json-1.1")
        extra["X-Amz-Target"] = "AmazonSSM.NoSuchThing"
        st, h, data = raw_call("ssm", "{}", extra)
        self.assertEqual(json.loads(data)["__type"],
                         "UnknownOperationException")
        extra["X-Amz-Target"] = "AmazonSSM.GetParameter"
        st, h, data = raw_call("ssm", "{}", extra)
        self.assertEqual(json.loads(data)["__type"], "ValidationException")
        st, h, data = raw_call("ssm", "{not json", extra)
        self.assertEqual(json.loads(data)["__type"],
                         "SerializationException")

    def test_organizations_empty_body_operation(self):
        extra = {"X-Amz-Target":
                 "AWSOrganizationsV20161128.DescribeOrganization",
                 "Content-Type": "application/x-amz-json-1.1"}
        st, h, data = raw_call("organizations", "{}", extra)
        self.assertEqual(st, 200, data)
        self.assertEqual(json.loads(data)["Organization"]["Id"],
                         "o-amishare01")


class HTTP11(unittest.TestCase):
    def _exchange(self, payload, nresp=1):
        s = socket.create_connection(("127.0.0.1", E.port), timeout=10)
        s.sendall(payload)
        buf = b""
        out = []
        while len(out) < nresp:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            while b"\r\n\r\n" in buf:
                head, rest = buf.split(b"\r\n\r\n", 1)
                n = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        n = int(line.split(b":")[1])
                if len(rest) < n:
                    break
                out.append((head, rest[:n]))
                buf = rest[n:]
        return s, out, buf

    def _req_bytes(self, body=b"Action=GetCallerIdentity&Version=2011-06-15",
                   extra_headers=None, chunked=False):
        req = signed_bytes("sts", body)
        lines = ["POST / HTTP/1.1"]
        for k, v in req.headers.items():
            lines.append("%s: %s" % (k, v))
        for k, v in (extra_headers or {}).items():
            lines.append("%s: %s" % (k, v))
        if chunked:
            lines.append("Transfer-Encoding: chunked")
            payload = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        else:
            lines.append("Content-Length: %d" % len(body))
            payload = body
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload

    def test_keep_alive_and_pipelining(self):
        one = self._req_bytes()
        s, out, _ = self._exchange(one * 3, 3)
        s.close()
        self.assertEqual(len(out), 3)
        for head, body in out:
            self.assertTrue(head.startswith(b"HTTP/1.1 200"))

    def test_expect_100_continue(self):
        body = b"Action=GetCallerIdentity&Version=2011-06-15"
        req = signed_bytes("sts", body)
        lines = ["POST / HTTP/1.1"] + ["%s: %s" % kv
                                       for kv in req.headers.items()]
        lines += ["Content-Length: %d" % len(body), "Expect: 100-continue"]
        s = socket.create_connection(("127.0.0.1", E.port), timeout=10)
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        first = s.recv(4096)
        self.assertTrue(first.startswith(b"HTTP/1.1 100 Continue"), first)
        s.sendall(body)
        rest = b""
        while b"</GetCallerIdentityResponse>" not in rest:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        s.close()
        self.assertIn(b"HTTP/1.1 200", first + rest)

    def test_chunked_request_body(self):
        s, out, _ = self._exchange(self._req_bytes(chunked=True))
        s.close()
        self.assertTrue(out[0][0].startswith(b"HTTP/1.1 200"), out)

    def test_connection_close(self):
        s, out, _ = self._exchange(self._req_bytes(
            extra_headers={"Connection": "close"}))
        self.assertIn(b"Connection: close", out[0][0])
        self.assertEqual(s.recv(10), b"")
        s.close()

    def test_bad_request_line(self):
        s = socket.create_connection(("127.0.0.1", E.port), timeout=10)
        s.sendall(b"NONSENSE\r\n\r\n")
        data = s.recv(4096)
        s.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 400"))


if __name__ == "__main__":
    import pytap
    pytap.main()
