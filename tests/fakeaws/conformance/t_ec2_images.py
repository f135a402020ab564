#!/usr/bin/env python3
"""Image lifecycle: DescribeImages filters, wildcards and pagination,
deprecation, RegisterImage, CreateImage, CopyImage (tags, encryption,
cross-account storage access), DeregisterImage, state delays and the
instance state machine."""
import datetime
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import (Emulator, BUILD, WORKLOAD, PROD_A, error_of,  # noqa
                     make_image, snapshot_of, unique, base_image)

E = None


def setUpModule():
    global E
    E = Emulator()


def tearDownModule():
    E.stop()


class Filters(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ec2 = E.ec2(BUILD, "ca-central-1")
        cls.names = ["web-1.0", "web-1.1", "web-2.0", "db-1.0", "web-1x0"]
        cls.ids = {n: make_image(cls.ec2, name=n) for n in cls.names}

    def names_for(self, *filters, **kw):
        imgs = self.ec2.describe_images(Owners=["self"],
                                        Filters=list(filters),
                                        **kw)["Images"]
        return sorted(i["Name"] for i in imgs)

    def test_name_wildcards(self):
        self.assertEqual(self.names_for({"Name": "name",
                                         "Values": ["web-*"]}),
                         ["web-1.0", "web-1.1", "web-1x0", "web-2.0"])
        self.assertEqual(self.names_for({"Name": "name",
                                         "Values": ["web-1.?"]}),
                         ["web-1.0", "web-1.1"])
        # '?' matches zero or one character.
        self.assertEqual(self.names_for({"Name": "name",
                                         "Values": ["web-1.0?"]}),
                         ["web-1.0"])
        self.assertEqual(self.names_for({"Name": "name",
                                         "Values": ["web-1?0"]}),
                         ["web-1.0", "web-1x0"])
        self.assertEqual(self.names_for({"Name": "name",
                                         "Values": ["web-1\\.0"]}),
                         ["web-1.0"])
        self.assertEqual(self.names_for({"Name": "name",
                                         "Values": ["WEB-*"]}), [])

    def test_filters_and_values_or(self):
        self.assertEqual(self.names_for(
            {"Name": "name", "Values": ["web-1.0", "db-1.0"]},
            {"Name": "state", "Values": ["available"]}),
            ["db-1.0", "web-1.0"])
        self.assertEqual(self.names_for(
            {"Name": "name", "Values": ["web-1.0"]},
            {"Name": "state", "Values": ["pending"]}), [])
        self.assertEqual(self.names_for(
            {"Name": "image-id", "Values": [self.ids["db-1.0"]]}),
            ["db-1.0"])
        self.assertEqual(len(self.names_for(
            {"Name": "is-public", "Values": ["false"]},
            {"Name": "owner-id", "Values": [BUILD]})), 5)

    def test_unknown_filter(self):
        code, st, _ = error_of(self.ec2.describe_images, Filters=[
            {"Name": "colour", "Values": ["blue"]}])
        self.assertEqual((code, st), ("InvalidParameterValue", 400))

    def test_pagination(self):
        seen = []
        tok = None
        while True:
            kw = {"Owners": ["self"], "MaxResults": 2}
            if tok:
                kw["NextToken"] = tok
            r = self.ec2.describe_images(**kw)
            self.assertLessEqual(len(r["Images"]), 2)
            seen += [i["Name"] for i in r["Images"]]
            tok = r.get("NextToken")
            if not tok:
                break
        self.assertEqual(sorted(seen), sorted(self.names))
        code, _, _ = error_of(self.ec2.describe_images, Owners=["self"],
                              MaxResults=2, NextToken="bm90LWEtdG9rZW4=")
        self.assertEqual(code, "InvalidPaginationToken")
        r = self.ec2.describe_images(Owners=["self"], MaxResults=2)
        code, _, _ = error_of(self.ec2.describe_images, Owners=[PROD_A],
                              MaxResults=2, NextToken=r["NextToken"])
        self.assertEqual(code, "InvalidPaginationToken")

    def test_image_ids_errors(self):
        code, st, msg = error_of(self.ec2.describe_images,
                                 ImageIds=["ami-0123456789abcdef0",
                                           "ami-0123456789abcdef1"])
        self.assertEqual((code, st), ("InvalidAMIID.NotFound", 400))
        self.assertIn("ami-0123456789abcdef1", msg)
        code, st, _ = error_of(self.ec2.describe_images, ImageIds=["ami-1"])
        self.assertEqual((code, st), ("InvalidAMIID.Malformed", 400))


class Deprecation(unittest.TestCase):
    def test_deprecated_images_hidden_from_others(self):
        ec2 = E.ec2()
        ami = make_image(ec2)
        ec2.modify_image_attribute(ImageId=ami, LaunchPermission={
            "Add": [{"UserId": WORKLOAD}]})
        now = E.admin("GET", "clock")["epoch"]
        at = datetime.datetime.utcfromtimestamp(now + 120)
        ec2.enable_image_deprecation(ImageId=ami, DeprecateAt=at)
        img = ec2.describe_images(ImageIds=[ami])["Images"][0]
        self.assertTrue(img["DeprecationTime"].endswith(":00.000Z"))
        E.advance(300)
        try:
            t = E.ec2(WORKLOAD)
            listed = [i["ImageId"] for i in t.describe_images(
                Owners=[BUILD])["Images"]]
            self.assertNotIn(ami, listed)
            listed = [i["ImageId"] for i in t.describe_images(
                Owners=[BUILD], IncludeDeprecated=True)["Images"]]
            self.assertIn(ami, listed)
            self.assertEqual(len(t.describe_images(ImageIds=[ami])[
                "Images"]), 1)
            own = [i["ImageId"] for i in ec2.describe_images(
                Owners=["self"])["Images"]]
            self.assertIn(ami, own)
            ec2.disable_image_deprecation(ImageId=ami)
            listed = [i["ImageId"] for i in t.describe_images(
                Owners=[BUILD])["Images"]]
            self.assertIn(ami, listed)
        finally:
            E.advance(-300)

    def test_deprecation_rules(self):
        ec2 = E.ec2()
        ami = make_image(ec2)
        past = datetime.datetime.utcnow() - datetime.timedelta(days=1)
        code, st, _ = error_of(ec2.enable_image_deprecation, ImageId=ami,
                               DeprecateAt=past)
        self.assertEqual((code, st), ("InvalidParameterValue", 400))
        far = datetime.datetime.utcnow() + datetime.timedelta(days=3700)
        code, st, _ = error_of(ec2.enable_image_deprecation, ImageId=ami,
                               DeprecateAt=far)
        self.assertEqual(code, "InvalidParameterValue")
        ec2.modify_image_attribute(ImageId=ami, LaunchPermission={
            "Add": [{"UserId": WORKLOAD}]})
        code, st, _ = error_of(E.ec2(WORKLOAD).enable_image_deprecation,
                               ImageId=ami, DeprecateAt=far)
        self.assertEqual((code, st), ("AuthFailure", 401))


class Lifecycle(unittest.TestCase):
    def test_create_image_name_rules(self):
        ec2 = E.ec2()
        name = unique("dup")
        make_image(ec2, name=name)
        code, st, _ = error_of(make_image, ec2, name=name)
        self.assertEqual((code, st), ("InvalidAMIName.Duplicate", 400))
        for bad in ("ab", "x" * 129, "bad#name"):
            code, st, _ = error_of(make_image, ec2, name=bad)
            self.assertEqual((code, st), ("InvalidAMIName.Malformed", 400))

    def test_register_image_from_snapshot(self):
        ec2 = E.ec2()
        snap = snapshot_of(ec2, make_image(ec2))
        ami = ec2.register_image(
            Name=unique("reg"), RootDeviceName="/dev/xvda",
            Architecture="arm64", VirtualizationType="hvm", EnaSupport=True,
            BlockDeviceMappings=[{"DeviceName": "/dev/xvda",
                                  "Ebs": {"SnapshotId": snap,
                                          "VolumeSize": 16}}],
            TagSpecifications=[{"ResourceType": "image", "Tags": [
                {"Key": "src", "Value": "register"}]}])["ImageId"]
        img = ec2.describe_images(ImageIds=[ami])["Images"][0]
        self.assertEqual(img["Architecture"], "arm64")
        self.assertEqual(img["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"],
                         16)
        self.assertEqual(img["Tags"], [{"Key": "src", "Value": "register"}])
        code, st, _ = error_of(
            E.ec2(WORKLOAD).register_image, Name=unique("reg"),
            RootDeviceName="/dev/xvda",
            BlockDeviceMappings=[{"DeviceName": "/dev/xvda",
                                  "Ebs": {"SnapshotId": snap}}])
        self.assertEqual((code, st), ("InvalidSnapshot.NotFound", 400))

    def test_deregister(self):
        ec2 = E.ec2()
        ami = make_image(ec2)
        ec2.modify_image_attribute(ImageId=ami, LaunchPermission={
            "Add": [{"UserId": WORKLOAD}]})
        code, st, _ = error_of(E.ec2(WORKLOAD).deregister_image,
                               ImageId=ami)
        self.assertEqual((code, st), ("AuthFailure", 401))
        ec2.deregister_image(ImageId=ami)
        for acct in (BUILD, WORKLOAD):
            code, st, _ = error_of(E.ec2(acct).describe_images,
                                   ImageIds=[ami])
            self.assertEqual(code, "InvalidAMIID.NotFound")
        # Snapshots stay behind, as in AWS.
        self.assertTrue(ec2.describe_snapshots(OwnerIds=["self"])[
            "Snapshots"])

    def test_pending_state_and_waiter(self):
        E.settings(image_available_after_seconds=30)
        try:
            ec2 = E.ec2()
            ami = make_image(ec2)
            self.assertEqual(ec2.describe_images(ImageIds=[ami])["Images"][
                0]["State"], "pending")
            E.advance(31)
            ec2.get_waiter("image_available").wait(
                ImageIds=[ami], WaiterConfig={"Delay": 0.1,
                                              "MaxAttempts": 3})
        finally:
            E.settings(image_available_after_seconds=0)
            E.advance(-31)

    def test_instance_states(self):
        E.settings(instance_transition_seconds=10)
        try:
            ec2 = E.ec2()
            r = ec2.run_instances(ImageId=base_image(ec2), MinCount=2,
                                  MaxCount=2, InstanceType="t3.micro")
            ids = [i["InstanceId"] for i in r["Instances"]]
            self.assertEqual(r["Instances"][0]["State"],
                             {"Code": 0, "Name": "pending"})

            def states():
                res = ec2.describe_instances(InstanceIds=ids)
                return [i["State"]["Name"] for rr in res["Reservations"]
                        for i in rr["Instances"]]
            self.assertEqual(states(), ["pending", "pending"])
            E.advance(11)
            self.assertEqual(states(), ["running", "running"])
            st = ec2.stop_instances(InstanceIds=ids)["StoppingInstances"]
            self.assertEqual(st[0]["CurrentState"]["Name"], "stopping")
            self.assertEqual(st[0]["PreviousState"]["Name"], "running")
            E.advance(11)
            self.assertEqual(states(), ["stopped", "stopped"])
            ec2.terminate_instances(InstanceIds=ids)
            E.advance(11)
            self.assertEqual(states(), ["terminated", "terminated"])
            code, _, _ = error_of(ec2.describe_instances,
                                  InstanceIds=["i-0123456789abcdef0"])
            self.assertEqual(code, "InvalidInstanceID.NotFound")
        finally:
            E.settings(instance_transition_seconds=0)
            E.advance(-33)


class CopyImage(unittest.TestCase):
    def test_copy_to_other_region_with_tags(self):
        src = E.ec2()
        ami = make_image(src, tags={"Name": "golden"})
        dst = E.ec2(BUILD, "eu-west-2")
        cp = dst.copy_image(SourceImageId=ami, SourceRegion="us-east-1",
                            Name="golden-copy", CopyImageTags=True,
                            TagSpecifications=[{"ResourceType": "image",
                                                "Tags": [{"Key": "copied",
                                                          "Value": "1"}]}]
                            )["ImageId"]
        img = dst.describe_images(ImageIds=[cp])["Images"][0]
        self.assertEqual({t["Key"]: t["Value"] for t in img["Tags"]},
                         {"Name": "golden", "copied": "1"})
        self.assertEqual(img["SourceImageId"], ami)
        self.assertEqual(img["SourceImageRegion"], "us-east-1")
        self.assertNotEqual(snapshot_of(dst, cp), snapshot_of(src, ami))
        lp = dst.describe_image_attribute(ImageId=cp,
                                          Attribute="launchPermission")
        self.assertEqual(lp["LaunchPermissions"], [])

    def test_client_token_is_idempotent(self):
        ami = make_image(E.ec2())
        dst = E.ec2(BUILD, "eu-west-3")
        a = dst.copy_image(SourceImageId=ami, SourceRegion="us-east-1",
                           Name=unique("ct"), ClientToken="tok-1")
        b = dst.copy_image(SourceImageId=ami, SourceRegion="us-east-1",
                           Name=unique("ct"), ClientToken="tok-1")
        self.assertEqual(a["ImageId"], b["ImageId"])

    def test_encrypted_copy_uses_destination_key(self):
        ami = make_image(E.ec2())
        dst = E.ec2(BUILD, "eu-west-2")
        key = E.client("kms", BUILD, "eu-west-2").create_key()[
            "KeyMetadata"]["Arn"]
        cp = dst.copy_image(SourceImageId=ami, SourceRegion="us-east-1",
                            Name=unique("enc"), Encrypted=True,
                            KmsKeyId=key)["ImageId"]
        ebs = dst.describe_images(ImageIds=[cp])["Images"][0][
            "BlockDeviceMappings"][0]["Ebs"]
        self.assertTrue(ebs["Encrypted"])
        self.assertEqual(ebs["KmsKeyId"], key)
        cp2 = dst.copy_image(SourceImageId=ami, SourceRegion="us-east-1",
                             Name=unique("enc"), Encrypted=True)["ImageId"]
        ebs = dst.describe_images(ImageIds=[cp2])["Images"][0][
            "BlockDeviceMappings"][0]["Ebs"]
        meta = E.client("kms", BUILD, "eu-west-2").describe_key(
            KeyId=ebs["KmsKeyId"])["KeyMetadata"]
        self.assertEqual(meta["KeyManager"], "AWS")

    def test_bad_key_fails_asynchronously(self):
        ami = make_image(E.ec2())
        dst = E.ec2(BUILD, "eu-west-2")
        cp = dst.copy_image(SourceImageId=ami, SourceRegion="us-east-1",
                            Name=unique("badkey"), Encrypted=True,
                            KmsKeyId="alias/does-not-exist")["ImageId"]
        img = dst.describe_images(ImageIds=[cp])["Images"][0]
        self.assertEqual(img["State"], "failed")
        self.assertIn("StateReason", img)

    def test_cross_account_copy_needs_snapshot_access(self):
        src = E.ec2()
        ami = make_image(src)
        src.modify_image_attribute(ImageId=ami, LaunchPermission={
            "Add": [{"UserId": WORKLOAD}]})
        t = E.ec2(WORKLOAD, "us-east-1")
        code, st, msg = error_of(t.copy_image, SourceImageId=ami,
                                 SourceRegion="us-east-1",
                                 Name=unique("xacct"))
        self.assertEqual((code, st), ("InvalidRequest", 400))
        src.modify_snapshot_attribute(SnapshotId=snapshot_of(src, ami),
                                      Attribute="createVolumePermission",
                                      OperationType="add",
                                      UserIds=[WORKLOAD])
        cp = t.copy_image(SourceImageId=ami, SourceRegion="us-east-1",
                          Name=unique("xacct"))["ImageId"]
        self.assertEqual(t.describe_images(ImageIds=[cp])["Images"][0][
            "OwnerId"], WORKLOAD)

    def test_copy_errors(self):
        dst = E.ec2(BUILD, "eu-west-2")
        code, st, _ = error_of(dst.copy_image,
                               SourceImageId="ami-0123456789abcdef0",
                               SourceRegion="us-east-1", Name=unique("x"))
        self.assertEqual((code, st), ("InvalidAMIID.NotFound", 400))
        code, st, _ = error_of(dst.copy_image,
                               SourceImageId="ami-0123456789abcdef0",
                               SourceRegion="atlantis", Name=unique("x"))
        self.assertEqual(code, "InvalidRegion")


if __name__ == "__main__":
    import pytap
    pytap.main()
