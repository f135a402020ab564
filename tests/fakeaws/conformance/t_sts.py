#!/usr/bin/env python3
"""STS: AssumeRole trust, external id, duration and name rules, session
tags, source identity, role chaining, web identity and credential
lifetimes."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import (Emulator, BUILD, WORKLOAD, PROD_B, MGMT, SUSPENDED,  # noqa
                     OUTSIDER, SANDBOX, error_of)

E = None


def setUpModule():
    global E
    world = None
    E = Emulator(world=world)


def tearDownModule():
    E.stop()


def arn(acct, role="AmishareTagger"):
    return "arn:aws:iam::%s:role/%s" % (acct, role)


class AssumeRole(unittest.TestCase):
    def sts(self, acct=BUILD):
        return E.client("sts", acct)

    def test_trusted_account_gets_role_credentials(self):
        r = self.sts().assume_role(RoleArn=arn(WORKLOAD),
                                   RoleSessionName="ami-share")
        c = r["Credentials"]
        self.assertTrue(c["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(r["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::222222222222:assumed-role/"
                         "AmishareTagger/ami-share")
        self.assertTrue(r["AssumedRoleUser"]["AssumedRoleId"].startswith(
            "AROA"))
        self.assertTrue(r["AssumedRoleUser"]["AssumedRoleId"].endswith(
            ":ami-share"))
        who = E.client("sts", creds=(c["AccessKeyId"], c["SecretAccessKey"],
                                     c["SessionToken"])).get_caller_identity()
        self.assertEqual(who["Account"], WORKLOAD)
        self.assertEqual(who["Arn"], r["AssumedRoleUser"]["Arn"])
        self.assertEqual(who["UserId"],
                         r["AssumedRoleUser"]["AssumedRoleId"])

    def test_untrusted_caller_and_missing_role_are_access_denied(self):
        for caller, target in ((SANDBOX, WORKLOAD), (OUTSIDER, WORKLOAD)):
            code, st, msg = error_of(self.sts(caller).assume_role,
                                     RoleArn=arn(target),
                                     RoleSessionName="x1")
            self.assertEqual((code, st), ("AccessDenied", 403))
            self.assertIn("is not authorized to perform: sts:AssumeRole",
                          msg)
        code, st, _ = error_of(self.sts().assume_role,
                               RoleArn=arn(WORKLOAD, "NoSuchRole"),
                               RoleSessionName="x1")
        self.assertEqual((code, st), ("AccessDenied", 403))
        code, st, _ = error_of(self.sts().assume_role, RoleArn=arn(MGMT),
                               RoleSessionName="x1")
        self.assertEqual(code, "AccessDenied")

    def test_suspended_account_role_is_denied(self):
        code, st, _ = error_of(self.sts().assume_role,
                               RoleArn=arn(SUSPENDED), RoleSessionName="x1")
        self.assertEqual((code, st), ("AccessDenied", 403))

    def test_external_id(self):
        role = arn(PROD_B, "AmishareTaggerExt")
        for kw in ({}, {"ExternalId": "wrong-id"}):
            code, st, _ = error_of(self.sts().assume_role, RoleArn=role,
                                   RoleSessionName="x1", **kw)
            self.assertEqual((code, st), ("AccessDenied", 403))
        r = self.sts().assume_role(RoleArn=role, RoleSessionName="x1",
                                   ExternalId="ams-ext-1")
        self.assertIn("AmishareTaggerExt", r["AssumedRoleUser"]["Arn"])
        code, st, _ = error_of(self.sts().assume_role, RoleArn=role,
                               RoleSessionName="x1", ExternalId="a")
        self.assertEqual((code, st), ("ValidationError", 400))

    def test_duration_rules(self):
        for d, code in ((899, "ValidationError"), (43201, "ValidationError"),
                        (7200, "ValidationError")):
            c, st, msg = error_of(self.sts().assume_role, RoleArn=arn(WORKLOAD),
                                  RoleSessionName="x1", DurationSeconds=d)
            self.assertEqual((c, st), (code, 400), d)
        r = self.sts().assume_role(RoleArn=arn(WORKLOAD),
                                   RoleSessionName="x1", DurationSeconds=900)
        exp = r["Credentials"]["Expiration"].timestamp()
        now = E.admin("GET", "clock")["epoch"]
        self.assertAlmostEqual(exp - now, 900, delta=5)

    def test_session_name_rules(self):
        for name in ("a", "x" * 65, "bad name", "semi;colon"):
            code, st, _ = error_of(self.sts().assume_role,
                                   RoleArn=arn(WORKLOAD),
                                   RoleSessionName=name)
            self.assertEqual((code, st), ("ValidationError", 400), name)
        for name in ("ab", "a+b=c,d.e@f-g_h", "x" * 64):
            self.sts().assume_role(RoleArn=arn(WORKLOAD),
                                   RoleSessionName=name)

    def test_role_chaining_limits_duration(self):
        r = self.sts().assume_role(RoleArn=arn(BUILD),
                                   RoleSessionName="first")
        c = r["Credentials"]
        chained = E.client("sts", creds=(c["AccessKeyId"],
                                         c["SecretAccessKey"],
                                         c["SessionToken"]))
        r2 = chained.assume_role(RoleArn=arn(WORKLOAD),
                                 RoleSessionName="second")
        self.assertIn("assumed-role/AmishareTagger/second",
                      r2["AssumedRoleUser"]["Arn"])

    def test_session_tags_and_source_identity(self):
        r = self.sts().assume_role(
            RoleArn=arn(WORKLOAD), RoleSessionName="tags",
            Tags=[{"Key": "project", "Value": "ami"}],
            TransitiveTagKeys=["project"], SourceIdentity="alice")
        self.assertEqual(r["SourceIdentity"], "alice")
        code, st, _ = error_of(self.sts().assume_role, RoleArn=arn(WORKLOAD),
                               RoleSessionName="tags",
                               Tags=[{"Key": "a", "Value": "1"},
                                     {"Key": "A", "Value": "2"}])
        self.assertEqual(st, 400)
        code, st, _ = error_of(self.sts().assume_role, RoleArn=arn(WORKLOAD),
                               RoleSessionName="tags",
                               SourceIdentity="aws:me")
        self.assertEqual(st, 400)
        code, st, _ = error_of(self.sts().assume_role, RoleArn=arn(WORKLOAD),
                               RoleSessionName="tags",
                               Tags=[{"Key": "k%d" % i, "Value": "v"}
                                     for i in range(51)])
        self.assertEqual(st, 400)

    def test_get_caller_identity_long_term(self):
        who = self.sts().get_caller_identity()
        self.assertEqual(who["Account"], BUILD)
        self.assertEqual(who["Arn"], "arn:aws:iam::111111111111:user/amishare")
        self.assertTrue(who["UserId"].startswith("AIDA"))

    def test_short_credential_lifetime_from_world_role(self):
        # Issued through the admin endpoint with a one-off world setting.
        E.settings(credential_lifetime_seconds=60)
        try:
            r = self.sts().assume_role(RoleArn=arn(WORKLOAD),
                                       RoleSessionName="short")
            exp = r["Credentials"]["Expiration"].timestamp()
            now = E.admin("GET", "clock")["epoch"]
            self.assertAlmostEqual(exp - now, 60, delta=5)
            c = r["Credentials"]
            creds = (c["AccessKeyId"], c["SecretAccessKey"],
                     c["SessionToken"])
            E.client("ec2", creds=creds).describe_regions()
        finally:
            E.settings(credential_lifetime_seconds=None)


class WebIdentity(unittest.TestCase):
    role = "arn:aws:iam::111111111111:role/AmishareCI"

    def awi(self, token, role=None, **kw):
        return E.client("sts").assume_role_with_web_identity(
            RoleArn=role or self.role, RoleSessionName="gha-1",
            WebIdentityToken=token, **kw)

    def test_valid_token(self):
        tok = E.admin("POST", "oidc-token",
                      {"sub": "repo:amishare/amishare:ref:refs/heads/main"}
                      )["token"]
        r = self.awi(tok)
        self.assertEqual(r["SubjectFromWebIdentityToken"],
                         "repo:amishare/amishare:ref:refs/heads/main")
        self.assertEqual(r["Audience"], "sts.amazonaws.com")
        self.assertEqual(r["Provider"], "token.actions.githubusercontent.com")
        self.assertIn("assumed-role/AmishareCI/gha-1",
                      r["AssumedRoleUser"]["Arn"])

    def test_rejections(self):
        bad_sub = E.admin("POST", "oidc-token", {"sub": "repo:evil/x"}
                          )["token"]
        code, st, _ = error_of(self.awi, bad_sub)
        self.assertEqual((code, st), ("AccessDenied", 403))
        expired = E.admin("POST", "oidc-token", {"ttl": -10})["token"]
        code, st, _ = error_of(self.awi, expired)
        self.assertEqual((code, st), ("ExpiredTokenException", 400))
        good = E.admin("POST", "oidc-token", {})["token"]
        forged = good[:-4] + ("AAAA" if not good.endswith("AAAA")
                              else "BBBB")
        code, st, _ = error_of(self.awi, forged)
        self.assertEqual((code, st), ("InvalidIdentityToken", 400))
        code, st, _ = error_of(self.awi, "not-a-jwt")
        self.assertEqual((code, st), ("InvalidIdentityToken", 400))
        wrong_aud = E.admin("POST", "oidc-token", {"aud": "other"})["token"]
        code, st, _ = error_of(self.awi, wrong_aud)
        self.assertEqual((code, st), ("InvalidIdentityToken", 400))
        code, st, _ = error_of(self.awi, good, role=arn(WORKLOAD))
        self.assertEqual((code, st), ("AccessDenied", 403))


if __name__ == "__main__":
    import pytap
    pytap.main()
