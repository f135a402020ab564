#!/usr/bin/env python3
"""Launch permissions and cross-account visibility: accounts, the
organisation, nested OUs, suspended and outside accounts, public
sharing rules, quotas, ExecutableBy semantics, snapshot permissions and
the propagation-delay fault."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import (Emulator, MGMT, BUILD, WORKLOAD, PROD_A, PROD_B,  # noqa
                     SANDBOX, SUSPENDED, OUTSIDER, ORG_ARN, ou_arn, error_of,
                     make_image, snapshot_of)

E = None


def setUpModule():
    global E
    E = Emulator()


def tearDownModule():
    E.stop()


def visible(acct, ami, region="us-east-1"):
    try:
        E.ec2(acct, region).describe_images(ImageIds=[ami])
        return True
    except Exception as e:
        code = e.response["Error"]["Code"]
        assert code == "InvalidAMIID.NotFound", code
        return False


def share(ami, **item):
    E.ec2().modify_image_attribute(ImageId=ami,
                                   LaunchPermission={"Add": [item]})


def unshare(ami, **item):
    E.ec2().modify_image_attribute(ImageId=ami,
                                   LaunchPermission={"Remove": [item]})


ALL = (MGMT, BUILD, WORKLOAD, PROD_A, PROD_B, SANDBOX, OUTSIDER)


class Visibility(unittest.TestCase):
    def seen_by(self, ami):
        return {a for a in ALL if visible(a, ami)}

    def test_private_image_only_owner(self):
        ami = make_image(E.ec2())
        self.assertEqual(self.seen_by(ami), {BUILD})

    def test_account_share_and_remove(self):
        ami = make_image(E.ec2())
        share(ami, UserId=WORKLOAD)
        self.assertEqual(self.seen_by(ami), {BUILD, WORKLOAD})
        unshare(ami, UserId=WORKLOAD)
        self.assertEqual(self.seen_by(ami), {BUILD})

    def test_organisation_share_excludes_outsiders_and_suspended(self):
        ami = make_image(E.ec2())
        share(ami, OrganizationArn=ORG_ARN)
        self.assertEqual(self.seen_by(ami), set(ALL) - {OUTSIDER})
        st = E.state(SUSPENDED)
        self.assertNotIn(ami, [i["id"] for i in st["ec2"]["images"]])
        st = E.state(WORKLOAD)
        img = [i for i in st["ec2"]["images"] if i["id"] == ami][0]
        self.assertEqual(img["shared_via"], [{"org": ORG_ARN}])

    def test_ou_share_includes_nested_ous(self):
        ami = make_image(E.ec2())
        share(ami, OrganizationalUnitArn=ou_arn("ou-ams1-workload"))
        self.assertEqual(self.seen_by(ami), {BUILD, WORKLOAD, PROD_A, PROD_B})
        ami2 = make_image(E.ec2())
        share(ami2, OrganizationalUnitArn=ou_arn("ou-ams1-prodnest"))
        self.assertEqual(self.seen_by(ami2), {BUILD, PROD_A, PROD_B})

    def test_unknown_org_or_ou_matches_nobody(self):
        ami = make_image(E.ec2())
        share(ami, OrganizationArn="arn:aws:organizations::999999999999:"
                                   "organization/o-otherorg01")
        share(ami, OrganizationalUnitArn="arn:aws:organizations::"
                                         "100000000000:ou/o-amishare01/"
                                         "ou-ams1-nothere1")
        self.assertEqual(self.seen_by(ami), {BUILD})

    def test_flat_form_add_remove(self):
        ami = make_image(E.ec2())
        E.ec2().modify_image_attribute(ImageId=ami,
                                       Attribute="launchPermission",
                                       OperationType="add",
                                       UserIds=[SANDBOX, OUTSIDER])
        self.assertEqual(self.seen_by(ami), {BUILD, SANDBOX, OUTSIDER})
        E.ec2().modify_image_attribute(ImageId=ami,
                                       Attribute="launchPermission",
                                       OperationType="remove",
                                       UserIds=[OUTSIDER])
        self.assertEqual(self.seen_by(ami), {BUILD, SANDBOX})

    def test_regions_are_separate(self):
        ami = make_image(E.ec2())
        share(ami, UserId=WORKLOAD)
        code, st, _ = error_of(E.ec2(WORKLOAD, "eu-west-1").describe_images,
                               ImageIds=[ami])
        self.assertEqual((code, st), ("InvalidAMIID.NotFound", 400))

    def test_reset_clears_all_grants(self):
        ami = make_image(E.ec2())
        share(ami, UserId=WORKLOAD)
        share(ami, OrganizationalUnitArn=ou_arn("ou-ams1-prodnest"))
        E.ec2().reset_image_attribute(ImageId=ami,
                                      Attribute="launchPermission")
        self.assertEqual(self.seen_by(ami), {BUILD})

    def test_default_listing_includes_shared_images(self):
        ami = make_image(E.ec2())
        share(ami, UserId=PROD_A)
        ids = [i["ImageId"] for i in E.ec2(PROD_A).describe_images(
            Owners=[BUILD])["Images"]]
        self.assertIn(ami, ids)
        ids = [i["ImageId"] for i in E.ec2(PROD_A).describe_images(
            Owners=["self"])["Images"]]
        self.assertNotIn(ami, ids)


class Attributes(unittest.TestCase):
    def test_describe_attribute_owner_only(self):
        ami = make_image(E.ec2())
        share(ami, UserId=WORKLOAD)
        share(ami, OrganizationalUnitArn=ou_arn("ou-ams1-prodnest"))
        lp = E.ec2().describe_image_attribute(
            ImageId=ami, Attribute="launchPermission")["LaunchPermissions"]
        self.assertEqual(lp, [{"UserId": WORKLOAD},
                              {"OrganizationalUnitArn":
                               ou_arn("ou-ams1-prodnest")}])
        code, st, msg = error_of(E.ec2(WORKLOAD).describe_image_attribute,
                                 ImageId=ami, Attribute="launchPermission")
        self.assertEqual((code, st), ("AuthFailure", 401))
        self.assertEqual(msg, "Not authorized for image:%s" % ami)
        code, st, _ = error_of(E.ec2(SANDBOX).describe_image_attribute,
                               ImageId=ami, Attribute="launchPermission")
        self.assertEqual((code, st), ("InvalidAMIID.NotFound", 400))

    def test_only_owner_modifies(self):
        ami = make_image(E.ec2())
        share(ami, UserId=WORKLOAD)
        code, st, _ = error_of(
            E.ec2(WORKLOAD).modify_image_attribute, ImageId=ami,
            LaunchPermission={"Add": [{"UserId": PROD_A}]})
        self.assertEqual((code, st), ("AuthFailure", 401))
        code, st, _ = error_of(
            E.ec2(SANDBOX).modify_image_attribute, ImageId=ami,
            LaunchPermission={"Add": [{"UserId": PROD_A}]})
        self.assertEqual((code, st), ("InvalidAMIID.NotFound", 400))

    def test_item_validation(self):
        ami = make_image(E.ec2())
        for item in ({"UserId": "1111-2222-3333"}, {"UserId": "12345"},
                     {"Group": "everyone"},
                     {"OrganizationArn": "o-amishare01"},
                     {"OrganizationalUnitArn": "ou-ams1-workload"},
                     {"OrganizationArn": ou_arn("ou-ams1-workload")}):
            code, st, _ = error_of(E.ec2().modify_image_attribute,
                                   ImageId=ami,
                                   LaunchPermission={"Add": [item]})
            self.assertEqual((code, st),
                             ("InvalidAMIAttributeItemValue", 400), item)
        code, st, _ = error_of(E.ec2().modify_image_attribute,
                               ImageId="ami-zzz",
                               LaunchPermission={"Add": [{"UserId":
                                                          WORKLOAD}]})
        self.assertEqual(code, "InvalidAMIID.Malformed")

    def test_sharing_quota(self):
        E.settings(sharing_quota=3)
        try:
            ami = make_image(E.ec2())
            E.ec2().modify_image_attribute(
                ImageId=ami, LaunchPermission={"Add": [
                    {"UserId": WORKLOAD}, {"UserId": PROD_A},
                    {"OrganizationArn": ORG_ARN}]})
            code, st, _ = error_of(
                E.ec2().modify_image_attribute, ImageId=ami,
                LaunchPermission={"Add": [{"UserId": PROD_B}]})
            self.assertEqual((code, st), ("ResourceLimitExceeded", 400))
            # Re-adding an existing grantee is idempotent.
            share(ami, UserId=WORKLOAD)
        finally:
            E.settings(sharing_quota=1000)

    def test_public_sharing_rules(self):
        ami = make_image(E.ec2("111111111111", "eu-north-1"))
        ec2 = E.ec2(BUILD, "eu-north-1")
        self.assertEqual(ec2.get_image_block_public_access_state()[
            "ImageBlockPublicAccessState"], "block-new-sharing")
        code, st, _ = error_of(ec2.modify_image_attribute, ImageId=ami,
                               LaunchPermission={"Add": [{"Group": "all"}]})
        self.assertEqual((code, st), ("OperationNotPermitted", 400))
        ec2.disable_image_block_public_access()
        ec2.modify_image_attribute(ImageId=ami, LaunchPermission={
            "Add": [{"Group": "all"}]})
        self.assertTrue(visible(OUTSIDER, ami, "eu-north-1"))
        pub = E.ec2(OUTSIDER, "eu-north-1").describe_images(
            ExecutableUsers=["all"], Owners=[BUILD])["Images"]
        self.assertEqual([i["ImageId"] for i in pub], [ami])
        self.assertTrue(pub[0]["Public"])
        enc = make_image(ec2, encrypted=True,
                         kms_key=E.client("kms", BUILD, "eu-north-1")
                         .create_key()["KeyMetadata"]["Arn"])
        code, st, _ = error_of(ec2.modify_image_attribute, ImageId=enc,
                               LaunchPermission={"Add": [{"Group": "all"}]})
        self.assertEqual((code, st), ("UnsupportedOperation", 400))

    def test_default_key_images_cannot_be_shared(self):
        ami = make_image(E.ec2(), encrypted=True)
        code, st, msg = error_of(
            E.ec2().modify_image_attribute, ImageId=ami,
            LaunchPermission={"Add": [{"UserId": WORKLOAD}]})
        self.assertEqual((code, st), ("InvalidParameter", 400))
        self.assertIn("AWS Managed CMK", msg)


class ExecutableBy(unittest.TestCase):
    def test_foreign_id_excludes_org_and_ou_shares(self):
        explicit = make_image(E.ec2())
        share(explicit, UserId=WORKLOAD)
        via_ou = make_image(E.ec2())
        share(via_ou, OrganizationalUnitArn=ou_arn("ou-ams1-workload"))
        mine = E.ec2().describe_images(ExecutableUsers=[WORKLOAD],
                                       Owners=["self"])["Images"]
        ids = {i["ImageId"] for i in mine}
        self.assertIn(explicit, ids)
        self.assertNotIn(via_ou, ids)
        theirs = E.ec2(WORKLOAD).describe_images(ExecutableUsers=["self"],
                                                 Owners=[BUILD])["Images"]
        ids = {i["ImageId"] for i in theirs}
        self.assertIn(explicit, ids)
        self.assertIn(via_ou, ids)
        same = E.ec2(WORKLOAD).describe_images(ExecutableUsers=[WORKLOAD],
                                               Owners=[BUILD])["Images"]
        self.assertEqual({i["ImageId"] for i in same}, ids)

    def test_bad_user_ids(self):
        for kw in ({"ExecutableUsers": ["someone"]}, {"Owners": ["12"]}):
            code, st, _ = error_of(E.ec2().describe_images, **kw)
            self.assertEqual((code, st), ("InvalidUserID.Malformed", 400))


class Snapshots(unittest.TestCase):
    def test_snapshot_permissions(self):
        ec2 = E.ec2()
        key = E.client("kms").create_key()["KeyMetadata"]["Arn"]
        ami = make_image(ec2, encrypted=True, kms_key=key)
        snap = snapshot_of(ec2, ami)
        ec2.modify_snapshot_attribute(SnapshotId=snap,
                                      Attribute="createVolumePermission",
                                      OperationType="add",
                                      UserIds=[WORKLOAD])
        got = E.ec2(WORKLOAD).describe_snapshots(
            RestorableByUserIds=["self"])["Snapshots"]
        self.assertIn(snap, [s["SnapshotId"] for s in got])
        self.assertTrue(got[0]["Encrypted"])
        attr = ec2.describe_snapshot_attribute(
            SnapshotId=snap, Attribute="createVolumePermission")
        self.assertEqual(attr["CreateVolumePermissions"],
                         [{"UserId": WORKLOAD}])
        code, st, _ = error_of(E.ec2(WORKLOAD).describe_snapshot_attribute,
                               SnapshotId=snap,
                               Attribute="createVolumePermission")
        self.assertEqual((code, st), ("AuthFailure", 401))
        code, st, _ = error_of(ec2.modify_snapshot_attribute,
                               SnapshotId=snap, CreateVolumePermission={
                                   "Add": [{"UserId": PROD_A}],
                                   "Remove": [{"UserId": WORKLOAD}]})
        self.assertEqual((code, st), ("InvalidParameterCombination", 400))
        code, st, _ = error_of(ec2.modify_snapshot_attribute,
                               SnapshotId=snap, CreateVolumePermission={
                                   "Add": [{"Group": "all"}]})
        self.assertEqual((code, st), ("UnsupportedOperation", 400))

    def test_inaccessible_snapshot_ids_are_omitted(self):
        ec2 = E.ec2()
        snap = snapshot_of(ec2, make_image(ec2))
        self.assertEqual(E.ec2(WORKLOAD).describe_snapshots(
            SnapshotIds=[snap])["Snapshots"], [])
        code, st, _ = error_of(E.ec2(WORKLOAD).describe_snapshots,
                               SnapshotIds=["snap-0123456789abcdef0"])
        self.assertEqual((code, st), ("InvalidSnapshot.NotFound", 400))
        code, st, _ = error_of(E.ec2(WORKLOAD).describe_snapshots,
                               SnapshotIds=["snap-xyz"])
        self.assertEqual(code, "InvalidSnapshotID.Malformed")

    def test_default_key_snapshot_cannot_be_shared(self):
        ec2 = E.ec2()
        snap = snapshot_of(ec2, make_image(ec2, encrypted=True))
        code, st, msg = error_of(ec2.modify_snapshot_attribute,
                                 SnapshotId=snap,
                                 Attribute="createVolumePermission",
                                 OperationType="add", UserIds=[WORKLOAD])
        self.assertEqual((code, st), ("OperationNotPermitted", 400))


class Propagation(unittest.TestCase):
    def test_share_becomes_visible_after_the_delay(self):
        E.faults({"propagation_delay_seconds": 30})
        try:
            ami = make_image(E.ec2())
            share(ami, UserId=WORKLOAD)
            self.assertFalse(visible(WORKLOAD, ami))
            lp = E.ec2().describe_image_attribute(
                ImageId=ami, Attribute="launchPermission")
            self.assertEqual(lp["LaunchPermissions"], [{"UserId": WORKLOAD}])
            E.advance(31)
            self.assertTrue(visible(WORKLOAD, ami))
            unshare(ami, UserId=WORKLOAD)
            self.assertTrue(visible(WORKLOAD, ami))
            E.advance(31)
            self.assertFalse(visible(WORKLOAD, ami))
        finally:
            E.faults({})
            E.advance(-62)


if __name__ == "__main__":
    import pytap
    pytap.main()
