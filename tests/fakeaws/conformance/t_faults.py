#!/usr/bin/env python3
"""Fault injection: error bursts (first K, every N, seeded
probability), token-bucket throttling per service, connection resets,
stalls, truncated and malformed bodies, denials, latency, and rule
matching by account and region."""
import http.client
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import (Emulator, BUILD, WORKLOAD, error_of, key_of,  # noqa
                     secret_of)

from botocore.config import Config  # noqa: E402
from botocore.exceptions import (ConnectionClosedError,  # noqa: E402
                                 EndpointConnectionError, ReadTimeoutError,
                                 )
from botocore.parsers import ResponseParserError  # noqa: E402

E = None


def setUpModule():
    global E
    E = Emulator("--seed", "7")


def tearDownModule():
    E.stop()


class Rules(unittest.TestCase):
    def tearDown(self):
        E.faults({})

    def test_first_k_errors_then_success(self):
        E.faults({"rules": [{"action": "DescribeRegions", "fault": "error",
                             "status": 503, "first": 2}]})
        ec2 = E.ec2()
        for _ in range(2):
            code, st, _ = error_of(ec2.describe_regions)
            self.assertEqual((code, st), ("Unavailable", 503))
        ec2.describe_regions()
        ec2.describe_regions()

    def test_every_nth_with_custom_code(self):
        E.faults({"rules": [{"action": "GetCallerIdentity", "fault": "error",
                             "status": 500, "code": "InternalFailure",
                             "every": 3}]})
        sts = E.client("sts")
        outcomes = []
        for _ in range(6):
            try:
                sts.get_caller_identity()
                outcomes.append("ok")
            except Exception as e:
                outcomes.append(e.response["Error"]["Code"])
        self.assertEqual(outcomes, ["ok", "ok", "InternalFailure"] * 2)

    def test_match_by_account_and_region(self):
        E.faults({"rules": [{"action": "DescribeRegions", "fault": "error",
                             "status": 500, "account": WORKLOAD,
                             "region": "eu-*"}]})
        E.ec2(WORKLOAD, "us-east-1").describe_regions()
        E.ec2(BUILD, "eu-west-1").describe_regions()
        code, st, _ = error_of(E.ec2(WORKLOAD, "eu-west-1").describe_regions)
        self.assertEqual((code, st), ("InternalError", 500))

    def test_seeded_probability_is_repeatable(self):
        def run():
            E.faults({"seed": 42, "rules": [{"action": "DescribeRegions",
                                             "fault": "error",
                                             "probability": 0.5}]})
            out = []
            for _ in range(12):
                try:
                    E.ec2().describe_regions()
                    out.append(1)
                except Exception:
                    out.append(0)
            return out
        a, b = run(), run()
        self.assertEqual(a, b)
        self.assertIn(0, a)
        self.assertIn(1, a)

    def test_deny_rule(self):
        E.faults({"deny": [{"account": WORKLOAD, "action": "DescribeImages",
                            "region": "us-west-2"}]})
        code, st, _ = error_of(E.ec2(WORKLOAD, "us-west-2").describe_images,
                               Owners=["self"])
        self.assertEqual((code, st), ("UnauthorizedOperation", 403))
        E.ec2(WORKLOAD, "us-west-1").describe_images(Owners=["self"])

    def test_rule_counters_visible(self):
        E.faults({"rules": [{"action": "DescribeRegions", "fault": "error",
                             "first": 1}]})
        error_of(E.ec2().describe_regions)
        E.ec2().describe_regions()
        r = E.admin("GET", "faults")["rules"][0]
        self.assertEqual((r["_matched"], r["_applied"]), (2, 1))


