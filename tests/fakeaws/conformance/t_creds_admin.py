#!/usr/bin/env python3
"""Credential endpoints (IMDSv2, container, Actions OIDC) through
botocore's own providers, and the inspection endpoints and ctl CLI."""
import json
import os
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import (Emulator, FAKEAWS, BUILD, WORKLOAD, error_of,  # noqa
                     make_image)

from botocore.credentials import (ContainerProvider,  # noqa: E402
                                  InstanceMetadataProvider)
from botocore.utils import (ContainerMetadataFetcher,  # noqa: E402
                            InstanceMetadataFetcher)

E = None


def setUpModule():
    global E
    E = Emulator()


def tearDownModule():
    E.stop()


def http(method, path, headers=None, data=None):
    req = urllib.request.Request(E.endpoint + path, method=method,
                                 headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class IMDS(unittest.TestCase):
    def test_token_flow(self):
        st, _ = http("PUT", "/latest/api/token")
        self.assertEqual(st, 400)
        st, _ = http("PUT", "/latest/api/token",
                     {"x-aws-ec2-metadata-token-ttl-seconds": "21601"})
        self.assertEqual(st, 400)
        st, tok = http("PUT", "/latest/api/token",
                       {"x-aws-ec2-metadata-token-ttl-seconds": "60"})
        self.assertEqual(st, 200)
        base = "/latest/meta-data/iam/security-credentials/"
        self.assertEqual(http("GET", base)[0], 401)
        self.assertEqual(http("GET", base, {"x-aws-ec2-metadata-token":
                                            "forged"})[0], 401)
        st, role = http("GET", base, {"x-aws-ec2-metadata-token": tok})
        self.assertEqual((st, role), (200, "AmishareBuilder"))
        st, body = http("GET", base + role,
                        {"x-aws-ec2-metadata-token": tok})
        doc = json.loads(body)
        self.assertEqual(doc["Code"], "Success")
        for k in ("AccessKeyId", "SecretAccessKey", "Token", "Expiration"):
            self.assertIn(k, doc)
        self.assertEqual(http("GET", base + "Other", {
            "x-aws-ec2-metadata-token": tok})[0], 404)
        E.advance(61)
        try:
            self.assertEqual(http("GET", base, {
                "x-aws-ec2-metadata-token": tok})[0], 401)
        finally:
            E.advance(-61)

    def test_botocore_instance_metadata_provider(self):
        fetcher = InstanceMetadataFetcher(
            timeout=2, num_attempts=1,
            env={"AWS_EC2_METADATA_SERVICE_ENDPOINT": E.endpoint + "/"},
            config={"ec2_metadata_service_endpoint": E.endpoint + "/"})
        creds = InstanceMetadataProvider(fetcher).load()
        self.assertIsNotNone(creds)
        c = creds.get_frozen_credentials()
        who = E.client("sts", creds=(c.access_key, c.secret_key,
                                     c.token)).get_caller_identity()
        self.assertEqual(who["Arn"], "arn:aws:sts::111111111111:assumed-"
                                     "role/AmishareBuilder/i-0fakeaws0000000")


class Container(unittest.TestCase):
    def test_authorization_required(self):
        self.assertEqual(http("GET", "/_container/creds")[0], 401)
        st, body = http("GET", "/_container/creds",
                        {"Authorization": "fakeaws-container-token"})
        self.assertEqual(st, 200)
        self.assertIn("Token", json.loads(body))

    def test_botocore_container_provider(self):
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI":
               E.endpoint + "/_container/creds",
               "AWS_CONTAINER_AUTHORIZATION_TOKEN":
               "fakeaws-container-token"}
        creds = ContainerProvider(environ=env,
                                  fetcher=ContainerMetadataFetcher()).load()
        c = creds.get_frozen_credentials()
        who = E.client("sts", creds=(c.access_key, c.secret_key,
                                     c.token)).get_caller_identity()
        self.assertEqual(who["Account"], BUILD)


class ActionsOIDC(unittest.TestCase):
    def test_token_request_and_exchange(self):
        self.assertEqual(http("GET", "/_actions/token?audience=x")[0], 401)
        st, body = http("GET", "/_actions/token?audience=sts.amazonaws.com",
                        {"Authorization":
                         "Bearer fakeaws-actions-request-token"})
        self.assertEqual(st, 200)
        jwt = json.loads(body)["value"]
        r = E.client("sts").assume_role_with_web_identity(
            RoleArn="arn:aws:iam::111111111111:role/AmishareCI",
            RoleSessionName="gha", WebIdentityToken=jwt)
        self.assertEqual(r["SubjectFromWebIdentityToken"],
                         "repo:amishare/amishare:ref:refs/heads/main")


