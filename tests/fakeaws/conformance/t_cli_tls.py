#!/usr/bin/env python3
"""The AWS CLI as a client over HTTP and over HTTPS with AWS_CA_BUNDLE,
and the generated certificate (subjectAltName, chain, handshakes)."""
import json
import os
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import (Emulator, MGMT, BUILD, WORKLOAD, make_image)  # noqa

PLAIN = TLS = None


def setUpModule():
    global PLAIN, TLS
    PLAIN = Emulator()
    TLS = Emulator(tls=True)


def tearDownModule():
    PLAIN.stop()
    TLS.stop()


class CLIMixin(object):
    E = None

    def run_ok(self, *args, **kw):
        r = self.E.aws(*args, **kw)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout) if r.stdout.strip() else None

    def test_identity_and_images(self):
        who = self.run_ok("sts", "get-caller-identity")
        self.assertEqual(who["Account"], BUILD)
        imgs = self.run_ok("ec2", "describe-images", "--owners", "amazon")
        self.assertEqual(len(imgs["Images"]), 1)

    def test_share_and_tag_from_target(self):
        ami = make_image(self.E.ec2())
        self.run_ok("ec2", "modify-image-attribute", "--image-id", ami,
                    "--launch-permission",
                    "Add=[{UserId=%s}]" % WORKLOAD)
        self.run_ok("ec2", "create-tags", "--resources", ami, "--tags",
                    "Key=Name,Value=from-target", account=WORKLOAD)
        tags = self.run_ok("ec2", "describe-tags", "--filters",
                           "Name=resource-id,Values=%s" % ami,
                           account=WORKLOAD)
        self.assertEqual([t["Value"] for t in tags["Tags"]],
                         ["from-target"])
        tags = self.run_ok("ec2", "describe-tags", "--filters",
                           "Name=resource-id,Values=%s" % ami)
        self.assertEqual(tags["Tags"], [])

    def test_errors_exit_non_zero(self):
        r = self.E.aws("ec2", "describe-images", "--image-ids",
                       "ami-0123456789abcdef0")
        self.assertIn(r.returncode, (254, 255))   # CLI v2 / v1
        self.assertIn("InvalidAMIID.NotFound", r.stderr)
        r = self.E.aws("ec2", "describe-images", "--dry-run", "--owners",
                       "self")
        self.assertIn("DryRunOperation", r.stderr)


class PlainCLI(CLIMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.E = PLAIN

    def test_paginated_organizations_listing(self):
        out = self.run_ok("organizations", "list-accounts", "--page-size",
                          "2", account=MGMT)
        self.assertEqual(len(out["Accounts"]), 7)

    def test_ssm_and_kms(self):
        self.run_ok("ssm", "put-parameter", "--name", "/cli/p", "--value",
                    "v", "--type", "String", "--overwrite")
        p = self.run_ok("ssm", "get-parameter", "--name", "/cli/p")
        self.assertEqual(p["Parameter"]["Value"], "v")
        k = self.run_ok("kms", "describe-key", "--key-id", "alias/aws/ebs")
        self.assertEqual(k["KeyMetadata"]["KeyManager"], "AWS")


class TLSCLI(CLIMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.E = TLS

    def test_ready_line_and_ca(self):
        self.assertTrue(TLS.ready_line.startswith("ready https://127.0.0.1:"))
        self.assertTrue(os.path.exists(TLS.ca))

    def test_certificate_names(self):
        pem = ssl.get_server_certificate(("127.0.0.1", TLS.port))
        out = subprocess.run(["openssl", "x509", "-noout", "-ext",
                              "subjectAltName"], input=pem,
                             capture_output=True, text=True, check=True)
        self.assertIn("IP Address:127.0.0.1", out.stdout)
        self.assertIn("DNS:localhost", out.stdout)
        for host in ("127.0.0.1", "localhost"):
            ctx = ssl.create_default_context(cafile=TLS.ca)
            import socket
            with socket.create_connection(("127.0.0.1", TLS.port)) as s:
                with ctx.wrap_socket(s, server_hostname=host) as t:
                    self.assertTrue(t.version().startswith("TLS"))

    def test_untrusted_client_fails_and_handshakes_are_counted(self):
        r = TLS.aws("sts", "get-caller-identity",
                    env={"AWS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("SSL", r.stderr)
        before = TLS.admin("GET", "stats")
        TLS.aws("sts", "get-caller-identity")
        after = TLS.admin("GET", "stats")
        self.assertGreater(after["tls_handshakes"], before["tls_handshakes"])
        self.assertGreaterEqual(after["connections_accepted"],
                                after["tls_handshakes"])


if __name__ == "__main__":
    import pytap
    pytap.main()
