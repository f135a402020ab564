#!/usr/bin/env python3
"""Tags: privacy between accounts on shared images, DescribeTags and tag
filters, AWS's limits and errors, DeleteTags semantics, DryRun and
denied actions."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import (Emulator, BUILD, WORKLOAD, PROD_A, SANDBOX,  # noqa
                     ou_arn, error_of, make_image, snapshot_of)

E = None
WORLD_DENY = [{"account": WORKLOAD, "action": "CreateTags",
               "region": "eu-west-1"}]


def setUpModule():
    global E
    import json
    from emulator.world import DEFAULT_WORLD
    w = json.loads(json.dumps(DEFAULT_WORLD))
    w["deny"] = WORLD_DENY
    E = Emulator(world=w)


def tearDownModule():
    E.stop()


def tags_of(acct, ami, region="us-east-1"):
    img = E.ec2(acct, region).describe_images(ImageIds=[ami])["Images"][0]
    return {t["Key"]: t["Value"] for t in img.get("Tags", [])}


def shared_image(*accounts, region="us-east-1"):
    ec2 = E.ec2(BUILD, region)
    ami = make_image(ec2, tags={"Name": "golden", "owner-only": "1"})
    ec2.modify_image_attribute(ImageId=ami, LaunchPermission={
        "Add": [{"UserId": a} for a in accounts]})
    return ami


class Privacy(unittest.TestCase):
    def test_owner_tags_invisible_to_target_and_back(self):
        ami = shared_image(WORKLOAD, PROD_A)
        self.assertEqual(tags_of(WORKLOAD, ami), {})
        E.ec2(WORKLOAD).create_tags(Resources=[ami], Tags=[
            {"Key": "Name", "Value": "copy-of-golden"},
            {"Key": "team", "Value": ""}])
        self.assertEqual(tags_of(WORKLOAD, ami),
                         {"Name": "copy-of-golden", "team": ""})
        self.assertEqual(tags_of(BUILD, ami),
                         {"Name": "golden", "owner-only": "1"})
        self.assertEqual(tags_of(PROD_A, ami), {})
        st = E.state(WORKLOAD)
        img = [i for i in st["ec2"]["images"] if i["id"] == ami][0]
        self.assertEqual(img["tags"], {"Name": "copy-of-golden", "team": ""})

    def test_describe_tags_and_filters_are_per_account(self):
        ami = shared_image(WORKLOAD)
        E.ec2(WORKLOAD).create_tags(Resources=[ami], Tags=[
            {"Key": "golden", "Value": "yes"}])
        mine = E.ec2(WORKLOAD).describe_tags(Filters=[
            {"Name": "resource-id", "Values": [ami]}])["Tags"]
        self.assertEqual(mine, [{"Key": "golden", "ResourceId": ami,
                                 "ResourceType": "image", "Value": "yes"}])
        owner = E.ec2().describe_tags(Filters=[
            {"Name": "resource-id", "Values": [ami]},
            {"Name": "key", "Values": ["golden"]}])["Tags"]
        self.assertEqual(owner, [])
        by_tag = E.ec2(WORKLOAD).describe_images(Filters=[
            {"Name": "tag:golden", "Values": ["y*"]}])["Images"]
        self.assertIn(ami, [i["ImageId"] for i in by_tag])
        by_tag = E.ec2().describe_images(Owners=["self"], Filters=[
            {"Name": "tag:golden", "Values": ["*"]}])["Images"]
        self.assertNotIn(ami, [i["ImageId"] for i in by_tag])
        by_key = E.ec2(WORKLOAD).describe_images(Filters=[
            {"Name": "tag-key", "Values": ["owner-only"]}])["Images"]
        self.assertEqual(by_key, [])

    def test_target_tags_a_shared_snapshot_only_when_visible(self):
        ec2 = E.ec2()
        ami = shared_image(WORKLOAD)
        snap = snapshot_of(ec2, ami)
        code, st, _ = error_of(E.ec2(WORKLOAD).create_tags,
                               Resources=[snap],
                               Tags=[{"Key": "a", "Value": "b"}])
        self.assertEqual((code, st), ("InvalidSnapshot.NotFound", 400))
        ec2.modify_snapshot_attribute(SnapshotId=snap,
                                      Attribute="createVolumePermission",
                                      OperationType="add",
                                      UserIds=[WORKLOAD])
        E.ec2(WORKLOAD).create_tags(Resources=[snap],
                                    Tags=[{"Key": "a", "Value": "b"}])


class Limits(unittest.TestCase):
    def test_fifty_tags_per_resource_per_account(self):
        ami = shared_image(WORKLOAD)
        t = E.ec2(WORKLOAD)
        t.create_tags(Resources=[ami], Tags=[
            {"Key": "k%02d" % i, "Value": "v"} for i in range(50)])
        code, st, _ = error_of(t.create_tags, Resources=[ami],
                               Tags=[{"Key": "one-more", "Value": "v"}])
        self.assertEqual((code, st), ("TagLimitExceeded", 400))
        # Overwriting an existing key does not count.
        t.create_tags(Resources=[ami], Tags=[{"Key": "k00", "Value": "w"}])
        # The owner's budget is separate (it already has 2 of its own).
        E.ec2().create_tags(Resources=[ami], Tags=[
            {"Key": "o%02d" % i, "Value": "v"} for i in range(48)])

    def test_key_and_value_lengths_and_reserved_prefix(self):
        ami = make_image(E.ec2())
        ec2 = E.ec2()
        ec2.create_tags(Resources=[ami], Tags=[{"Key": "k" * 128,
                                                "Value": "v" * 256}])
        for tag, code in (({"Key": "k" * 129, "Value": "v"},
                           "InvalidParameterValue"),
                          ({"Key": "k", "Value": "v" * 257},
                           "InvalidParameterValue"),
                          ({"Key": "aws:cloudformation", "Value": "v"},
                           "InvalidTagKey.Malformed"),
                          ({"Key": "AWS:x", "Value": "v"},
                           "InvalidTagKey.Malformed"),
                          ({"Key": "", "Value": "v"},
                           "InvalidTagKey.Malformed")):
            c, st, _ = error_of(ec2.create_tags, Resources=[ami], Tags=[tag])
            self.assertEqual((c, st), (code, 400), tag["Key"][:10])
        self.assertEqual(error_of(ec2.delete_tags, Resources=[ami],
                                  Tags=[{"Key": "aws:x"}])[0],
                         "InvalidTagKey.Malformed")

    def test_resource_id_errors(self):
        ec2 = E.ec2()
        ami = make_image(ec2)
        cases = ((["ami-0123456789abcdef0"], "InvalidAMIID.NotFound"),
                 (["not-an-id"], "InvalidID"),
                 (["snap-0123456789abcdef0"], "InvalidSnapshot.NotFound"),
                 (["i-0123456789abcdef0"], "InvalidInstanceID.NotFound"),
                 ([ami, "ami-0123456789abcdef0"], "InvalidAMIID.NotFound"))
        for rids, code in cases:
            c, st, _ = error_of(ec2.create_tags, Resources=rids,
                                Tags=[{"Key": "a", "Value": "b"}])
            self.assertEqual((c, st), (code, 400), rids)
        # Nothing was applied by the failing call that included ami.
        self.assertEqual(tags_of(BUILD, ami), {})
        c, st, _ = error_of(ec2.create_tags, Resources=[ami] * 1001,
                            Tags=[{"Key": "a", "Value": "b"}])
        self.assertEqual((c, st), ("InvalidParameterValue", 400))
        ec2.create_tags(Resources=[ami] * 1000,
                        Tags=[{"Key": "a", "Value": "b"}])
        c, st, _ = error_of(E.ec2(SANDBOX).create_tags, Resources=[ami],
                            Tags=[{"Key": "a", "Value": "b"}])
        self.assertEqual((c, st), ("InvalidAMIID.NotFound", 400))


class DeleteTags(unittest.TestCase):
    def test_delete_semantics(self):
        ec2 = E.ec2()
        ami = make_image(ec2)
        ec2.create_tags(Resources=[ami], Tags=[
            {"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""},
            {"Key": "c", "Value": "3"}, {"Key": "d", "Value": "4"}])
        ec2.delete_tags(Resources=[ami], Tags=[{"Key": "a", "Value": "x"}])
        self.assertIn("a", tags_of(BUILD, ami))
        ec2.delete_tags(Resources=[ami], Tags=[{"Key": "a"}])
        self.assertNotIn("a", tags_of(BUILD, ami))
        ec2.delete_tags(Resources=[ami], Tags=[{"Key": "c", "Value": ""}])
        self.assertIn("c", tags_of(BUILD, ami))
        ec2.delete_tags(Resources=[ami], Tags=[{"Key": "b", "Value": ""}])
        self.assertEqual(tags_of(BUILD, ami), {"c": "3", "d": "4"})
        ec2.delete_tags(Resources=[ami])
        self.assertEqual(tags_of(BUILD, ami), {})

    def test_target_delete_does_not_touch_owner_tags(self):
        ami = shared_image(WORKLOAD)
        E.ec2(WORKLOAD).create_tags(Resources=[ami],
                                    Tags=[{"Key": "Name", "Value": "t"}])
        E.ec2(WORKLOAD).delete_tags(Resources=[ami])
        self.assertEqual(tags_of(WORKLOAD, ami), {})
        self.assertEqual(tags_of(BUILD, ami),
                         {"Name": "golden", "owner-only": "1"})


class DryRunAndDeny(unittest.TestCase):
    def test_dry_run(self):
        ami = shared_image(WORKLOAD)
        code, st, _ = error_of(E.ec2(WORKLOAD).create_tags, Resources=[ami],
                               Tags=[{"Key": "a", "Value": "b"}],
                               DryRun=True)
        self.assertEqual((code, st), ("DryRunOperation", 412))
        self.assertEqual(tags_of(WORKLOAD, ami), {})
        # Validation comes before the dry-run answer.
        code, st, _ = error_of(E.ec2(WORKLOAD).create_tags, Resources=[ami],
                               Tags=[{"Key": "aws:a", "Value": "b"}],
                               DryRun=True)
        self.assertEqual(code, "InvalidTagKey.Malformed")

    def test_create_tags_denied_in_one_region(self):
        ami = shared_image(WORKLOAD, region="eu-west-1")
        t = E.ec2(WORKLOAD, "eu-west-1")
        code, st, msg = error_of(t.create_tags, Resources=[ami],
                                 Tags=[{"Key": "a", "Value": "b"}])
        self.assertEqual((code, st), ("UnauthorizedOperation", 403))
        self.assertIn("Encoded authorization failure message", msg)
        code, st, _ = error_of(t.create_tags, Resources=[ami],
                               Tags=[{"Key": "a", "Value": "b"}],
                               DryRun=True)
        self.assertEqual((code, st), ("UnauthorizedOperation", 403))
        other = shared_image(WORKLOAD)
        E.ec2(WORKLOAD).create_tags(Resources=[other],
                                    Tags=[{"Key": "a", "Value": "b"}])


class Pagination(unittest.TestCase):
    def test_describe_tags_pages(self):
        ec2 = E.ec2(BUILD, "ap-south-1")
        ami = make_image(ec2)
        ec2.create_tags(Resources=[ami], Tags=[
            {"Key": "p%02d" % i, "Value": str(i)} for i in range(12)])
        keys = []
        tok = None
        pages = 0
        while True:
            kw = {"MaxResults": 5}
            if tok:
                kw["NextToken"] = tok
            r = ec2.describe_tags(**kw)
            keys += [t["Key"] for t in r["Tags"]]
            pages += 1
            tok = r.get("NextToken")
            if not tok:
                break
        self.assertEqual(keys, ["p%02d" % i for i in range(12)])
        self.assertEqual(pages, 3)
        code, st, _ = error_of(ec2.describe_tags, MaxResults=4)
        self.assertEqual((code, st), ("InvalidParameterValue", 400))
        code, st, _ = error_of(ec2.describe_tags, MaxResults=5,
                               NextToken="garbage")
        self.assertEqual(code, "InvalidPaginationToken")


if __name__ == "__main__":
    import pytap
    pytap.main()