class Throttling(unittest.TestCase):
    def tearDown(self):
        E.faults({})

    def test_bucket_per_service(self):
        E.faults({"throttling": {"enabled": True, "buckets": {
            "DescribeImages": [3, 0.001], "GetCallerIdentity": [2, 0.001],
            "GetParameter": [1, 0.001], "ListRoots": [1, 0.001],
            "ListKeys": [1, 0.001]}}})
        ec2 = E.ec2()
        for _ in range(3):
            ec2.describe_images(Owners=["self"])
        code, st, _ = error_of(ec2.describe_images, Owners=["self"])
        self.assertEqual((code, st), ("RequestLimitExceeded", 503))
        # Buckets are per account and per Region.
        E.ec2(WORKLOAD).describe_images(Owners=["self"])
        E.ec2(BUILD, "eu-west-1").describe_images(Owners=["self"])
        sts = E.client("sts")
        sts.get_caller_identity()
        sts.get_caller_identity()
        code, st, _ = error_of(sts.get_caller_identity)
        self.assertEqual((code, st), ("Throttling", 400))
        ssm = E.client("ssm")
        error_of(ssm.get_parameter, Name="/x")
        code, st, _ = error_of(ssm.get_parameter, Name="/x")
        self.assertEqual((code, st), ("ThrottlingException", 400))
        kms = E.client("kms")
        kms.list_keys()
        self.assertEqual(error_of(kms.list_keys)[0], "ThrottlingException")
        org = E.client("organizations", "100000000000")
        org.list_roots()
        self.assertEqual(error_of(org.list_roots)[0],
                         "TooManyRequestsException")

    def test_refill(self):
        E.faults({"throttling": {"enabled": True, "buckets": {
            "DescribeRegions": [1, 20]}}})
        ec2 = E.ec2()
        ec2.describe_regions()
        self.assertEqual(error_of(ec2.describe_regions)[0],
                         "RequestLimitExceeded")
        time.sleep(0.1)
        ec2.describe_regions()

    def test_documented_defaults(self):
        E.faults({"throttling": {"enabled": True}})
        ec2 = E.ec2(BUILD, "sa-east-1")
        ok = 0
        for _ in range(3):
            try:
                ec2.enable_image_block_public_access(
                    ImageBlockPublicAccessState="block-new-sharing")
                ok += 1
            except Exception as e:
                self.assertEqual(e.response["Error"]["Code"],
                                 "RequestLimitExceeded")
        self.assertEqual(ok, 1)       # bucket of 1, refill 0.1/s

    def test_sdk_retries_through_throttling(self):
        E.faults({"rules": [{"action": "DescribeRegions",
                             "fault": "throttle", "first": 2}]})
        c = E.client("ec2", config=Config(retries={"mode": "standard",
                                                   "max_attempts": 5}))
        r = c.describe_regions()
        self.assertEqual(r["ResponseMetadata"]["RetryAttempts"], 2)


class Transport(unittest.TestCase):
    def tearDown(self):
        E.faults({})

    def test_connection_reset(self):
        E.faults({"rules": [{"action": "DescribeRegions", "fault": "reset",
                             "first": 1}]})
        before = E.admin("GET", "stats")["connections_reset"]
        with self.assertRaises((ConnectionClosedError,
                                EndpointConnectionError)):
            E.ec2().describe_regions()
        self.assertEqual(E.admin("GET", "stats")["connections_reset"],
                         before + 1)
        E.ec2().describe_regions()

    def test_stall(self):
        E.faults({"rules": [{"action": "DescribeRegions", "fault": "stall",
                             "ms": 400, "first": 1}]})
        t0 = time.time()
        E.ec2().describe_regions()
        self.assertGreaterEqual(time.time() - t0, 0.39)
        E.faults({"rules": [{"action": "DescribeRegions", "fault": "stall",
                             "ms": 3000, "first": 1}]})
        c = E.client("ec2", config=Config(read_timeout=0.5,
                                          retries={"total_max_attempts": 1}))
        with self.assertRaises(ReadTimeoutError):
            c.describe_regions()

    def test_truncated_body(self):
        E.faults({"rules": [{"action": "DescribeRegions",
                             "fault": "truncate", "first": 1}]})
        with self.assertRaises(Exception) as cm:
            E.ec2().describe_regions()
        self.assertNotIsInstance(cm.exception, AssertionError)
        E.ec2().describe_regions()

    def test_malformed_body(self):
        E.faults({"rules": [{"action": "DescribeRegions",
                             "fault": "malformed", "first": 1}]})
        with self.assertRaises(ResponseParserError):
            E.ec2().describe_regions()

    def test_latency_with_jitter_does_not_block_others(self):
        E.faults({"latency_ms": 300, "jitter_ms": 50})
        t0 = time.time()
        E.ec2().describe_regions()
        self.assertGreaterEqual(time.time() - t0, 0.24)
        E.faults({})
        # Inspection endpoints are never delayed.
        E.faults({"latency_ms": 2000})
        t0 = time.time()
        E.admin("GET", "health")
        self.assertLess(time.time() - t0, 1.0)


class LatencyOption(unittest.TestCase):
    def test_fixed_latency_is_concurrent(self):
        import threading
        em = Emulator("--latency-ms", "300")
        try:
            ec2 = em.ec2()
            ec2.describe_regions()
            durations = []

            def one():
                c = em.client("sts", config=Config(
                    retries={"total_max_attempts": 1}))
                t0 = time.time()
                c.get_caller_identity()
                durations.append(time.time() - t0)
            clients = [threading.Thread(target=one) for _ in range(8)]
            t0 = time.time()
            for t in clients:
                t.start()
            for t in clients:
                t.join()
            total = time.time() - t0
            self.assertTrue(all(d >= 0.29 for d in durations), durations)
            self.assertLess(total, 1.5)
        finally:
            em.stop()


if __name__ == "__main__":
    import pytap
    pytap.main()
