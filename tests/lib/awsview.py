#!/usr/bin/env python3
"""Look at AWS state from an account's own side, with botocore as the
client (an independent implementation, not amishare's).

usage: awsview.py ENDPOINT tags ACCOUNT:REGION:AMI ...
       awsview.py ENDPOINT param ACCOUNT:REGION:NAME ...
       awsview.py ENDPOINT grants OWNER:REGION:KEY ...
       awsview.py ENDPOINT launch ACCOUNT:REGION:AMI ...
       awsview.py ENDPOINT deprecation OWNER:REGION:AMI ...
       awsview.py ENDPOINT newkey OWNER:REGION
       awsview.py ENDPOINT perms OWNER:REGION:AMI ...
       awsview.py ENDPOINT snapperms OWNER:REGION:SNAPSHOT ...
       awsview.py ENDPOINT untag ACCOUNT:REGION:AMI:KEY ...

tags prints "ACCOUNT REGION AMI k=v,k=v" (sorted) or "... not-visible";
perms prints the launch permissions ("user:ID", "ou:ARN", ...) sorted;
snapperms prints the snapshot's createVolumePermission user ids.
Credentials are the default world's keys for ACCOUNT.
"""
import os
import sys

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

_clients = {}


def client(endpoint, account, region, service="ec2"):
    key = (account, region, service)
    if key not in _clients:
        s = botocore.session.get_session()
        _clients[key] = s.create_client(
            service, region_name=region, endpoint_url=endpoint,
            aws_access_key_id="AKIAFAKE" + account,
            aws_secret_access_key="fakeaws-secret-%s-EXAMPLEKEY0" % account,
            verify=os.environ.get("AWS_CA_BUNDLE") or True,
            config=Config(retries={"max_attempts": 1}))
    return _clients[key]


def tags(ep, account, region, ami):
    try:
        imgs = client(ep, account, region).describe_images(
            ImageIds=[ami])["Images"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "InvalidAMIID.NotFound":
            return "not-visible"
        raise
    if not imgs:
        return "not-visible"
    t = sorted("%s=%s" % (x["Key"], x["Value"])
               for x in imgs[0].get("Tags", []))
    return ",".join(t) if t else "(no tags)"


def perms(ep, owner, region, ami):
    r = client(ep, owner, region).describe_image_attribute(
        ImageId=ami, Attribute="launchPermission")
    out = []
    for p in r.get("LaunchPermissions", []):
        if "UserId" in p:
            out.append("user:" + p["UserId"])
        elif "Group" in p:
            out.append("group:" + p["Group"])
        elif "OrganizationArn" in p:
            out.append("org:" + p["OrganizationArn"])
        elif "OrganizationalUnitArn" in p:
            out.append("ou:" + p["OrganizationalUnitArn"])
    return ",".join(sorted(out)) if out else "(none)"


def snapperms(ep, owner, region, snap):
    r = client(ep, owner, region).describe_snapshot_attribute(
        SnapshotId=snap, Attribute="createVolumePermission")
    ids = sorted(p.get("UserId", p.get("Group", "?"))
                 for p in r.get("CreateVolumePermissions", []))
    return ",".join(ids) if ids else "(none)"


def untag(ep, account, region, ami, key):
    client(ep, account, region).delete_tags(Resources=[ami],
                                            Tags=[{"Key": key}])
    return "deleted " + key


def param(ep, account, region, *name):
    name = ":".join(name)
    try:
        p = client(ep, account, region, "ssm").get_parameter(Name=name)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return p["Parameter"]["Value"]


def grants(ep, owner, region, *key):
    key = ":".join(key)
    g = client(ep, owner, region, "kms").list_grants(KeyId=key)["Grants"]
    return ",".join(sorted(x.get("Name", "-") for x in g)) or "(none)"


def launch(ep, account, region, ami):
    """Launches one instance; like AWS, a launch without access to the
    key of an encrypted snapshot is accepted and then terminates with
    Client.InternalError, so the instance's state decides."""
    import time
    ec2 = client(ep, account, region)
    try:
        r = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1,
                              InstanceType="t3.micro")
    except ClientError as e:
        return "refused " + e.response["Error"]["Code"]
    iid = r["Instances"][0]["InstanceId"]
    deadline = time.time() + 10
    while True:
        i = ec2.describe_instances(InstanceIds=[iid])[
            "Reservations"][0]["Instances"][0]
        state = i["State"]["Name"]
        if state in ("running", "terminated") or time.time() > deadline:
            break
        time.sleep(0.2)
    if state == "running":
        return "launched " + iid
    return "refused %s %s" % (state, i.get("StateReason", {}).get("Code"))


def deprecation(ep, owner, region, ami):
    img = client(ep, owner, region).describe_images(
        ImageIds=[ami])["Images"][0]
    return img.get("DeprecationTime", "none")


def newkey(ep, owner, region):
    k = client(ep, owner, region, "kms").create_key(
        Description="golden images")["KeyMetadata"]
    return k["Arn"]


def main():
    ep, what = sys.argv[1], sys.argv[2]
    fn = {"tags": tags, "perms": perms, "snapperms": snapperms,
          "untag": untag, "param": param, "grants": grants,
          "launch": launch, "deprecation": deprecation,
          "newkey": newkey}[what]
    for spec in sys.argv[3:]:
        parts = spec.split(":")
        print(" ".join(parts[:3]), fn(ep, *parts))


if __name__ == "__main__":
    main()
