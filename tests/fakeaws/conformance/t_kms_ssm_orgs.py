#!/usr/bin/env python3
"""KMS keys and grants (and their effect on encrypted shared images),
SSM parameters with the aws:ec2:image data type, and Organizations
listings with pagination."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import (Emulator, MGMT, BUILD, WORKLOAD, PROD_A, PROD_B,  # noqa
                     SANDBOX, SUSPENDED, OUTSIDER, ORG_ID, error_of,
                     make_image, snapshot_of, unique, base_image)

E = None


def setUpModule():
    global E
    E = Emulator()


def tearDownModule():
    E.stop()


def org_key(region="us-east-1"):
    pol = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root"
                                          % BUILD},
         "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": "*",
         "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"],
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}}]}
    return E.client("kms", BUILD, region).create_key(
        Policy=json.dumps(pol))["KeyMetadata"]["Arn"]


class KMS(unittest.TestCase):
    def test_default_ebs_key_is_aws_managed(self):
        meta = E.client("kms").describe_key(KeyId="alias/aws/ebs")[
            "KeyMetadata"]
        self.assertEqual(meta["KeyManager"], "AWS")
        self.assertEqual(meta["AWSAccountId"], BUILD)
        code, st, _ = error_of(E.client("kms").describe_key,
                               KeyId="alias/nothing")
        self.assertEqual(code, "NotFoundException")

    def test_grants(self):
        kms = E.client("kms")
        key = kms.create_key(Description="golden")["KeyMetadata"]["Arn"]
        grantee = ("arn:aws:iam::%s:role/aws-service-role/autoscaling."
                   "amazonaws.com/AWSServiceRoleForAutoScaling" % WORKLOAD)
        ops = ["Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo",
               "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
               "DescribeKey", "CreateGrant"]
        g1 = kms.create_grant(KeyId=key, GranteePrincipal=grantee,
                              Operations=ops, Name="asg-grant")
        g2 = kms.create_grant(KeyId=key, GranteePrincipal=grantee,
                              Operations=ops, Name="asg-grant")
        self.assertEqual(g1["GrantId"], g2["GrantId"])
        self.assertNotEqual(g1["GrantToken"], g2["GrantToken"])
        grants = kms.list_grants(KeyId=key)["Grants"]
        self.assertEqual(len(grants), 1)
        self.assertEqual(grants[0]["GranteePrincipal"], grantee)
        self.assertEqual(grants[0]["KeyId"], key)
        # The grantee account can now use the key through its ARN.
        t = E.client("kms", WORKLOAD)
        self.assertEqual(t.describe_key(KeyId=key)["KeyMetadata"]["Arn"],
                         key)
        code, st, _ = error_of(E.client("kms", PROD_A).describe_key,
                               KeyId=key)
        self.assertEqual(code, "AccessDeniedException")
        for bad in ({"Operations": ["Fly"]}, {"Operations": []},
                    {"GranteePrincipal": "bad principal"},
                    {"Name": "bad name!"}):
            kw = {"KeyId": key, "GranteePrincipal": grantee,
                  "Operations": ["Decrypt"]}
            kw.update(bad)
            code, st, _ = error_of(kms.create_grant, **kw)
            self.assertEqual((code, st), ("ValidationException", 400), bad)
        code, st, _ = error_of(kms.create_grant, KeyId=key,
                               GranteePrincipal=grantee,
                               Operations=["Decrypt"], DryRun=True)
        self.assertEqual((code, st), ("DryRunOperationException", 412))
        g3 = kms.create_grant(KeyId=key, GranteePrincipal=grantee,
                              Operations=["Decrypt"])
        kms.revoke_grant(KeyId=key, GrantId=g3["GrantId"])
        kms.retire_grant(KeyId=key, GrantId=g1["GrantId"])
        self.assertEqual(kms.list_grants(KeyId=key)["Grants"], [])
        code, _, _ = error_of(kms.revoke_grant, KeyId=key,
                              GrantId=g1["GrantId"])
        self.assertEqual(code, "NotFoundException")

    def test_encrypted_shared_image_needs_key_access(self):
        ec2 = E.ec2()
        key = E.client("kms").create_key()["KeyMetadata"]["Arn"]
        ami = make_image(ec2, encrypted=True, kms_key=key)
        ec2.modify_image_attribute(ImageId=ami, LaunchPermission={
            "Add": [{"UserId": WORKLOAD}, {"UserId": PROD_A}]})
        # Without access the launch fails the way EC2 reports it.
        t = E.ec2(WORKLOAD)
        inst = t.run_instances(ImageId=ami, MinCount=1, MaxCount=1,
                               InstanceType="t3.micro")["Instances"][0]
        got = t.describe_instances(InstanceIds=[inst["InstanceId"]])[
            "Reservations"][0]["Instances"][0]
        self.assertEqual(got["State"]["Name"], "terminated")
        self.assertEqual(got["StateReason"]["Code"], "Client.InternalError")
        # A grant for the account makes it work.
        E.client("kms").create_grant(
            KeyId=key, GranteePrincipal="arn:aws:iam::%s:root" % WORKLOAD,
            Operations=["Decrypt", "CreateGrant", "DescribeKey"])
        inst = t.run_instances(ImageId=ami, MinCount=1, MaxCount=1,
                               InstanceType="t3.micro")["Instances"][0]
        got = t.describe_instances(InstanceIds=[inst["InstanceId"]])[
            "Reservations"][0]["Instances"][0]
        self.assertEqual(got["State"]["Name"], "running")

    def test_key_policy_for_the_organisation(self):
        ec2 = E.ec2()
        ami = make_image(ec2, encrypted=True, kms_key=org_key())
        ec2.modify_image_attribute(ImageId=ami, LaunchPermission={
            "Add": [{"UserId": PROD_B}, {"UserId": OUTSIDER}]})
        for acct, want in ((PROD_B, "running"), (OUTSIDER, "terminated")):
            t = E.ec2(acct)
            iid = t.run_instances(ImageId=ami, MinCount=1, MaxCount=1,
                                  InstanceType="t3.micro")["Instances"][0][
                                      "InstanceId"]
            st = t.describe_instances(InstanceIds=[iid])["Reservations"][0][
                "Instances"][0]["State"]["Name"]
            self.assertEqual(st, want, acct)

    def test_cross_account_copy_of_encrypted_image(self):
        ec2 = E.ec2()
        key = E.client("kms").create_key()["KeyMetadata"]["Arn"]
        ami = make_image(ec2, encrypted=True, kms_key=key)
        ec2.modify_image_attribute(ImageId=ami, LaunchPermission={
            "Add": [{"UserId": WORKLOAD}]})
        ec2.modify_snapshot_attribute(SnapshotId=snapshot_of(ec2, ami),
                                      Attribute="createVolumePermission",
                                      OperationType="add",
                                      UserIds=[WORKLOAD])
        t = E.ec2(WORKLOAD)
        cp = t.copy_image(SourceImageId=ami, SourceRegion="us-east-1",
                          Name=unique("kmscopy"))["ImageId"]
        self.assertEqual(t.describe_images(ImageIds=[cp])["Images"][0][
            "State"], "failed")
        E.client("kms").create_grant(
            KeyId=key, GranteePrincipal="arn:aws:iam::%s:root" % WORKLOAD,
            Operations=["Decrypt", "CreateGrant"])
        cp = t.copy_image(SourceImageId=ami, SourceRegion="us-east-1",
                          Name=unique("kmscopy"))["ImageId"]
        img = t.describe_images(ImageIds=[cp])["Images"][0]
        self.assertEqual(img["State"], "available")
        self.assertTrue(img["BlockDeviceMappings"][0]["Ebs"]["Encrypted"])


class SSM(unittest.TestCase):
    def test_plain_parameters(self):
        ssm = E.client("ssm")
        name = "/amishare/%s" % unique("p")
        self.assertEqual(ssm.put_parameter(Name=name, Value="v1",
                                           Type="String")["Version"], 1)
        code, st, _ = error_of(ssm.put_parameter, Name=name, Value="v2",
                               Type="String")
        self.assertEqual((code, st), ("ParameterAlreadyExists", 400))
        self.assertEqual(ssm.put_parameter(Name=name, Value="v2",
                                           Overwrite=True)["Version"], 2)
        p = ssm.get_parameter(Name=name)["Parameter"]
        self.assertEqual((p["Value"], p["Version"], p["DataType"]),
                         ("v2", 2, "text"))
        code, st, msg = error_of(ssm.put_parameter, Name=name + "x",
                                 Value="v", Type="String", Overwrite=True,
                                 Tags=[{"Key": "a", "Value": "b"}])
        self.assertEqual((code, st), ("ValidationException", 400))
        self.assertIn("tags and overwrite can't be used together", msg)
        code, st, _ = error_of(ssm.put_parameter, Name="/new/one",
                               Value="v")
        self.assertEqual(code, "ValidationException")
        code, st, _ = error_of(ssm.put_parameter, Name="/aws/x", Value="v",
                               Type="String")
        self.assertEqual(code, "ValidationException")
        code, st, _ = error_of(ssm.get_parameter, Name="/nope")
        self.assertEqual((code, st), ("ParameterNotFound", 400))
        r = ssm.get_parameters(Names=[name, "/nope"])
        self.assertEqual(r["InvalidParameters"], ["/nope"])

    def test_ec2_image_parameter(self):
        ssm = E.client("ssm", WORKLOAD)
        ec2 = E.ec2()
        ami = make_image(ec2)
        name = "/golden/%s" % unique("ami")
        # Not visible to the target yet: accepted, then silently dropped.
        ssm.put_parameter(Name=name, Value=ami, Type="String",
                          DataType="aws:ec2:image")
        code, _, _ = error_of(ssm.get_parameter, Name=name)
        self.assertEqual(code, "ParameterNotFound")
        ev = E.state(WORKLOAD)["ssm"]["events"]
        self.assertEqual(ev[-1]["detail"]["exception"],
                         "Unable to Describe Resource")
        ec2.modify_image_attribute(ImageId=ami, LaunchPermission={
            "Add": [{"UserId": WORKLOAD}]})
        ssm.put_parameter(Name=name, Value=ami, Type="String",
                          DataType="aws:ec2:image")
        p = ssm.get_parameter(Name=name)["Parameter"]
        self.assertEqual((p["Value"], p["DataType"]), (ami,
                                                       "aws:ec2:image"))
        code, _, _ = error_of(ssm.put_parameter, Name=name, Value="text",
                              Type="String", DataType="text",
                              Overwrite=True)
        self.assertEqual(code, "ValidationException")

    def test_asynchronous_validation_delay(self):
        E.faults({"ssm_validation_delay_seconds": 60})
        try:
            ssm = E.client("ssm")
            ec2 = E.ec2()
            a1, a2 = make_image(ec2), make_image(ec2)
            name = "/golden/%s" % unique("slow")
            self.assertEqual(ssm.put_parameter(
                Name=name, Value=a1, Type="String",
                DataType="aws:ec2:image")["Version"], 1)
            code, _, _ = error_of(ssm.get_parameter, Name=name)
            self.assertEqual(code, "ParameterNotFound")
            code, _, _ = error_of(ssm.put_parameter, Name=name, Value=a1,
                                  Type="String", DataType="aws:ec2:image",
                                  Overwrite=True)
            self.assertEqual(code, "TooManyUpdates")
            E.advance(61)
            self.assertEqual(ssm.get_parameter(Name=name)["Parameter"][
                "Value"], a1)
            ssm.put_parameter(Name=name, Value=a2, Overwrite=True)
            self.assertEqual(ssm.get_parameter(Name=name)["Parameter"][
                "Value"], a1)
            E.advance(61)
            p = ssm.get_parameter(Name=name)["Parameter"]
            self.assertEqual((p["Value"], p["Version"]), (a2, 2))
        finally:
            E.faults({})
            E.advance(-122)


class Organizations(unittest.TestCase):
    def org(self, acct=MGMT):
        return E.client("organizations", acct)

    def test_describe_organization_from_members_only(self):
        for acct in (MGMT, BUILD, SANDBOX):
            o = self.org(acct).describe_organization()["Organization"]
            self.assertEqual((o["Id"], o["MasterAccountId"]),
                             (ORG_ID, MGMT))
        code, st, _ = error_of(self.org(OUTSIDER).describe_organization)
        self.assertEqual((code, st),
                         ("AWSOrganizationsNotInUseException", 400))

    def test_listing_needs_management_account(self):
        code, st, _ = error_of(self.org(BUILD).list_accounts)
        self.assertEqual((code, st), ("AccessDeniedException", 400))
        creds = E.assume(MGMT, "AmishareOrgReader")
        o = E.client("organizations", creds=creds)
        self.assertEqual(len(o.list_roots()["Roots"]), 1)

    def test_tree_walk_with_small_pages(self):
        o = self.org()
        roots = o.list_roots()["Roots"]
        self.assertEqual(roots[0]["Id"], "r-ams1")

        def all_pages(fn, key, **kw):
            out, tok = [], None
            while True:
                args = dict(kw, MaxResults=1)
                if tok:
                    args["NextToken"] = tok
                r = fn(**args)
                out += r[key]
                tok = r.get("NextToken")
                if not tok:
                    return out

        def walk(parent):
            accts = [a["Id"] for a in all_pages(
                o.list_accounts_for_parent, "Accounts", ParentId=parent)]
            for ou in all_pages(o.list_organizational_units_for_parent,
                                "OrganizationalUnits", ParentId=parent):
                accts += walk(ou["Id"])
            return accts
        found = walk("r-ams1")
        self.assertEqual(sorted(found), sorted(
            [MGMT, BUILD, WORKLOAD, PROD_A, PROD_B, SANDBOX, SUSPENDED]))
        status = {a["Id"]: a["Status"] for a in
                  all_pages(o.list_accounts, "Accounts")}
        self.assertEqual(status[SUSPENDED], "SUSPENDED")
        self.assertEqual(status[PROD_A], "ACTIVE")
        kids = all_pages(o.list_children, "Children",
                         ParentId="ou-ams1-workload",
                         ChildType="ORGANIZATIONAL_UNIT")
        self.assertEqual(kids, [{"Id": "ou-ams1-prodnest",
                                 "Type": "ORGANIZATIONAL_UNIT"}])

    def test_errors(self):
        o = self.org()
        code, _, _ = error_of(o.list_accounts, MaxResults=21)
        self.assertEqual(code, "InvalidInputException")
        code, _, _ = error_of(o.list_accounts, MaxResults=0)
        self.assertEqual(code, "InvalidInputException")
        code, _, _ = error_of(o.list_children, ParentId="ou-ams1-missing1",
                              ChildType="ACCOUNT")
        self.assertEqual(code, "ParentNotFoundException")
        code, _, _ = error_of(o.list_children, ParentId="bogus",
                              ChildType="ACCOUNT")
        self.assertEqual(code, "InvalidInputException")
        code, _, _ = error_of(o.list_accounts, NextToken="zzz")
        self.assertEqual(code, "InvalidInputException")

    def test_empty_pages_with_token(self):
        E.faults({"rules": [{"service": "organizations",
                             "action": "ListAccounts",
                             "fault": "empty_page", "first": 2}]})
        try:
            o = self.org()
            r1 = o.list_accounts(MaxResults=5)
            self.assertEqual(r1["Accounts"], [])
            self.assertIn("NextToken", r1)
            r2 = o.list_accounts(MaxResults=5, NextToken=r1["NextToken"])
            self.assertEqual(r2["Accounts"], [])
            pages = list(o.get_paginator("list_accounts").paginate(
                PaginationConfig={"PageSize": 5}))
            ids = [a["Id"] for p in pages for a in p["Accounts"]]
            self.assertEqual(len(ids), 7)
        finally:
            E.faults({})


if __name__ == "__main__":
    import pytap
    pytap.main()