class Inspection(unittest.TestCase):
    def test_state_from_each_side(self):
        ec2 = E.ec2()
        ami = make_image(ec2, tags={"Name": "owner"})
        ec2.modify_image_attribute(ImageId=ami, LaunchPermission={
            "Add": [{"UserId": WORKLOAD}]})
        E.ec2(WORKLOAD).create_tags(Resources=[ami],
                                    Tags=[{"Key": "Name",
                                           "Value": "target"}])
        own = [i for i in E.state(BUILD)["ec2"]["images"]
               if i["id"] == ami][0]
        self.assertEqual(own["tags"], {"Name": "owner"})
        self.assertEqual(own["launch_permissions"], [{"user": WORKLOAD}])
        theirs = [i for i in E.state(WORKLOAD)["ec2"]["images"]
                  if i["id"] == ami][0]
        self.assertEqual(theirs["tags"], {"Name": "target"})
        self.assertEqual(theirs["shared_via"], [{"user": WORKLOAD}])
        self.assertNotIn("launch_permissions", theirs)

    def test_log_and_stats(self):
        E.admin("POST", "reset-stats", {})
        E.client("sts").get_caller_identity()
        error_of(E.ec2(WORKLOAD, "eu-west-1").describe_images,
                 ImageIds=["ami-0123456789abcdef0"])
        st = E.admin("GET", "stats")
        self.assertEqual(st["requests"], 2)
        self.assertEqual(st["by_action"], {"DescribeImages": 1,
                                           "GetCallerIdentity": 1})
        self.assertEqual(st["by_outcome"], {"200": 1,
                                            "InvalidAMIID.NotFound": 1})
        self.assertEqual(st["by_region"]["eu-west-1"], 1)
        self.assertEqual(st["by_account"][WORKLOAD], 1)
        self.assertGreaterEqual(st["connections_accepted"], 1)
        self.assertEqual(st["tls_handshakes"], 0)
        log = E.admin("GET", "log", query={"action": "DescribeImages"})
        self.assertEqual(len(log["entries"]), 1)
        ent = log["entries"][0]
        self.assertEqual((ent["status"], ent["code"], ent["account"]),
                         (400, "InvalidAMIID.NotFound", WORKLOAD))

    def test_clock(self):
        before = E.admin("GET", "clock")["epoch"]
        after = E.admin("POST", "clock", {"advance": 100})["epoch"]
        E.admin("POST", "clock", {"advance": -100})
        self.assertAlmostEqual(after - before, 100, delta=2)

    def test_unknown_endpoint_lists_endpoints(self):
        st, body = http("GET", "/_fakeaws/nope")
        self.assertEqual(st, 404)
        self.assertIn("state", json.loads(body)["endpoints"])

    def test_ctl_cli(self):
        ctl = os.path.join(FAKEAWS, "ctl")
        out = subprocess.run([sys.executable, ctl, E.endpoint, "state",
                              "--account", WORKLOAD, "--region",
                              "us-east-1"], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        doc = json.loads(out.stdout)
        self.assertIn(WORKLOAD, doc["accounts"])
        fpath = os.path.join(E.tmp, "f.json")
        with open(fpath, "w") as f:
            json.dump({"rules": [{"action": "DescribeRegions",
                                  "fault": "error", "first": 1}]}, f)
        out = subprocess.run([sys.executable, ctl, E.endpoint, "faults",
                              fpath], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(error_of(E.ec2().describe_regions)[1], 500)
        subprocess.run([sys.executable, ctl, E.endpoint, "faults-clear"],
                       capture_output=True, timeout=30, check=True)
        out = subprocess.run([sys.executable, ctl, E.endpoint,
                              "credentials", "--account", WORKLOAD,
                              "--role", "AmishareTagger", "--env"],
                             capture_output=True, text=True, timeout=30)
        self.assertIn("export AWS_SESSION_TOKEN=", out.stdout)
        out = subprocess.run([sys.executable, ctl, E.endpoint, "stats"],
                             capture_output=True, text=True, timeout=30)
        self.assertIn("by_action", json.loads(out.stdout))


if __name__ == "__main__":
    import pytap
    pytap.main()
