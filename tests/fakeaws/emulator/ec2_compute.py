"""EC2 compute side: instances (states only), volumes, security groups,
key pairs, the default VPC and its subnets, Regions and zones. Enough
for an image pipeline (RunInstances -> StopInstances -> CreateImage ->
TerminateInstances) and for Packer's amazon-ebs builder."""
import hashlib
import time

from .errors import AwsError

STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32,
               "terminated": 48, "stopping": 64, "stopped": 80}
AMAZON_ACCOUNT = "137112412989"


def _h(*parts):
    return hashlib.sha1("/".join(parts).encode()).hexdigest()


class ComputeMixin(object):
    def __init__(self):
        self.instances = {}     # region -> {id: instance}
        self.volumes = {}       # region -> {id: volume}
        self.sgs = {}           # region -> {id: group}
        self.keypairs = {}      # (account, region) -> {name: key}
        self.seeded = set()     # regions where public images exist

    def compute_handlers(self):
        return {
            "RunInstances": self.run_instances,
            "DescribeInstances": self.describe_instances,
            "DescribeInstanceStatus": self.describe_instance_status,
            "StopInstances": self.stop_instances,
            "StartInstances": self.start_instances,
            "TerminateInstances": self.terminate_instances,
            "ModifyInstanceAttribute": self.modify_instance_attribute,
            "DescribeInstanceAttribute": self.describe_instance_attribute,
            "CreateVolume": self.create_volume,
            "DescribeVolumes": self.describe_volumes,
            "DeleteVolume": self.delete_volume,
            "CreateSecurityGroup": self.create_security_group,
            "DescribeSecurityGroups": self.describe_security_groups,
            "AuthorizeSecurityGroupIngress": self.authorize_ingress,
            "RevokeSecurityGroupIngress": self.revoke_ingress,
            "DeleteSecurityGroup": self.delete_security_group,
            "CreateKeyPair": self.create_key_pair,
            "ImportKeyPair": self.import_key_pair,
            "DeleteKeyPair": self.delete_key_pair,
            "DescribeKeyPairs": self.describe_key_pairs,
            "DescribeVpcs": self.describe_vpcs,
            "DescribeSubnets": self.describe_subnets,
            "DescribeRegions": self.describe_regions,
            "DescribeAvailabilityZones": self.describe_azs,
            "DescribeAccountAttributes": self.describe_account_attributes,
            "GetEbsEncryptionByDefault": self.get_ebs_default,
            "GetEbsDefaultKmsKeyId": self.get_ebs_default_key,
        }

    # ---- public base images ------------------------------------------------
    def seed_region(self, region):
        """Create the world's public base images (e.g. an Amazon Linux
        look-alike owned by 'amazon') the first time a Region is used."""
        if region in self.seeded:
            return
        self.seeded.add(region)
        import fnmatch
        for spec in self.app.world.raw.get("public_images", []):
            if not fnmatch.fnmatchcase(region, spec.get("region", "*")):
                continue
            owner = spec.get("owner", AMAZON_ACCOUNT)
            iid = "ami-" + _h(region, spec["name"])[:17]
            sid = "snap-" + _h(region, spec["name"], "snap")[:17]
            size = spec.get("volume_size", 8)
            created = self.app.started - 86400 * 30
            self.snapshots.setdefault(region, {})[sid] = {
                "id": sid, "region": region, "owner": owner,
                "volume": "vol-ffffffff", "size": size, "encrypted": False,
                "kms_key": None, "description": spec["name"],
                "start": created, "complete_at": created,
                "cvp": [{"kind": "group", "value": "all"}]}
            ebs = {"SnapshotId": sid, "VolumeSize": size,
                   "DeleteOnTermination": True, "VolumeType": "gp2",
                   "Encrypted": False}
            root = spec.get("root_device", "/dev/xvda")
            self.images.setdefault(region, {})[iid] = {
                "id": iid, "region": region, "owner": owner,
                "alias": spec.get("owner_alias", "amazon"),
                "name": spec["name"],
                "location": "amazon/%s" % spec["name"],
                "created": created, "available_at": created,
                "deregistered": None,
                "architecture": spec.get("architecture", "x86_64"),
                "root_device": root,
                "bdm": [{"DeviceName": root, "Ebs": ebs}],
                "lps": [{"kind": "group", "value": "all", "added": 0,
                         "removed": None}],
                "description": spec.get("description", spec["name"]),
                "boot_mode": None, "imds_support": None, "failed": None,
                "deprecation": None}

    # ---- network -----------------------------------------------------------
    def default_vpc(self, acct, region):
        return "vpc-" + _h(acct, region, "vpc")[:17]

    def subnets(self, acct, region):
        out = []
        for i, z in enumerate("abc"):
            out.append({"SubnetId": "subnet-" + _h(acct, region, z)[:17],
                        "AvailabilityZone": region + z,
                        "AvailabilityZoneId": "use1-az%d" % (i + 1),
                        "CidrBlock": "172.31.%d.0/20" % (i * 16),
                        "VpcId": self.default_vpc(acct, region),
                        "State": "available", "DefaultForAz": True,
                        "MapPublicIpOnLaunch": True,
                        "AvailableIpAddressCount": 4091,
                        "OwnerId": acct,
                        "SubnetArn": "arn:aws:ec2:%s:%s:subnet/subnet-%s" % (
                            region, acct, _h(acct, region, z)[:17])})
        return out

    def default_sg(self, acct, region):
        gid = "sg-" + _h(acct, region, "default-sg")[:17]
        groups = self.sgs.setdefault(region, {})
        if gid not in groups:
            groups[gid] = {"id": gid, "owner": acct, "name": "default",
                           "description": "default VPC security group",
                           "vpc": self.default_vpc(acct, region),
                           "ingress": [], "region": region}
        return groups[gid]

    def describe_vpcs(self, ctx, d):
        from .ec2 import apply_filters
        vid = self.default_vpc(ctx.account, ctx.region)
        for v in d.get("VpcIds") or []:
            if v != vid:
                raise AwsError("InvalidVpcID.NotFound",
                               "The vpc ID '%s' does not exist" % v)
        vpc = {"VpcId": vid, "CidrBlock": "172.31.0.0/16",
               "State": "available", "IsDefault": True,
               "OwnerId": ctx.account, "InstanceTenancy": "default",
               "DhcpOptionsId": "dopt-" + _h(ctx.account, "dopt")[:8],
               "Tags": self.tag_list(ctx, vid)}
        docs = apply_filters([vpc], d.get("Filters"), {
            "vpc-id": lambda x: [x["VpcId"]],
            "is-default": lambda x: ["true"],
            "isDefault": lambda x: ["true"],
            "state": lambda x: [x["State"]],
            "cidr": lambda x: [x["CidrBlock"]],
            "cidr-block-association.cidr-block": lambda x: [x["CidrBlock"]],
            "owner-id": lambda x: [x["OwnerId"]],
        }, self.tag_extra(ctx, lambda x: x["VpcId"]))
        ctx.authorize()
        return {"Vpcs": docs}

    def describe_subnets(self, ctx, d):
        from .ec2 import apply_filters
        subs = self.subnets(ctx.account, ctx.region)
        ids = d.get("SubnetIds") or []
        if ids:
            known = {s["SubnetId"] for s in subs}
            for i in ids:
                if i not in known:
                    raise AwsError("InvalidSubnetID.NotFound",
                                   "The subnet ID '%s' does not exist" % i)
            subs = [s for s in subs if s["SubnetId"] in ids]
        for s in subs:
            s["Tags"] = self.tag_list(ctx, s["SubnetId"])
        docs = apply_filters(subs, d.get("Filters"), {
            "subnet-id": lambda x: [x["SubnetId"]],
            "vpc-id": lambda x: [x["VpcId"]],
            "availability-zone": lambda x: [x["AvailabilityZone"]],
            "availabilityZone": lambda x: [x["AvailabilityZone"]],
            "default-for-az": lambda x: ["true"],
            "defaultForAz": lambda x: ["true"],
            "state": lambda x: [x["State"]],
            "cidr-block": lambda x: [x["CidrBlock"]],
            "owner-id": lambda x: [x["OwnerId"]],
        }, self.tag_extra(ctx, lambda x: x["SubnetId"]))
        ctx.authorize()
        return {"Subnets": docs}

    def describe_regions(self, ctx, d):
        from .ec2 import apply_filters
        regions = self.app.models.regions(self.app.world.partition)
        names = d.get("RegionNames") or []
        for n in names:
            if n not in regions:
                raise AwsError("InvalidParameterValue",
                               "Invalid region: %s" % n)
        docs = [{"RegionName": r,
                 "Endpoint": "ec2.%s.amazonaws.com" % r,
                 "OptInStatus": "opt-in-not-required"}
                for r in regions if not names or r in names]
        docs = apply_filters(docs, d.get("Filters"), {
            "region-name": lambda x: [x["RegionName"]],
            "endpoint": lambda x: [x["Endpoint"]],
            "opt-in-status": lambda x: [x["OptInStatus"]],
        })
        ctx.authorize()
        return {"Regions": docs}

    def describe_azs(self, ctx, d):
        docs = [{"ZoneName": ctx.region + z, "State": "available",
                 "RegionName": ctx.region, "ZoneType": "availability-zone",
                 "ZoneId": "%s-az%d" % (ctx.region.replace("-", "")[:4],
                                        i + 1),
                 "OptInStatus": "opt-in-not-required",
                 "GroupName": ctx.region,
                 "NetworkBorderGroup": ctx.region}
                for i, z in enumerate("abc")]
        names = d.get("ZoneNames") or []
        if names:
            docs = [x for x in docs if x["ZoneName"] in names]
        ctx.authorize()
        return {"AvailabilityZones": docs}

    def describe_account_attributes(self, ctx, d):
        ctx.authorize()
        attrs = {"supported-platforms": ["VPC"],
                 "default-vpc": [self.default_vpc(ctx.account, ctx.region)],
                 "max-instances": ["20"],
                 "vpc-max-security-groups-per-interface": ["5"],
                 "max-elastic-ips": ["5"], "vpc-max-elastic-ips": ["5"]}
        names = d.get("AttributeNames") or list(attrs)
        return {"AccountAttributes": [
            {"AttributeName": n, "AttributeValues": [
                {"AttributeValue": v} for v in attrs.get(n, [])]}
            for n in names]}

    def get_ebs_default(self, ctx, d):
        ctx.authorize()
        return {"EbsEncryptionByDefault": False, "SseType": "sse-ebs"}

    def get_ebs_default_key(self, ctx, d):
        ctx.authorize()
        return {"KmsKeyId": "alias/aws/ebs"}

    # ---- key pairs ----------------------------------------------------------
    def _keys(self, ctx):
        return self.keypairs.setdefault((ctx.account, ctx.region), {})

    def create_key_pair(self, ctx, d):
        name = d["KeyName"]
        if not name or len(name) > 255:
            raise AwsError("InvalidParameterValue",
                           "Value for parameter KeyName is invalid.")
        keys = self._keys(ctx)
        if name in keys:
            raise AwsError("InvalidKeyPair.Duplicate",
                           "The keypair '%s' already exists." % name)
        self.check_tag_specs(d.get("TagSpecifications"), ("key-pair",))
        ctx.authorize()
        kid = "key-" + self.app.rand_hex(17)
        fp = ":".join(self.app.rand_hex(2) for _ in range(20))
        keys[name] = {"name": name, "id": kid, "fingerprint": fp,
                      "created": ctx.now}
        self.apply_tag_specs(ctx, d.get("TagSpecifications"), "key-pair", kid)
        material = ("-----BEGIN RSA PRIVATE KEY-----\n%s\n"
                    "-----END RSA PRIVATE KEY-----" %
                    "\n".join("MIIEfakeawsNOTAREALKEY" + self.app.rand_hex(42)
                              for _ in range(4)))
        return {"KeyName": name, "KeyFingerprint": fp,
                "KeyMaterial": material, "KeyPairId": kid,
                "Tags": self.tag_list(ctx, kid)}

    def import_key_pair(self, ctx, d):
        name = d["KeyName"]
        keys = self._keys(ctx)
        if name in keys:
            raise AwsError("InvalidKeyPair.Duplicate",
                           "The keypair '%s' already exists." % name)
        ctx.authorize()
        kid = "key-" + self.app.rand_hex(17)
        fp = ":".join(self.app.rand_hex(2) for _ in range(16))
        keys[name] = {"name": name, "id": kid, "fingerprint": fp,
                      "created": ctx.now}
        return {"KeyName": name, "KeyFingerprint": fp, "KeyPairId": kid}

    def delete_key_pair(self, ctx, d):
        keys = self._keys(ctx)
        ctx.authorize()
        name = d.get("KeyName")
        kid = d.get("KeyPairId")
        for n, k in list(keys.items()):
            if n == name or k["id"] == kid:
                del keys[n]
        return {"Return": True}

    def describe_key_pairs(self, ctx, d):
        from .ec2 import apply_filters
        keys = self._keys(ctx)
        names = d.get("KeyNames") or []
        for n in names:
            if n not in keys:
                raise AwsError("InvalidKeyPair.NotFound",
                               "The key pair '%s' does not exist" % n)
        docs = [{"KeyName": k["name"], "KeyPairId": k["id"],
                 "KeyFingerprint": k["fingerprint"], "KeyType": "rsa",
                 "CreateTime": k["created"],
                 "Tags": self.tag_list(ctx, k["id"])}
                for k in keys.values() if not names or k["name"] in names]
        docs = apply_filters(docs, d.get("Filters"), {
            "key-name": lambda x: [x["KeyName"]],
            "key-pair-id": lambda x: [x["KeyPairId"]],
            "fingerprint": lambda x: [x["KeyFingerprint"]],
        }, self.tag_extra(ctx, lambda x: x["KeyPairId"]))
        ctx.authorize()
        return {"KeyPairs": docs}

    # ---- security groups ---------------------------------------------------
    def _groups(self, ctx):
        self.default_sg(ctx.account, ctx.region)
        return {g["id"]: g for g in self.sgs.get(ctx.region, {}).values()
                if g["owner"] == ctx.account}

    def get_group(self, ctx, gid=None, name=None):
        for g in self._groups(ctx).values():
            if (gid and g["id"] == gid) or (name and g["name"] == name):
                return g
        if gid:
            raise AwsError("InvalidGroup.NotFound",
                           "The security group '%s' does not exist" % gid)
        raise AwsError("InvalidGroup.NotFound",
                       "The security group '%s' does not exist in default "
                       "VPC '%s'" % (name, self.default_vpc(ctx.account,
                                                            ctx.region)))

    def create_security_group(self, ctx, d):
        name = d["GroupName"]
        vpc = d.get("VpcId") or self.default_vpc(ctx.account, ctx.region)
        if vpc != self.default_vpc(ctx.account, ctx.region):
            raise AwsError("InvalidVpcID.NotFound",
                           "The vpc ID '%s' does not exist" % vpc)
        if name.lower().startswith("sg-") or len(name) > 255:
            raise AwsError("InvalidParameterValue",
                           "Group names may not be in the format sg-*.")
        for g in self._groups(ctx).values():
            if g["name"] == name:
                raise AwsError("InvalidGroup.Duplicate",
                               "The security group '%s' already exists for "
                               "VPC '%s'" % (name, vpc))
        self.check_tag_specs(d.get("TagSpecifications"),
                             ("security-group",))
        ctx.authorize()
        gid = "sg-" + self.app.rand_hex(17)
        self.sgs.setdefault(ctx.region, {})[gid] = {
            "id": gid, "owner": ctx.account, "name": name,
            "description": d["Description"], "vpc": vpc, "ingress": [],
            "region": ctx.region}
        self.apply_tag_specs(ctx, d.get("TagSpecifications"),
                             "security-group", gid)
        return {"GroupId": gid, "Tags": self.tag_list(ctx, gid),
                "SecurityGroupArn": "arn:aws:ec2:%s:%s:security-group/%s" % (
                    ctx.region, ctx.account, gid)}

    def _perm_list(self, d):
        perms = list(d.get("IpPermissions") or [])
        if d.get("IpProtocol") or d.get("CidrIp"):
            perms.append({"IpProtocol": d.get("IpProtocol", "-1"),
                          "FromPort": d.get("FromPort"),
                          "ToPort": d.get("ToPort"),
                          "IpRanges": [{"CidrIp": d.get("CidrIp",
                                                        "0.0.0.0/0")}]})
        return perms

    def authorize_ingress(self, ctx, d):
        g = self.get_group(ctx, d.get("GroupId"), d.get("GroupName"))
        perms = self._perm_list(d)
        if not perms:
            raise AwsError("MissingParameter", "The request must contain "
                           "the parameter IpPermissions")
        for p in perms:
            if p in g["ingress"]:
                raise AwsError("InvalidPermission.Duplicate",
                               "the specified rule already exists")
        ctx.authorize()
        rules = []
        for p in perms:
            g["ingress"].append(p)
            for r in p.get("IpRanges") or [{"CidrIp": "0.0.0.0/0"}]:
                rules.append({"SecurityGroupRuleId": "sgr-" +
                              self.app.rand_hex(17), "GroupId": g["id"],
                              "GroupOwnerId": ctx.account,
                              "IsEgress": False,
                              "IpProtocol": p.get("IpProtocol", "-1"),
                              "FromPort": p.get("FromPort", -1),
                              "ToPort": p.get("ToPort", -1),
                              "CidrIpv4": r.get("CidrIp")})
        return {"Return": True, "SecurityGroupRules": rules}

    def revoke_ingress(self, ctx, d):
        g = self.get_group(ctx, d.get("GroupId"), d.get("GroupName"))
        ctx.authorize()
        for p in self._perm_list(d):
            if p in g["ingress"]:
                g["ingress"].remove(p)
        return {"Return": True}

    def delete_security_group(self, ctx, d):
        g = self.get_group(ctx, d.get("GroupId"), d.get("GroupName"))
        if g["name"] == "default":
            raise AwsError("CannotDelete", "the specified group: \"%s\" name:"
                           " \"default\" cannot be deleted by a user"
                           % g["id"])
        for inst in self.instances.get(ctx.region, {}).values():
            if g["id"] in inst["sgs"] and \
                    self.instance_state(inst, ctx.now)[1] != "terminated":
                raise AwsError("DependencyViolation",
                               "resource %s has a dependent object" % g["id"])
        ctx.authorize()
        del self.sgs[ctx.region][g["id"]]
        return {"Return": True, "GroupId": g["id"]}

    def describe_security_groups(self, ctx, d):
        from .ec2 import apply_filters
        groups = self._groups(ctx)
        ids = d.get("GroupIds") or []
        names = d.get("GroupNames") or []
        sel = []
        for gid in ids:
            sel.append(self.get_group(ctx, gid=gid))
        for n in names:
            sel.append(self.get_group(ctx, name=n))
        if not ids and not names:
            sel = sorted(groups.values(), key=lambda g: g["id"])
        docs = [{"GroupId": g["id"], "GroupName": g["name"],
                 "Description": g["description"], "OwnerId": g["owner"],
                 "VpcId": g["vpc"], "IpPermissions": g["ingress"],
                 "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [
                     {"CidrIp": "0.0.0.0/0"}]}],
                 "Tags": self.tag_list(ctx, g["id"])} for g in sel]
        docs = apply_filters(docs, d.get("Filters"), {
            "group-id": lambda x: [x["GroupId"]],
            "group-name": lambda x: [x["GroupName"]],
            "vpc-id": lambda x: [x["VpcId"]],
            "owner-id": lambda x: [x["OwnerId"]],
            "description": lambda x: [x["Description"]],
        }, self.tag_extra(ctx, lambda x: x["GroupId"]))
        ctx.authorize()
        page, nxt = self.paginate(ctx, d, docs, lo=5, hi=1000)
        return {"SecurityGroups": page, "NextToken": nxt}

    # ---- volumes -------------------------------------------------------------
    def _new_volume(self, ctx, size, vtype, encrypted, kms_key, snap, az):
        vid = "vol-" + self.app.rand_hex(17)
        vol = {"id": vid, "owner": ctx.account, "region": ctx.region,
               "size": size, "type": vtype, "encrypted": encrypted,
               "kms_key": kms_key, "snapshot": snap, "az": az,
               "created": ctx.now, "attached": None, "device": None,
               "delete_on_term": True, "deleted": False}
        self.volumes.setdefault(ctx.region, {})[vid] = vol
        return vol

    def get_volume(self, ctx, vid):
        from .ec2 import id_kind
        if id_kind(vid) != "vol":
            raise AwsError("InvalidVolumeID.Malformed",
                           'Invalid id: "%s" (expecting "vol-...")' % vid)
        v = self.volumes.get(ctx.region, {}).get(vid)
        if v is None or v["owner"] != ctx.account:
            raise AwsError("InvalidVolume.NotFound",
                           "The volume '%s' does not exist." % vid)
        return v

    def create_volume(self, ctx, d):
        az = d["AvailabilityZone"]
        if not az.startswith(ctx.region):
            raise AwsError("InvalidParameterValue",
                           "Invalid availability zone: [%s]" % az)
        snap = None
        if d.get("SnapshotId"):
            snap = self.get_snapshot(ctx, d["SnapshotId"])
        size = d.get("Size") or (snap["size"] if snap else None)
        if size is None:
            raise AwsError("MissingParameter", "The request must contain "
                           "the parameter size or snapshotId")
        enc, key = self._volume_key(ctx, snap, d.get("Encrypted"),
                                    d.get("KmsKeyId"))
        if enc and not self.app.kms.can_use(key, ctx.account):
            raise AwsError("InvalidVolume.NotFound",
                           "The volume could not be created: the KMS key "
                           "is not accessible")
        self.check_tag_specs(d.get("TagSpecifications"), ("volume",))
        ctx.authorize()
        vol = self._new_volume(ctx, size, d.get("VolumeType", "gp2"), enc,
                               key, snap["id"] if snap else None, az)
        self.apply_tag_specs(ctx, d.get("TagSpecifications"), "volume",
                             vol["id"])
        doc = self.volume_doc(ctx, vol)
        doc["State"] = "creating"
        return doc

    def _volume_key(self, ctx, snap, want_enc, key_spec):
        kms = self.app.kms
        enc = bool(snap and snap["encrypted"]) or bool(want_enc)
        key = None
        if enc:
            if key_spec:
                k = kms.resolve(ctx.account, ctx.region, key_spec)
                if k is None:
                    raise AwsError("InvalidParameterValue",
                                   "Invalid KMS key %s" % key_spec)
                key = k["arn"]
            elif snap and snap["encrypted"]:
                key = snap["kms_key"]
            else:
                key = kms.default_ebs_key(ctx.account, ctx.region)["arn"]
        return enc, key

    def volume_doc(self, ctx, v):
        doc = {"VolumeId": v["id"], "Size": v["size"],
               "SnapshotId": v["snapshot"] or "",
               "AvailabilityZone": v["az"],
               "State": "in-use" if v["attached"] else "available",
               "CreateTime": v["created"], "VolumeType": v["type"],
               "Encrypted": v["encrypted"], "MultiAttachEnabled": False,
               "Attachments": [], "Tags": self.tag_list(ctx, v["id"])}
        if v["encrypted"]:
            doc["KmsKeyId"] = v["kms_key"]
        if v["type"] == "gp3":
            doc["Iops"] = 3000
            doc["Throughput"] = 125
        if v["attached"]:
            doc["Attachments"] = [{"AttachTime": v["created"],
                                   "Device": v["device"],
                                   "InstanceId": v["attached"],
                                   "State": "attached", "VolumeId": v["id"],
                                   "DeleteOnTermination":
                                   v["delete_on_term"]}]
        return doc

    def describe_volumes(self, ctx, d):
        from .ec2 import apply_filters
        ids = d.get("VolumeIds") or []
        vols = [v for v in self.volumes.get(ctx.region, {}).values()
                if v["owner"] == ctx.account and not v["deleted"]]
        if ids:
            sel = []
            for vid in ids:
                sel.append(self.get_volume(ctx, vid))
            vols = [v for v in sel if not v["deleted"]]
        vols.sort(key=lambda v: (v["created"], v["id"]))
        docs = [self.volume_doc(ctx, v) for v in vols]
        docs = apply_filters(docs, d.get("Filters"), {
            "volume-id": lambda x: [x["VolumeId"]],
            "status": lambda x: [x["State"]],
            "size": lambda x: [str(x["Size"])],
            "snapshot-id": lambda x: [x["SnapshotId"]],
            "availability-zone": lambda x: [x["AvailabilityZone"]],
            "encrypted": lambda x: ["true" if x["Encrypted"] else "false"],
            "volume-type": lambda x: [x["VolumeType"]],
            "attachment.instance-id": lambda x: [
                a["InstanceId"] for a in x["Attachments"]],
            "attachment.device": lambda x: [
                a["Device"] for a in x["Attachments"]],
            "attachment.status": lambda x: [
                a["State"] for a in x["Attachments"]],
        }, self.tag_extra(ctx, lambda x: x["VolumeId"]))
        ctx.authorize()
        page, nxt = self.paginate(ctx, d, docs, lo=5, hi=None)
        return {"Volumes": page, "NextToken": nxt}

    def delete_volume(self, ctx, d):
        v = self.get_volume(ctx, d["VolumeId"])
        if v["attached"]:
            raise AwsError("VolumeInUse", "Volume %s is currently attached "
                           "to %s" % (v["id"], v["attached"]))
        ctx.authorize()
        v["deleted"] = True
        del self.volumes[ctx.region][v["id"]]
        return None

    # ---- instances -------------------------------------------------------------
    def instance_state(self, inst, now):
        while inst["next"] and now >= inst["next_at"]:
            inst["state"] = inst["next"]
            inst["next"] = inst["after"]
            inst["next_at"] = inst["next_at"]
            inst["after"] = None
        return STATE_CODES[inst["state"]], inst["state"]

    def _transition(self, inst, now, mid, final):
        t = float(self.settings.get("instance_transition_seconds", 0) or 0)
        inst["state"] = mid
        inst["next"] = final
        inst["after"] = None
        inst["next_at"] = now + t

    def get_instance(self, ctx, iid):
        from .ec2 import id_kind
        if id_kind(iid) != "i":
            raise AwsError("InvalidInstanceID.Malformed",
                           'Invalid id: "%s" (expecting "i-...")' % iid)
        inst = self.instances.get(ctx.region, {}).get(iid)
        if inst is None or inst["owner"] != ctx.account:
            raise AwsError("InvalidInstanceID.NotFound",
                           "The instance ID '%s' does not exist" % iid)
        return inst

    def _instances(self, ctx, ids):
        missing = []
        out = []
        for iid in ids:
            try:
                out.append(self.get_instance(ctx, iid))
            except AwsError as e:
                if e.code.endswith("Malformed"):
                    raise
                missing.append(iid)
        if missing:
            if len(missing) == 1:
                raise AwsError("InvalidInstanceID.NotFound",
                               "The instance ID '%s' does not exist"
                               % missing[0])
            raise AwsError("InvalidInstanceID.NotFound",
                           "The instance IDs '%s' do not exist"
                           % ", ".join(missing))
        return out

    def run_instances(self, ctx, d):
        self.seed_region(ctx.region)
        if d.get("ImageId") is None:
            raise AwsError("MissingParameter", "The request must contain "
                           "the parameter ImageId")
        img = self.get_image(ctx, d["ImageId"])
        if self.image_state(img, ctx.now) != "available":
            raise AwsError("InvalidAMIID.Unavailable",
                           "The image id '[%s]' is not available" % img["id"])
        mn, mx = d["MinCount"], d["MaxCount"]
        if mn < 1 or mx < mn:
            raise AwsError("InvalidParameterValue",
                           "Value (%d) for parameter maxCount is invalid."
                           % mx)
        itype = d.get("InstanceType", "m1.small")
        if "." not in itype:
            raise AwsError("InvalidParameterValue",
                           "Invalid value '%s' for InstanceType." % itype)
        if d.get("KeyName") and d["KeyName"] not in self._keys(ctx):
            raise AwsError("InvalidKeyPair.NotFound",
                           "The key pair '%s' does not exist" % d["KeyName"])
        sgs = []
        for gid in d.get("SecurityGroupIds") or []:
            sgs.append(self.get_group(ctx, gid=gid))
        for name in d.get("SecurityGroups") or []:
            sgs.append(self.get_group(ctx, name=name))
        if not sgs:
            sgs = [self.default_sg(ctx.account, ctx.region)]
        subs = self.subnets(ctx.account, ctx.region)
        sub = subs[0]
        if d.get("SubnetId"):
            sub = next((s for s in subs if s["SubnetId"] == d["SubnetId"]),
                       None)
            if sub is None:
                raise AwsError("InvalidSubnetID.NotFound",
                               "The subnet ID '%s' does not exist"
                               % d["SubnetId"])
        self.check_tag_specs(d.get("TagSpecifications"),
                             ("instance", "volume", "network-interface"))
        overrides = {b["DeviceName"]: b for b in
                     d.get("BlockDeviceMappings") or []}
        # Volume plan (validates keys) before any state change.
        plan = []
        for b in img["bdm"]:
            ebs = b.get("Ebs")
            if not ebs:
                continue
            o = (overrides.pop(b["DeviceName"], {}) or {}).get("Ebs") or {}
            snap = self.snapshots.get(img["region"], {}).get(
                ebs.get("SnapshotId"))
            enc, key = self._volume_key(ctx, snap, o.get("Encrypted"),
                                        o.get("KmsKeyId"))
            plan.append((b["DeviceName"], o.get("VolumeSize") or
                         ebs["VolumeSize"],
                         o.get("VolumeType") or ebs.get("VolumeType", "gp2"),
                         enc, key, snap,
                         o.get("DeleteOnTermination",
                               ebs.get("DeleteOnTermination", True))))
        for dev, b in overrides.items():
            o = b.get("Ebs")
            if not o:
                continue
            snap = self.get_snapshot(ctx, o["SnapshotId"]) \
                if o.get("SnapshotId") else None
            enc, key = self._volume_key(ctx, snap, o.get("Encrypted"),
                                        o.get("KmsKeyId"))
            plan.append((dev, o.get("VolumeSize") or
                         (snap["size"] if snap else 8),
                         o.get("VolumeType", "gp2"), enc, key, snap,
                         o.get("DeleteOnTermination", True)))
        ctx.authorize()
        kms = self.app.kms
        failed = None
        for p in plan:
            if p[3] and not kms.can_use(p[4], ctx.account):
                failed = p[4]
            if p[5] is not None and p[5]["encrypted"] and \
                    not kms.can_use(p[5]["kms_key"], ctx.account):
                failed = p[5]["kms_key"]
        rid = "r-" + self.app.rand_hex(17)
        img["last_launched"] = ctx.now
        out = []
        tok = d.get("ClientToken")
        for n in range(mx):
            iid = "i-" + self.app.rand_hex(17)
            vols = {}
            for dev, size, vtype, enc, key, snap, dot in plan:
                v = self._new_volume(ctx, size, vtype, enc, key,
                                     snap["id"] if snap else None,
                                     sub["AvailabilityZone"])
                v["attached"] = iid
                v["device"] = dev
                v["delete_on_term"] = dot
                vols[dev] = v["id"]
                self.apply_tag_specs(ctx, d.get("TagSpecifications"),
                                     "volume", v["id"])
            inst = {"id": iid, "owner": ctx.account, "region": ctx.region,
                    "image": img["id"], "type": itype,
                    "key": d.get("KeyName"), "sgs": [g["id"] for g in sgs],
                    "subnet": sub["SubnetId"], "vpc": sub["VpcId"],
                    "az": sub["AvailabilityZone"], "launched": ctx.now,
                    "root_device": img["root_device"], "volumes": vols,
                    "reservation": rid, "index": n, "client_token": tok,
                    "architecture": img["architecture"],
                    "ip": "172.31.%d.%d" % (n // 250, 10 + n % 250),
                    "reason": None, "state_reason": None}
            if failed:
                self._transition(inst, ctx.now, "pending", "terminated")
                inst["state_reason"] = {
                    "Code": "Client.InternalError",
                    "Message": "Client.InternalError: Client error on "
                    "launch"}
                inst["reason"] = "Client.InternalError: Client error on " \
                    "launch"
            else:
                self._transition(inst, ctx.now, "pending", "running")
            self.instances.setdefault(ctx.region, {})[iid] = inst
            self.apply_tag_specs(ctx, d.get("TagSpecifications"),
                                 "instance", iid)
            out.append(inst)
        docs = [self.instance_doc(ctx, i, current=False) for i in out]
        return {"ReservationId": rid, "OwnerId": ctx.account,
                "Groups": [], "Instances": docs}

    def instance_doc(self, ctx, inst, current=True):
        if current:
            code, name = self.instance_state(inst, ctx.now)
        else:
            name = inst["state"]
            code = STATE_CODES[name]
        groups = []
        for gid in inst["sgs"]:
            g = self.sgs.get(ctx.region, {}).get(gid)
            groups.append({"GroupId": gid,
                           "GroupName": g["name"] if g else "deleted"})
        bdm = []
        for dev, vid in sorted(inst["volumes"].items()):
            v = self.volumes.get(ctx.region, {}).get(vid)
            bdm.append({"DeviceName": dev, "Ebs": {
                "VolumeId": vid, "Status": "attached",
                "AttachTime": inst["launched"],
                "DeleteOnTermination": v["delete_on_term"] if v else True}})
        doc = {"InstanceId": inst["id"], "ImageId": inst["image"],
               "State": {"Code": code, "Name": name},
               "PrivateDnsName": "ip-%s.ec2.internal" %
               inst["ip"].replace(".", "-"),
               "PublicDnsName": "", "StateTransitionReason":
               inst["reason"] or "", "KeyName": inst["key"],
               "AmiLaunchIndex": inst["index"],
               "InstanceType": inst["type"], "LaunchTime": inst["launched"],
               "Placement": {"AvailabilityZone": inst["az"],
                             "Tenancy": "default", "GroupName": ""},
               "Monitoring": {"State": "disabled"},
               "SubnetId": inst["subnet"], "VpcId": inst["vpc"],
               "PrivateIpAddress": inst["ip"],
               "Architecture": inst["architecture"],
               "BlockDeviceMappings": bdm,
               "ClientToken": inst["client_token"] or "",
               "EbsOptimized": False, "EnaSupport": True,
               "Hypervisor": "xen", "RootDeviceName": inst["root_device"],
               "RootDeviceType": "ebs", "SecurityGroups": groups,
               "SourceDestCheck": True, "VirtualizationType": "hvm",
               "PlatformDetails": "Linux/UNIX",
               "UsageOperation": "RunInstances",
               "Tags": self.tag_list(ctx, inst["id"])}
        if inst["state_reason"]:
            doc["StateReason"] = inst["state_reason"]
        if name == "running" and inst.get("public_ip", True):
            doc["PublicIpAddress"] = "198.51.100.%d" % (
                int(inst["id"][-2:], 16) % 250 + 1)
            doc["PublicDnsName"] = "ec2-%s.compute-1.amazonaws.com" % \
                doc["PublicIpAddress"].replace(".", "-")
        return doc

    INSTANCE_FILTERS = {
        "instance-id": lambda x: [x["InstanceId"]],
        "instance-state-name": lambda x: [x["State"]["Name"]],
        "instance-state-code": lambda x: [str(x["State"]["Code"])],
        "image-id": lambda x: [x["ImageId"]],
        "instance-type": lambda x: [x["InstanceType"]],
        "key-name": lambda x: [x["KeyName"] or ""],
        "subnet-id": lambda x: [x["SubnetId"]],
        "vpc-id": lambda x: [x["VpcId"]],
        "availability-zone": lambda x: [
            x["Placement"]["AvailabilityZone"]],
        "private-ip-address": lambda x: [x["PrivateIpAddress"]],
        "instance.group-id": lambda x: [g["GroupId"]
                                        for g in x["SecurityGroups"]],
        "client-token": lambda x: [x["ClientToken"]],
    }

    def describe_instances(self, ctx, d):
        from .ec2 import apply_filters
        ids = d.get("InstanceIds") or []
        if ids and d.get("MaxResults") is not None:
            raise AwsError("InvalidParameterCombination",
                           "The parameter instancesSet cannot be used with "
                           "the parameter maxResults")
        if ids:
            insts = self._instances(ctx, ids)
        else:
            insts = [i for i in self.instances.get(ctx.region, {}).values()
                     if i["owner"] == ctx.account]
        insts.sort(key=lambda i: (i["launched"], i["id"]))
        docs = [(i["reservation"], self.instance_doc(ctx, i)) for i in insts]
        flt = apply_filters([x[1] for x in docs], d.get("Filters"),
                            self.INSTANCE_FILTERS,
                            self.tag_extra(ctx, lambda x: x["InstanceId"]))
        keep = {x["InstanceId"] for x in flt}
        docs = [x for x in docs if x[1]["InstanceId"] in keep]
        ctx.authorize()
        page, nxt = self.paginate(ctx, d, docs, lo=5, hi=1000)
        res = []
        for rid, doc in page:
            if res and res[-1]["ReservationId"] == rid:
                res[-1]["Instances"].append(doc)
            else:
                res.append({"ReservationId": rid, "OwnerId": ctx.account,
                            "Groups": [], "Instances": [doc]})
        return {"Reservations": res, "NextToken": nxt}

    def describe_instance_status(self, ctx, d):
        ids = d.get("InstanceIds") or []
        if ids:
            insts = self._instances(ctx, ids)
        else:
            insts = [i for i in self.instances.get(ctx.region, {}).values()
                     if i["owner"] == ctx.account]
        ctx.authorize()
        out = []
        for i in sorted(insts, key=lambda i: (i["launched"], i["id"])):
            code, name = self.instance_state(i, ctx.now)
            if name != "running" and not d.get("IncludeAllInstances"):
                continue
            ok = "ok" if name == "running" else "not-applicable"
            det = [{"Name": "reachability",
                    "Status": "passed" if name == "running" else
                    "not-applicable"}]
            out.append({"InstanceId": i["id"],
                        "AvailabilityZone": i["az"],
                        "InstanceState": {"Code": code, "Name": name},
                        "InstanceStatus": {"Status": ok, "Details": det},
                        "SystemStatus": {"Status": ok, "Details": det}})
        page, nxt = self.paginate(ctx, d, out, lo=5, hi=1000)
        return {"InstanceStatuses": page, "NextToken": nxt}

    def _change(self, ctx, d, allowed, mid, final, key):
        insts = self._instances(ctx, d["InstanceIds"])
        for i in insts:
            st = self.instance_state(i, ctx.now)[1]
            if st not in allowed and st != final and st != mid:
                raise AwsError("IncorrectInstanceState",
                               "The instance '%s' is not in a state from "
                               "which it can be %s." % (
                                   i["id"], final))
        ctx.authorize()
        out = []
        for i in insts:
            code, prev = self.instance_state(i, ctx.now)
            if prev in allowed:
                self._transition(i, ctx.now, mid, final)
                if final == "stopped":
                    i["reason"] = "User initiated (%s)" % time.strftime(
                        "%Y-%m-%d %H:%M:%S GMT", time.gmtime(ctx.now))
                if final == "terminated":
                    for vid in i["volumes"].values():
                        v = self.volumes.get(ctx.region, {}).get(vid)
                        if v is None:
                            continue
                        v["attached"] = None
                        if v["delete_on_term"]:
                            v["deleted"] = True
                            del self.volumes[ctx.region][vid]
            out.append({"InstanceId": i["id"],
                        "CurrentState": {"Code": STATE_CODES[i["state"]],
                                         "Name": i["state"]},
                        "PreviousState": {"Code": code, "Name": prev}})
        return {key: out}

    def stop_instances(self, ctx, d):
        return self._change(ctx, d, ("pending", "running"), "stopping",
                            "stopped", "StoppingInstances")

    def start_instances(self, ctx, d):
        return self._change(ctx, d, ("stopped",), "pending", "running",
                            "StartingInstances")

    def terminate_instances(self, ctx, d):
        return self._change(ctx, d, ("pending", "running", "stopping",
                                     "stopped"), "shutting-down",
                            "terminated", "TerminatingInstances")

    def modify_instance_attribute(self, ctx, d):
        inst = self.get_instance(ctx, d["InstanceId"])
        ctx.authorize()
        if d.get("EnaSupport") is not None:
            inst["ena"] = d["EnaSupport"].get("Value")
        return None

    def describe_instance_attribute(self, ctx, d):
        inst = self.get_instance(ctx, d["InstanceId"])
        ctx.authorize()
        out = {"InstanceId": inst["id"]}
        attr = d["Attribute"]
        if attr == "instanceType":
            out["InstanceType"] = {"Value": inst["type"]}
        elif attr == "enaSupport":
            out["EnaSupport"] = {"Value": inst.get("ena", True)}
        elif attr == "groupSet":
            out["Groups"] = [{"GroupId": g} for g in inst["sgs"]]
        return out

    # ---- tagging / inspection support -----------------------------------------
    def owns_compute(self, ctx, kind, rid):
        if kind == "i":
            i = self.instances.get(ctx.region, {}).get(rid)
            return i is not None and i["owner"] == ctx.account
        if kind == "vol":
            v = self.volumes.get(ctx.region, {}).get(rid)
            return v is not None and v["owner"] == ctx.account
        if kind == "sg":
            self.default_sg(ctx.account, ctx.region)
            g = self.sgs.get(ctx.region, {}).get(rid)
            return g is not None and g["owner"] == ctx.account
        if kind == "key":
            return any(k["id"] == rid for k in self._keys(ctx).values())
        if kind == "vpc":
            return rid == self.default_vpc(ctx.account, ctx.region)
        if kind == "subnet":
            return any(s["SubnetId"] == rid
                       for s in self.subnets(ctx.account, ctx.region))
        return False

    def compute_state(self, ctx):
        insts = []
        for i in sorted(self.instances.get(ctx.region, {}).values(),
                        key=lambda i: (i["launched"], i["id"])):
            if i["owner"] != ctx.account:
                continue
            insts.append({"id": i["id"], "image": i["image"],
                          "state": self.instance_state(i, ctx.now)[1],
                          "tags": dict(self.caller_tags(ctx, i["id"]) or {})})
        vols = [{"id": v["id"], "size": v["size"],
                 "encrypted": v["encrypted"], "attached_to": v["attached"]}
                for v in self.volumes.get(ctx.region, {}).values()
                if v["owner"] == ctx.account]
        groups = [{"id": g["id"], "name": g["name"]}
                  for g in self.sgs.get(ctx.region, {}).values()
                  if g["owner"] == ctx.account and g["name"] != "default"]
        keys = sorted(self.keypairs.get((ctx.account, ctx.region), {}))
        return {"instances": insts, "volumes": vols,
                "security_groups": groups, "key_pairs": keys}

