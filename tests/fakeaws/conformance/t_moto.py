#!/usr/bin/env python3
"""Single-account scenarios run against both moto's server and the
emulator; both must give the same answers. Needs moto (installed for the
default python3); without it this file fails rather than skips.

Scenarios where moto departs from the AWS documentation are not
compared here; README.md lists them with the reasons."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import Emulator, BUILD, key_of, secret_of, session, NO_RETRY  # noqa

from botocore.exceptions import ClientError  # noqa: E402

FAKE = MOTO = None
MOTO_SERVER = None


def setUpModule():
    global FAKE, MOTO, MOTO_SERVER
    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        raise RuntimeError("moto is required for the comparison tests "
                           "(run with the python3 that has moto): %s" % e)
    MOTO_SERVER = ThreadedMotoServer(ip_address="127.0.0.1", port=0,
                                     verbose=False)
    MOTO_SERVER.start()
    host, port = MOTO_SERVER.get_host_and_port()
    MOTO = Backend("http://%s:%d" % (host, port), "testing", "testing")
    FAKE_E = Emulator()
    FAKE = Backend(FAKE_E.endpoint, key_of(BUILD), secret_of(BUILD))
    FAKE.emulator = FAKE_E


def tearDownModule():
    if FAKE is not None:
        FAKE.emulator.stop()
    if MOTO_SERVER is not None:
        MOTO_SERVER.stop()


class Backend(object):
    def __init__(self, endpoint, ak, sk):
        self.endpoint = endpoint
        self.creds = (ak, sk)
        self.clients = {}
        self._base = None

    def base(self):
        if self._base is None:
            self._base = sorted(
                self.c("ec2").describe_images(Owners=["amazon"])["Images"],
                key=lambda i: i["ImageId"])[0]["ImageId"]
        return self._base

    def c(self, svc, region="us-east-1"):
        if (svc, region) not in self.clients:
            self.clients[(svc, region)] = session().create_client(
                svc, region_name=region, endpoint_url=self.endpoint,
                aws_access_key_id=self.creds[0],
                aws_secret_access_key=self.creds[1], config=NO_RETRY)
        return self.clients[(svc, region)]

    def image(self, name):
        ec2 = self.c("ec2")
        iid = ec2.run_instances(ImageId=self.base(), MinCount=1, MaxCount=1,
                                InstanceType="t3.micro")["Instances"][0][
                                    "InstanceId"]
        return ec2.create_image(InstanceId=iid, Name=name)["ImageId"]


def err(fn, *a, **kw):
    try:
        fn(*a, **kw)
    except ClientError as e:
        return (e.response["Error"]["Code"],
                e.response["ResponseMetadata"]["HTTPStatusCode"])
    return None


def both(scenario):
    return scenario(MOTO), scenario(FAKE)


class SameAnswers(unittest.TestCase):
    def check(self, scenario):
        m, f = both(scenario)
        self.assertEqual(m, f)
        return f

    def test_unknown_image_id(self):
        self.check(lambda b: err(b.c("ec2").describe_images,
                                 ImageIds=["ami-0123456789abcdef0"]))

    def test_own_tags_round_trip(self):
        def s(b):
            ec2 = b.c("ec2")
            ami = b.image("moto-tags")
            ec2.create_tags(Resources=[ami], Tags=[
                {"Key": "Name", "Value": "golden"},
                {"Key": "empty", "Value": ""}])
            tags = ec2.describe_tags(Filters=[
                {"Name": "resource-id", "Values": [ami]}])["Tags"]
            img = ec2.describe_images(ImageIds=[ami])["Images"][0]
            return (sorted((t["Key"], t["Value"], t["ResourceType"])
                           for t in tags),
                    sorted((t["Key"], t["Value"]) for t in img["Tags"]))
        self.assertEqual(self.check(s)[1], [("Name", "golden"),
                                            ("empty", "")])

    def test_delete_tags(self):
        def s(b):
            ec2 = b.c("ec2")
            ami = b.image("moto-del")
            ec2.create_tags(Resources=[ami], Tags=[
                {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
            ec2.delete_tags(Resources=[ami], Tags=[{"Key": "a"}])
            return sorted(t["Key"] for t in ec2.describe_tags(Filters=[
                {"Name": "resource-id", "Values": [ami]}])["Tags"])
        self.assertEqual(self.check(s), ["b"])

    def test_tag_limit(self):
        def s(b):
            ec2 = b.c("ec2")
            ami = b.image("moto-limit")
            ec2.create_tags(Resources=[ami], Tags=[
                {"Key": "k%d" % i, "Value": "v"} for i in range(50)])
            return err(ec2.create_tags, Resources=[ami],
                       Tags=[{"Key": "x", "Value": "y"}])
        self.assertEqual(self.check(s), ("TagLimitExceeded", 400))

    def test_dry_run_create_tags(self):
        def s(b):
            ami = b.image("moto-dry")
            return err(b.c("ec2").create_tags, Resources=[ami],
                       Tags=[{"Key": "x", "Value": "y"}], DryRun=True)
        self.assertEqual(self.check(s), ("DryRunOperation", 412))

    def test_launch_permission_round_trip(self):
        def s(b):
            ec2 = b.c("ec2")
            ami = b.image("moto-lp")
            ec2.modify_image_attribute(ImageId=ami, LaunchPermission={
                "Add": [{"UserId": "222222222222"},
                        {"UserId": "333333333333"}]})
            ec2.modify_image_attribute(ImageId=ami, LaunchPermission={
                "Remove": [{"UserId": "333333333333"}]})
            return ec2.describe_image_attribute(
                ImageId=ami, Attribute="launchPermission")[
                    "LaunchPermissions"]
        self.assertEqual(self.check(s), [{"UserId": "222222222222"}])

    def test_invalid_user_id(self):
        def s(b):
            ami = b.image("moto-baduser")
            return err(b.c("ec2").modify_image_attribute, ImageId=ami,
                       LaunchPermission={"Add": [{"UserId": "12-34"}]})
        self.assertEqual(self.check(s),
                         ("InvalidAMIAttributeItemValue", 400))

    def test_name_filter_wildcards(self):
        def s(b):
            ec2 = b.c("ec2")
            for n in ("cmp-web-1", "cmp-web-2", "cmp-db-1"):
                b.image(n)
            imgs = ec2.describe_images(Owners=["self"], Filters=[
                {"Name": "name", "Values": ["cmp-web-*"]}])["Images"]
            return sorted(i["Name"] for i in imgs)
        self.assertEqual(self.check(s), ["cmp-web-1", "cmp-web-2"])

    def test_ssm_versions_and_overwrite(self):
        def s(b):
            ssm = b.c("ssm")
            v1 = ssm.put_parameter(Name="/cmp/p", Value="a",
                                   Type="String")["Version"]
            e = err(ssm.put_parameter, Name="/cmp/p", Value="b",
                    Type="String")
            v2 = ssm.put_parameter(Name="/cmp/p", Value="b",
                                   Overwrite=True)["Version"]
            p = ssm.get_parameter(Name="/cmp/p")["Parameter"]
            nf = err(ssm.get_parameter, Name="/cmp/none")
            return v1, e, v2, p["Value"], p["Version"], nf
        self.assertEqual(self.check(s),
                         (1, ("ParameterAlreadyExists", 400), 2, "b", 2,
                          ("ParameterNotFound", 400)))

    def test_ssm_tags_with_overwrite(self):
        self.check(lambda b: err(b.c("ssm").put_parameter, Name="/cmp/t",
                                 Value="v", Type="String", Overwrite=True,
                                 Tags=[{"Key": "a", "Value": "b"}]))

    def test_kms_grants(self):
        def s(b):
            kms = b.c("kms")
            key = kms.create_key(Description="cmp")["KeyMetadata"]["KeyId"]
            g = kms.create_grant(KeyId=key, Operations=["Decrypt"],
                                 GranteePrincipal="arn:aws:iam::"
                                 "222222222222:root")
            grants = kms.list_grants(KeyId=key)["Grants"]
            kms.revoke_grant(KeyId=key, GrantId=g["GrantId"])
            after = kms.list_grants(KeyId=key)["Grants"]
            meta = kms.describe_key(KeyId=key)["KeyMetadata"]
            return (len(grants), grants[0]["Operations"], len(after),
                    meta["KeyManager"], meta["KeyState"])
        self.assertEqual(self.check(s), (1, ["Decrypt"], 0, "CUSTOMER",
                                         "Enabled"))

    def test_sts_caller_identity_shape(self):
        def s(b):
            who = b.c("sts").get_caller_identity()
            return sorted(k for k in who if k != "ResponseMetadata")
        self.assertEqual(self.check(s), ["Account", "Arn", "UserId"])

    def test_instance_lifecycle(self):
        def s(b):
            ec2 = b.c("ec2")
            iid = ec2.run_instances(ImageId=b.base(), MinCount=1, MaxCount=1,
                                    InstanceType="t3.micro")["Instances"][
                                        0]["InstanceId"]
            stop = ec2.stop_instances(InstanceIds=[iid])[
                "StoppingInstances"][0]
            term = ec2.terminate_instances(InstanceIds=[iid])[
                "TerminatingInstances"][0]
            return (stop["PreviousState"]["Name"],
                    term["CurrentState"]["Name"] in ("shutting-down",
                                                     "terminated"))
        self.assertEqual(self.check(s), ("running", True))


if __name__ == "__main__":
    import pytap
    pytap.main()
