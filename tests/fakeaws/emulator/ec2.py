"""EC2: images, snapshots, tags and launch permissions.

State is kept per Region. Visibility follows the AWS rules: an image is
visible to its owner, to accounts named in its launch permissions, to
active members of organisations/OUs (nested OUs included) named there,
and to everyone when public. Tags are stored per (account, region,
resource), so each account sees only the tags it wrote.

Instances, volumes, security groups, key pairs and the network lookups
Packer needs live in ec2_compute.py (a mixin of the EC2 class).
"""
import base64
import hashlib
import json
import re
import time

from .errors import AwsError
from .ec2_compute import ComputeMixin

ACCOUNT_RE = re.compile(r"^\d{12}$")
ORG_ARN_RE = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):organizations::\d{12}:"
                        r"organization/o-[a-z0-9]{10,32}$")
OU_ARN_RE = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):organizations::\d{12}:"
                       r"ou/o-[a-z0-9]{10,32}/ou-[0-9a-z]{4,32}-"
                       r"[0-9a-z]{8,32}$")
AMI_NAME_RE = re.compile(r"^[A-Za-z0-9()\[\] ./\-'@_]{3,128}$")

# id prefix -> (resource type, malformed code, not-found code, label)
ID_KINDS = {
    "ami": ("image", "InvalidAMIID.Malformed", "InvalidAMIID.NotFound"),
    "snap": ("snapshot", "InvalidSnapshotID.Malformed",
             "InvalidSnapshot.NotFound"),
    "vol": ("volume", "InvalidVolumeID.Malformed", "InvalidVolume.NotFound"),
    "i": ("instance", "InvalidInstanceID.Malformed",
          "InvalidInstanceID.NotFound"),
    "sg": ("security-group", "InvalidGroupId.Malformed",
           "InvalidGroup.NotFound"),
    "key": ("key-pair", "InvalidKeyPair.Format", "InvalidKeyPair.NotFound"),
    "vpc": ("vpc", "InvalidVpcID.Malformed", "InvalidVpcID.NotFound"),
    "subnet": ("subnet", "InvalidSubnetID.Malformed",
               "InvalidSubnetID.NotFound"),
}
_ID_RE = re.compile(r"^(ami|snap|vol|i|sg|key|vpc|subnet)-"
                    r"([0-9a-f]{8}|[0-9a-f]{17})$")

IMAGE_ATTRIBUTES = ("description", "kernel", "ramdisk", "launchPermission",
                    "productCodes", "blockDeviceMapping", "sriovNetSupport",
                    "bootMode", "tpmSupport", "uefiData", "lastLaunchedTime",
                    "imdsSupport", "deregistrationProtection")


def id_kind(rid):
    m = _ID_RE.match(rid or "")
    return m.group(1) if m else None


def ts_str(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + \
        ".%03dZ" % int((ts - int(ts)) * 1000)


_wild_cache = {}


def wildcard(pattern):
    """EC2 filter wildcards: * any run, ? zero or one char, \\ escapes."""
    r = _wild_cache.get(pattern)
    if r is None:
        out = []
        i = 0
        while i < len(pattern):
            c = pattern[i]
            if c == "\\" and i + 1 < len(pattern):
                out.append(re.escape(pattern[i + 1]))
                i += 2
                continue
            if c == "*":
                out.append(".*")
            elif c == "?":
                out.append(".?")
            else:
                out.append(re.escape(c))
            i += 1
        r = re.compile("^" + "".join(out) + "$", re.S)
        if len(_wild_cache) > 10000:
            _wild_cache.clear()
        _wild_cache[pattern] = r
    return r


def apply_filters(items, filters, getters, extra=None):
    """items: list of objects; getters: filter name -> fn(item) -> list of
    values. 'tag:' and 'tag-key' go through extra(item, name)."""
    for f in filters or []:
        name = f.get("Name")
        vals = f.get("Values") or []
        if name is None:
            raise AwsError("InvalidParameterValue",
                           "The filter 'null' is invalid")
        if name.startswith("tag:") or name in ("tag-key", "tag-value"):
            if extra is None:
                raise AwsError("InvalidParameterValue",
                               "The filter '%s' is invalid" % name)
            fn = (lambda it, n=name: extra(it, n))
        else:
            fn = getters.get(name)
            if fn is None:
                raise AwsError("InvalidParameterValue",
                               "The filter '%s' is invalid" % name)
        pats = [wildcard(v) for v in vals]
        kept = []
        for it in items:
            got = fn(it)
            if any(p.match(g) for g in got for p in pats):
                kept.append(it)
        items = kept
    return items


def bstr(b):
    return "true" if b else "false"


class EC2(ComputeMixin):
    def __init__(self, app):
        self.app = app
        self.images = {}        # region -> {id: image}
        self.snapshots = {}     # region -> {id: snapshot}
        self.tags = {}          # (account, region, resource id) -> dict
        self.bpa = {}           # (account, region) -> state string
        self.tokens = {}        # idempotency: (acct, region, op, token) -> id
        ComputeMixin.__init__(self)
        self.handlers = {
            "DescribeImages": self.describe_images,
            "DescribeImageAttribute": self.describe_image_attribute,
            "ModifyImageAttribute": self.modify_image_attribute,
            "ResetImageAttribute": self.reset_image_attribute,
            "RegisterImage": self.register_image,
            "CreateImage": self.create_image,
            "CopyImage": self.copy_image,
            "DeregisterImage": self.deregister_image,
            "EnableImageDeprecation": self.enable_deprecation,
            "DisableImageDeprecation": self.disable_deprecation,
            "GetImageBlockPublicAccessState": self.get_bpa,
            "EnableImageBlockPublicAccess": self.enable_bpa,
            "DisableImageBlockPublicAccess": self.disable_bpa,
            "DescribeSnapshots": self.describe_snapshots,
            "DescribeSnapshotAttribute": self.describe_snapshot_attribute,
            "ModifySnapshotAttribute": self.modify_snapshot_attribute,
            "ResetSnapshotAttribute": self.reset_snapshot_attribute,
            "CreateSnapshot": self.create_snapshot,
            "DeleteSnapshot": self.delete_snapshot,
            "CopySnapshot": self.copy_snapshot,
            "CreateTags": self.create_tags,
            "DeleteTags": self.delete_tags,
            "DescribeTags": self.describe_tags,
        }
        self.handlers.update(self.compute_handlers())

    # ---- small helpers -------------------------------------------------
    @property
    def settings(self):
        return self.app.world.settings

    def new_id(self, prefix):
        return "%s-%s" % (prefix, self.app.rand_hex(17))

    def known_regions(self):
        regs = set(self.images) | set(self.snapshots) | set(self.instances)
        regs |= {r for (_, r, _) in self.tags}
        return sorted(regs)

    def caller_tags(self, ctx, rid, region=None):
        return self.tags.get((ctx.account, region or ctx.region, rid))

    def tag_list(self, ctx, rid, region=None):
        t = self.caller_tags(ctx, rid, region)
        if not t:
            return None
        return [{"Key": k, "Value": v} for k, v in t.items()]

    def tag_extra(self, ctx, rid_of):
        def extra(item, name):
            t = self.caller_tags(ctx, rid_of(item)) or {}
            if name == "tag-key":
                return list(t.keys())
            if name == "tag-value":
                return list(t.values())
            k = name[4:]
            return [t[k]] if k in t else []
        return extra

    def apply_tag_specs(self, ctx, specs, rtype, rid, region=None):
        for spec in specs or []:
            if spec.get("ResourceType") == rtype:
                t = self.tags.setdefault((ctx.account, region or ctx.region,
                                          rid), {})
                for tag in spec.get("Tags") or []:
                    t[tag["Key"]] = tag.get("Value", "")

    def check_tag_specs(self, specs, allowed):
        for spec in specs or []:
            rt = spec.get("ResourceType")
            if rt not in allowed:
                raise AwsError("InvalidParameterValue",
                               "'%s' is not a valid taggable resource type "
                               "for this operation." % rt)
            self.validate_tags(spec.get("Tags") or [])

    def validate_tags(self, tags):
        for t in tags:
            k = t.get("Key")
            v = t.get("Value") or ""
            if k is None or k == "":
                raise AwsError("InvalidTagKey.Malformed",
                               "Tag keys must not be empty.")
            if k.lower().startswith("aws:"):
                raise AwsError("InvalidTagKey.Malformed",
                               "Tag keys starting with 'aws:' are reserved "
                               "for internal use")
            if len(k) > 128:
                raise AwsError("InvalidParameterValue",
                               "Tag key exceeds the maximum length of 128 "
                               "characters")
            if len(v) > 256:
                raise AwsError("InvalidParameterValue",
                               "Tag value exceeds the maximum length of 256 "
                               "characters")

    def paginate(self, ctx, d, items, lo=1, hi=None, cap=1000):
        """Return (page, next_token)."""
        mr = d.get("MaxResults")
        tok = d.get("NextToken")
        fp = dict((k, v) for k, v in d.items()
                  if k not in ("MaxResults", "NextToken", "DryRun"))
        fph = hashlib.sha1(json.dumps(fp, sort_keys=True, default=str)
                           .encode()).hexdigest()[:12]
        start = 0
        if tok:
            try:
                raw = json.loads(base64.b64decode(tok.encode()).decode())
                start = int(raw["o"])
                if raw["h"] != fph or raw["a"] != ctx.action or start < 0:
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                raise AwsError("InvalidPaginationToken",
                               "The specified pagination token is not "
                               "valid or is expired.")
        if mr is None:
            if tok:
                mr = cap
            else:
                return items, None
        if mr < lo or (hi is not None and mr > hi):
            raise AwsError("InvalidParameterValue",
                           "Value ( %d ) for parameter maxResults is "
                           "invalid. Parameter must be between %d and %d."
                           % (mr, lo, hi or cap))
        mr = min(mr, cap)
        page = items[start:start + mr]
        nxt = None
        if start + mr < len(items):
            nxt = base64.b64encode(json.dumps(
                {"o": start + mr, "h": fph, "a": ctx.action}).encode()
            ).decode()
        return page, nxt

    # ---- image visibility ----------------------------------------------
    def _lp_delay(self):
        delay = self.app.faults.propagation_delay
        if delay is None:
            delay = self.settings.get("propagation_delay_seconds") or 0
        return delay

    def _lp_active(self, p, acct_is_owner, now, delay=None):
        if acct_is_owner:
            return p.get("removed") is None
        if delay is None:
            delay = self._lp_delay()
        if p["added"] + delay > now:
            return False
        if p.get("removed") is not None and p["removed"] + delay <= now:
            return False
        return True

    @staticmethod
    def _lp_candidates(img, acct):
        """The launch permissions of img that can apply to acct, in the
        order they were granted: its user grants to acct and every group,
        organization and OU grant. An image shared with thousands of
        accounts is the common case, so user grants are indexed by
        account; grants are only ever appended (a removal marks one), so
        the index catches up with the list's new tail."""
        lps = img["lps"]
        idx = img.get("_lp_index")
        if idx is None or idx["n"] > len(lps):
            idx = img["_lp_index"] = {"n": 0, "user": {}, "other": []}
        for pos in range(idx["n"], len(lps)):
            p = lps[pos]
            if p["kind"] == "user":
                idx["user"].setdefault(p["value"], []).append((pos, p))
            else:
                idx["other"].append((pos, p))
        idx["n"] = len(lps)
        mine = idx["user"].get(acct)
        if not mine:
            return [p for _, p in idx["other"]]
        if not idx["other"]:
            return [p for _, p in mine]
        return [p for _, p in sorted(mine + idx["other"],
                                     key=lambda e: e[0])]

    def granted(self, img, acct, now, explicit_only=False):
        """Does a launch permission of img apply to acct?"""
        w = self.app.world
        delay = self._lp_delay()
        for p in self._lp_candidates(img, acct):
            if not self._lp_active(p, False, now, delay):
                continue
            k, v = p["kind"], p["value"]
            if k == "user":
                if v == acct:
                    return True
            elif explicit_only:
                continue
            elif k == "group":
                return True
            elif k == "org":
                if w.account_matches_org_arn(acct, v):
                    return True
            elif k == "ou":
                if w.account_matches_ou_arn(acct, v):
                    return True
        return False

    def is_public(self, img, now, viewer_is_owner=True):
        delay = self._lp_delay()
        return any(p["kind"] == "group" and
                   self._lp_active(p, viewer_is_owner, now, delay)
                   for p in self._lp_candidates(img, None))

    def image_gone(self, img, now):
        if img["deregistered"] is None:
            return False
        linger = self.settings.get("deregistered_linger_seconds", 0) or 0
        return img["deregistered"] + linger <= now

    def image_visible(self, img, acct, now):
        if self.image_gone(img, now):
            return False
        if img["owner"] == acct:
            return True
        if img["deregistered"] is not None:
            return False
        return self.granted(img, acct, now)

    def image_state(self, img, now):
        if img["deregistered"] is not None:
            return "deregistered"
        if img.get("failed"):
            if now >= img["available_at"]:
                return "failed"
            return "pending"
        if now >= img["available_at"]:
            return "available"
        return "pending"

    def not_found_images(self, ids):
        if len(ids) == 1:
            return AwsError("InvalidAMIID.NotFound",
                            "The image id '[%s]' does not exist" % ids[0])
        return AwsError("InvalidAMIID.NotFound",
                        "The image ids '[%s]' do not exist"
                        % ", ".join(ids))

    def check_image_id(self, iid):
        if id_kind(iid) != "ami":
            raise AwsError("InvalidAMIID.Malformed",
                           'Invalid id: "%s" (expecting "ami-...")' % iid)

    def get_image(self, ctx, iid, region=None, owner_only=False):
        """Look up an image visible to the caller (raises NotFound)."""
        self.check_image_id(iid)
        img = self.images.get(region or ctx.region, {}).get(iid)
        if img is None or not self.image_visible(img, ctx.account, ctx.now):
            raise self.not_found_images([iid])
        if owner_only and img["owner"] != ctx.account:
            raise AwsError("AuthFailure", "Not authorized for image:%s"
                           % iid, 401)
        return img

    def image_doc(self, ctx, img):
        now = ctx.now
        st = self.image_state(img, now)
        d = {
            "ImageId": img["id"],
            "ImageLocation": img["location"],
            "State": st,
            "OwnerId": img["owner"],
            "CreationDate": ts_str(img["created"]),
            "Public": self.is_public(img, now,
                                     img["owner"] == ctx.account),
            "Architecture": img["architecture"],
            "ImageType": "machine",
            "PlatformDetails": "Linux/UNIX",
            "UsageOperation": "RunInstances",
            "BlockDeviceMappings": img["bdm"],
            "Description": img.get("description"),
            "EnaSupport": img.get("ena", True),
            "Hypervisor": "xen",
            "ImageOwnerAlias": img.get("alias"),
            "Name": img["name"],
            "RootDeviceName": img["root_device"],
            "RootDeviceType": "ebs",
            "SriovNetSupport": img.get("sriov", "simple"),
            "VirtualizationType": img.get("virtualization", "hvm"),
            "BootMode": img.get("boot_mode"),
            "ImdsSupport": img.get("imds_support"),
            "DeprecationTime": (ts_str(img["deprecation"])
                                if img.get("deprecation") else None),
            "SourceInstanceId": (img.get("source_instance")
                                 if img["owner"] == ctx.account else None),
            "SourceImageId": img.get("source_image"),
            "SourceImageRegion": img.get("source_region"),
            "DeregistrationProtection": "disabled",
            "Tags": self.tag_list(ctx, img["id"], img["region"]),
        }
        if st == "failed" and img.get("failed"):
            d["StateReason"] = {"Code": img["failed"][0],
                                "Message": img["failed"][1]}
        return d

    IMAGE_FILTERS = {
        "architecture": lambda d: [d["Architecture"]],
        "block-device-mapping.delete-on-termination": lambda d: [
            bstr(b["Ebs"].get("DeleteOnTermination"))
            for b in d["BlockDeviceMappings"] if "Ebs" in b],
        "block-device-mapping.device-name": lambda d: [
            b["DeviceName"] for b in d["BlockDeviceMappings"]],
        "block-device-mapping.snapshot-id": lambda d: [
            b["Ebs"]["SnapshotId"] for b in d["BlockDeviceMappings"]
            if "Ebs" in b],
        "block-device-mapping.volume-size": lambda d: [
            str(b["Ebs"]["VolumeSize"]) for b in d["BlockDeviceMappings"]
            if "Ebs" in b],
        "block-device-mapping.volume-type": lambda d: [
            b["Ebs"]["VolumeType"] for b in d["BlockDeviceMappings"]
            if "Ebs" in b],
        "block-device-mapping.encrypted": lambda d: [
            bstr(b["Ebs"].get("Encrypted")) for b in d["BlockDeviceMappings"]
            if "Ebs" in b],
        "creation-date": lambda d: [d["CreationDate"]],
        "description": lambda d: [d["Description"] or ""],
        "ena-support": lambda d: [bstr(d["EnaSupport"])],
        "hypervisor": lambda d: [d["Hypervisor"]],
        "image-id": lambda d: [d["ImageId"]],
        "image-type": lambda d: [d["ImageType"]],
        "is-public": lambda d: [bstr(d["Public"])],
        "manifest-location": lambda d: [d["ImageLocation"]],
        "name": lambda d: [d["Name"]],
        "owner-alias": lambda d: [d["ImageOwnerAlias"]]
        if d.get("ImageOwnerAlias") else [],
        "owner-id": lambda d: [d["OwnerId"]],
        "platform": lambda d: [],
        "product-code": lambda d: [],
        "product-code.type": lambda d: [],
        "kernel-id": lambda d: [],
        "ramdisk-id": lambda d: [],
        "root-device-name": lambda d: [d["RootDeviceName"]],
        "root-device-type": lambda d: [d["RootDeviceType"]],
        "source-image-id": lambda d: [d["SourceImageId"]]
        if d.get("SourceImageId") else [],
        "source-image-region": lambda d: [d["SourceImageRegion"]]
        if d.get("SourceImageRegion") else [],
        "source-instance-id": lambda d: [d["SourceInstanceId"]]
        if d.get("SourceInstanceId") else [],
        "state": lambda d: [d["State"]],
        "state-reason-code": lambda d: [d["StateReason"]["Code"]]
        if d.get("StateReason") else [],
        "state-reason-message": lambda d: [d["StateReason"]["Message"]]
        if d.get("StateReason") else [],
        "sriov-net-support": lambda d: [d["SriovNetSupport"]],
        "virtualization-type": lambda d: [d["VirtualizationType"]],
        "image-allowed": lambda d: ["true"],
        "free-tier-eligible": lambda d: ["false"],
    }

    # ---- DescribeImages --------------------------------------------------
    def describe_images(self, ctx, d):
        acct = ctx.account
        now = ctx.now
        owners = d.get("Owners") or []
        execs = d.get("ExecutableUsers") or []
        for o in owners:
            if o not in ("self", "amazon", "aws-marketplace",
                         "aws-backup-vault") and not ACCOUNT_RE.match(o):
                raise AwsError("InvalidUserID.Malformed",
                               'Invalid user id: "%s"' % o)
        for e in execs:
            if e not in ("self", "all") and not ACCOUNT_RE.match(e):
                raise AwsError("InvalidUserID.Malformed",
                               'Invalid user id: "%s"' % e)
        ids = d.get("ImageIds") or []
        region_imgs = self.images.get(ctx.region, {})
        if ids:
            missing = []
            cands = []
            for iid in ids:
                self.check_image_id(iid)
                img = region_imgs.get(iid)
                if img is None or not self.image_visible(img, acct, now):
                    missing.append(iid)
                elif img not in cands:
                    cands.append(img)
            if missing:
                raise self.not_found_images(missing)
        else:
            cands = [i for i in region_imgs.values()
                     if self.image_visible(i, acct, now)]
            if not d.get("IncludeDeprecated"):
                cands = [i for i in cands if i["owner"] == acct or
                         not i.get("deprecation") or i["deprecation"] > now]
        if owners:
            want = set()
            for o in owners:
                want.add(acct if o == "self" else o)
            cands = [i for i in cands if i["owner"] in want or
                     i.get("alias") in want]
        if execs:
            kept = []
            for i in cands:
                ok = False
                for e in execs:
                    if e == "all":
                        ok = ok or self.is_public(i, now, False)
                    elif e in ("self", acct):
                        ok = ok or (i["owner"] != acct and
                                    self.granted(i, acct, now))
                        ok = ok or (i["owner"] == acct and any(
                            p["kind"] == "user" and p["value"] == acct and
                            p.get("removed") is None for p in i["lps"]))
                    else:
                        if i["owner"] == acct:
                            ok = ok or any(p["kind"] == "user" and
                                           p["value"] == e and
                                           p.get("removed") is None
                                           for p in i["lps"])
                        else:
                            ok = ok or self.granted(i, e, now, True)
                kept.append(i) if ok else None
            cands = kept
        cands.sort(key=lambda i: (i["created"], i["id"]))
        docs = [self.image_doc(ctx, i) for i in cands]
        docs = apply_filters(docs, d.get("Filters"), self.IMAGE_FILTERS,
                             self.tag_extra(ctx, lambda x: x["ImageId"]))
        ctx.authorize()
        page, nxt = self.paginate(ctx, d, docs, lo=1, hi=None)
        return {"Images": page, "NextToken": nxt}

    # ---- attributes -----------------------------------------------------
    def describe_image_attribute(self, ctx, d):
        attr = d["Attribute"]
        if attr not in IMAGE_ATTRIBUTES:
            raise AwsError("InvalidParameterValue",
                           "Value (%s) for parameter attribute is invalid. "
                           "Unknown attribute." % attr)
        img = self.get_image(ctx, d["ImageId"], owner_only=True)
        ctx.authorize()
        out = {"ImageId": img["id"]}
        if attr == "launchPermission":
            lps = []
            for p in img["lps"]:
                if p.get("removed") is not None:
                    continue
                key = {"user": "UserId", "group": "Group",
                       "org": "OrganizationArn",
                       "ou": "OrganizationalUnitArn"}[p["kind"]]
                lps.append({key: p["value"]})
            out["LaunchPermissions"] = lps
        elif attr == "description":
            out["Description"] = {"Value": img.get("description")} \
                if img.get("description") is not None else {}
        elif attr == "productCodes":
            out["ProductCodes"] = []
        elif attr == "blockDeviceMapping":
            raise AwsError("AuthFailure", "Unauthorized attempt to access "
                           "restricted resource", 401)
        elif attr == "sriovNetSupport":
            out["SriovNetSupport"] = {"Value": img.get("sriov", "simple")}
        elif attr == "bootMode":
            out["BootMode"] = {"Value": img["boot_mode"]} \
                if img.get("boot_mode") else {}
        elif attr == "imdsSupport":
            out["ImdsSupport"] = {"Value": img["imds_support"]} \
                if img.get("imds_support") else {}
        elif attr == "deregistrationProtection":
            out["DeregistrationProtection"] = {"Value": "disabled"}
        elif attr == "lastLaunchedTime":
            out["LastLaunchedTime"] = {"Value": ts_str(img["last_launched"])} \
                if img.get("last_launched") else {}
        elif attr == "kernel":
            out["KernelId"] = {}
        elif attr == "ramdisk":
            out["RamdiskId"] = {}
        elif attr == "tpmSupport":
            out["TpmSupport"] = {}
        elif attr == "uefiData":
            out["UefiData"] = {}
        return out

    def _lp_items(self, d):
        """Collect (op, kind, value) from both request forms."""
        items = []
        lp = d.get("LaunchPermission")
        flat = any(d.get(k) for k in ("UserIds", "UserGroups",
                                      "OrganizationArns",
                                      "OrganizationalUnitArns"))
        if lp:
            for op in ("Add", "Remove"):
                for it in lp.get(op) or []:
                    for fld, kind in (("UserId", "user"), ("Group", "group"),
                                      ("OrganizationArn", "org"),
                                      ("OrganizationalUnitArn", "ou")):
                        if it.get(fld) is not None:
                            items.append((op.lower(), kind, it[fld]))
        if flat and lp and d.get("OperationType") is None:
            # Clients such as Packer send the flat lists alongside the
            # structured form without an OperationType; AWS applies the
            # structured form.
            flat = False
        if flat:
            op = d.get("OperationType")
            if op is None:
                raise AwsError("MissingParameter",
                               "The request must contain the parameter "
                               "OperationType")
            if op not in ("add", "remove"):
                raise AwsError("InvalidParameterValue",
                               "Value (%s) for parameter operationType is "
                               "invalid." % op)
            for fld, kind in (("UserIds", "user"), ("UserGroups", "group"),
                              ("OrganizationArns", "org"),
                              ("OrganizationalUnitArns", "ou")):
                for v in d.get(fld) or []:
                    items.append((op, kind, v))
        return items, bool(lp) or flat

    def _check_lp_value(self, kind, v):
        if kind == "user" and not ACCOUNT_RE.match(v):
            raise AwsError("InvalidAMIAttributeItemValue",
                           'Invalid attribute item value "%s" for userId '
                           'item type.' % v)
        if kind == "group" and v != "all":
            raise AwsError("InvalidAMIAttributeItemValue",
                           'Invalid attribute item value "%s" for group '
                           'item type.' % v)
        if kind == "org" and not ORG_ARN_RE.match(v):
            raise AwsError("InvalidAMIAttributeItemValue",
                           'Invalid attribute item value "%s" for '
                           'OrganizationArn item type.' % v)
        if kind == "ou" and not OU_ARN_RE.match(v):
            raise AwsError("InvalidAMIAttributeItemValue",
                           'Invalid attribute item value "%s" for '
                           'OrganizationalUnitArn item type.' % v)

    def image_snapshots(self, img):
        out = []
        for b in img["bdm"]:
            sid = b.get("Ebs", {}).get("SnapshotId")
            if sid:
                s = self.snapshots.get(img["region"], {}).get(sid)
                if s is not None:
                    out.append(s)
        return out

    def modify_image_attribute(self, ctx, d):
        img = self.get_image(ctx, d["ImageId"], owner_only=True)
        attr = d.get("Attribute")
        items, has_lp = self._lp_items(d)
        desc = d.get("Description")
        imds = d.get("ImdsSupport")
        other = [x for x in (desc, imds) if x is not None]
        if d.get("ProductCodes"):
            raise AwsError("InvalidParameter",
                           "Product codes are not supported for this "
                           "operation.")
        if has_lp and (other or attr not in (None, "launchPermission")):
            raise AwsError("InvalidParameterCombination",
                           "Only one attribute can be modified per call.")
        if has_lp:
            self._modify_lp(ctx, img, items)
            return None
        if attr == "launchPermission":
            raise AwsError("MissingParameter",
                           "The request must contain the parameter "
                           "LaunchPermission")
        if attr == "description" or desc is not None:
            val = desc.get("Value") if desc is not None else d.get("Value")
            if val is None:
                raise AwsError("MissingParameter", "The request must "
                               "contain the parameter Value")
            ctx.authorize()
            img["description"] = val
            return None
        if attr == "imdsSupport" or imds is not None:
            val = imds.get("Value") if imds is not None else d.get("Value")
            if val != "v2.0":
                raise AwsError("InvalidParameterValue",
                               "Value (%s) for parameter imdsSupport is "
                               "invalid." % val)
            ctx.authorize()
            img["imds_support"] = "v2.0"
            return None
        if attr is not None:
            raise AwsError("InvalidParameterValue",
                           "Value (%s) for parameter attribute is invalid."
                           % attr)
        raise AwsError("MissingParameter", "The request must contain the "
                       "parameter Attribute")

    def _modify_lp(self, ctx, img, items):
        now = ctx.now
        for op, kind, v in items:
            self._check_lp_value(kind, v)
        adds = [(k, v) for op, k, v in items if op == "add"]
        if any(k == "group" for k, v in adds):
            if self.bpa_state(ctx.account, ctx.region) == "block-new-sharing":
                raise AwsError("OperationNotPermitted",
                               "You can't publicly share this image because "
                               "block public access for AMIs is enabled for "
                               "this account. To publicly share the image, "
                               "you must call the "
                               "DisableImageBlockPublicAccess API.")
            if any(s["encrypted"] for s in self.image_snapshots(img)):
                raise AwsError("UnsupportedOperation",
                               "Encrypted snapshots can't be shared "
                               "publicly. Specify another snapshot.")
        if adds:
            kms = self.app.kms
            for s in self.image_snapshots(img):
                if s["encrypted"] and kms.is_aws_managed(s["kms_key"]):
                    raise AwsError("InvalidParameter",
                                   "Snapshots encrypted with the AWS "
                                   "Managed CMK can't be shared. Specify "
                                   "another snapshot.")
        current = {(p["kind"], p["value"]) for p in img["lps"]
                   if p.get("removed") is None}
        after = set(current)
        for op, k, v in items:
            if op == "add":
                after.add((k, v))
            else:
                after.discard((k, v))
        quota = int(self.settings.get("sharing_quota", 1000))
        if len([x for x in after if x[0] != "group"]) > quota:
            raise AwsError("ResourceLimitExceeded",
                           "You have reached the limit of %d sharing "
                           "entities (accounts, organizations and "
                           "organizational units) for this AMI." % quota)
        ctx.authorize()
        for op, k, v in items:
            if op == "add" and (k, v) not in current:
                img["lps"].append({"kind": k, "value": v, "added": now,
                                   "removed": None})
                current.add((k, v))
            elif op == "remove" and (k, v) in current:
                for p in img["lps"]:
                    if p["kind"] == k and p["value"] == v and \
                            p.get("removed") is None:
                        p["removed"] = now
                current.discard((k, v))

    def reset_image_attribute(self, ctx, d):
        img = self.get_image(ctx, d["ImageId"], owner_only=True)
        if d["Attribute"] != "launchPermission":
            raise AwsError("InvalidParameterValue",
                           "Value (%s) for parameter attribute is invalid. "
                           "Only launchPermission can be reset."
                           % d["Attribute"])
        ctx.authorize()
        for p in img["lps"]:
            if p.get("removed") is None:
                p["removed"] = ctx.now
        return None

    # ---- block public access ---------------------------------------------
    def bpa_state(self, acct, region):
        st = self.bpa.get((acct, region))
        if st is None:
            st = "block-new-sharing" if self.settings.get(
                "image_block_public_access", True) else "unblocked"
        return st

    def get_bpa(self, ctx, d):
        ctx.authorize()
        return {"ImageBlockPublicAccessState":
                self.bpa_state(ctx.account, ctx.region),
                "ManagedBy": "account"}

    def enable_bpa(self, ctx, d):
        if d["ImageBlockPublicAccessState"] != "block-new-sharing":
            raise AwsError("InvalidParameterValue",
                           "Value (%s) for parameter "
                           "ImageBlockPublicAccessState is invalid."
                           % d["ImageBlockPublicAccessState"])
        ctx.authorize()
        self.bpa[(ctx.account, ctx.region)] = "block-new-sharing"
        return {"ImageBlockPublicAccessState": "block-new-sharing"}

    def disable_bpa(self, ctx, d):
        ctx.authorize()
        self.bpa[(ctx.account, ctx.region)] = "unblocked"
        return {"ImageBlockPublicAccessState": "unblocked"}

    # ---- image creation -----------------------------------------------------
    def _check_name(self, ctx, name, region=None):
        if not AMI_NAME_RE.match(name or ""):
            raise AwsError("InvalidAMIName.Malformed",
                           "AMI names must be between 3 and 128 characters "
                           "long, and may contain letters, numbers, "
                           "'(', ')', '.', '-', '/' and '_'")
        for img in self.images.get(region or ctx.region, {}).values():
            if img["owner"] == ctx.account and img["name"] == name and \
                    img["deregistered"] is None:
                raise AwsError("InvalidAMIName.Duplicate",
                               "AMI name %s is already in use by AMI %s"
                               % (name, img["id"]))

    def _new_image(self, ctx, name, bdm, root, region=None, delay=None,
                   **kw):
        region = region or ctx.region
        iid = self.new_id("ami")
        if delay is None:
            delay = self.settings.get("image_available_after_seconds", 0)
        img = {"id": iid, "region": region, "owner": ctx.account,
               "name": name, "location": "%s/%s" % (ctx.account, name),
               "created": ctx.now, "available_at": ctx.now + float(delay),
               "deregistered": None, "architecture": "x86_64",
               "root_device": root, "bdm": bdm, "lps": [],
               "boot_mode": None, "imds_support": None, "failed": None,
               "deprecation": None}
        img.update(kw)
        self.images.setdefault(region, {})[iid] = img
        return img

    def _snapshot_for(self, ctx, region, size, encrypted, kms_key,
                      volume_id="vol-ffffffff", description="",
                      delay=None):
        sid = self.new_id("snap")
        if delay is None:
            delay = self.settings.get("snapshot_complete_after_seconds", 0)
        s = {"id": sid, "region": region, "owner": ctx.account,
             "volume": volume_id, "size": size, "encrypted": encrypted,
             "kms_key": kms_key, "description": description,
             "start": ctx.now, "complete_at": ctx.now + float(delay),
             "cvp": []}
        self.snapshots.setdefault(region, {})[sid] = s
        return s

    def register_image(self, ctx, d):
        if d.get("ImageLocation"):
            raise AwsError("InvalidParameterValue",
                           "Registering instance-store images from S3 is "
                           "not supported by this emulator; use "
                           "BlockDeviceMappings.")
        name = d["Name"]
        self._check_name(ctx, name)
        bdms = d.get("BlockDeviceMappings") or []
        root = d.get("RootDeviceName")
        if not bdms:
            raise AwsError("MissingParameter", "The request must contain "
                           "the parameter BlockDeviceMapping")
        if not root:
            raise AwsError("MissingParameter", "The request must contain "
                           "the parameter RootDeviceName")
        out = []
        for b in bdms:
            ebs = b.get("Ebs")
            ent = {"DeviceName": b["DeviceName"]}
            if ebs:
                sid = ebs.get("SnapshotId")
                snap = self.get_snapshot(ctx, sid, use=True) if sid else None
                size = ebs.get("VolumeSize") or (snap["size"] if snap else 8)
                ent["Ebs"] = {"SnapshotId": sid, "VolumeSize": size,
                              "DeleteOnTermination":
                              ebs.get("DeleteOnTermination", True),
                              "VolumeType": ebs.get("VolumeType", "gp3"),
                              "Encrypted": bool(snap and snap["encrypted"])}
                if snap and snap["encrypted"]:
                    ent["Ebs"]["KmsKeyId"] = snap["kms_key"]
                if ent["Ebs"]["VolumeType"] == "gp3":
                    ent["Ebs"]["Iops"] = 3000
                    ent["Ebs"]["Throughput"] = 125
            elif b.get("NoDevice") is not None:
                ent["NoDevice"] = ""
            elif b.get("VirtualName"):
                ent["VirtualName"] = b["VirtualName"]
            out.append(ent)
        if not any(e["DeviceName"] == root and "Ebs" in e for e in out):
            raise AwsError("InvalidBlockDeviceMapping",
                           "The root device name %s does not match any "
                           "block device mapping with a snapshot." % root)
        self.check_tag_specs(d.get("TagSpecifications"), ("image",))
        ctx.authorize()
        img = self._new_image(
            ctx, name, out, root, description=d.get("Description"),
            architecture=d.get("Architecture", "x86_64"),
            ena=d.get("EnaSupport", True),
            sriov=d.get("SriovNetSupport", "simple"),
            virtualization=d.get("VirtualizationType", "hvm"),
            boot_mode=d.get("BootMode"), imds_support=d.get("ImdsSupport"))
        self.apply_tag_specs(ctx, d.get("TagSpecifications"), "image",
                             img["id"])
        return {"ImageId": img["id"]}

    def create_image(self, ctx, d):
        inst = self.get_instance(ctx, d["InstanceId"])
        name = d["Name"]
        self._check_name(ctx, name)
        self.check_tag_specs(d.get("TagSpecifications"),
                             ("image", "snapshot"))
        if self.instance_state(inst, ctx.now)[1] in ("terminated",
                                                     "shutting-down"):
            raise AwsError("IncorrectInstanceState",
                           "The instance '%s' is not in a state from which "
                           "it can be imaged." % inst["id"])
        ctx.authorize()
        bdm = []
        for dev, vid in sorted(inst["volumes"].items()):
            vol = self.volumes.get(ctx.region, {}).get(vid)
            if vol is None:
                continue
            s = self._snapshot_for(ctx, ctx.region, vol["size"],
                                   vol["encrypted"], vol["kms_key"],
                                   volume_id=vid,
                                   description="Created by CreateImage(%s) "
                                   "for %s" % (inst["id"], "pending"))
            self.apply_tag_specs(ctx, d.get("TagSpecifications"), "snapshot",
                                 s["id"])
            ebs = {"SnapshotId": s["id"], "VolumeSize": vol["size"],
                   "DeleteOnTermination": True,
                   "VolumeType": vol["type"], "Encrypted": vol["encrypted"]}
            if vol["encrypted"]:
                ebs["KmsKeyId"] = vol["kms_key"]
            if vol["type"] == "gp3":
                ebs["Iops"] = 3000
                ebs["Throughput"] = 125
            bdm.append({"DeviceName": dev, "Ebs": ebs})
        img = self._new_image(ctx, name, bdm, inst["root_device"],
                              description=d.get("Description"),
                              source_instance=inst["id"],
                              architecture=inst.get("architecture",
                                                    "x86_64"))
        for b in bdm:
            s = self.snapshots[ctx.region][b["Ebs"]["SnapshotId"]]
            s["description"] = "Created by CreateImage(%s) for %s" % (
                inst["id"], img["id"])
        self.apply_tag_specs(ctx, d.get("TagSpecifications"), "image",
                             img["id"])
        return {"ImageId": img["id"]}

    def copy_image(self, ctx, d):
        from .app import region_partition
        src_region = d["SourceRegion"]
        if region_partition(src_region) != self.app.world.partition:
            raise AwsError("InvalidRegion",
                           "Invalid region: %s" % src_region)
        tok = d.get("ClientToken")
        if tok:
            prev = self.tokens.get((ctx.account, ctx.region, "CopyImage",
                                    tok))
            if prev:
                return {"ImageId": prev}
        self.seed_region(src_region)
        src = self.get_image(ctx, d["SourceImageId"], region=src_region)
        name = d["Name"]
        self._check_name(ctx, name)
        if d.get("Description") is not None and len(d["Description"]) > 255:
            raise AwsError("InvalidParameterValue",
                           "Description must be at most 255 characters")
        self.check_tag_specs(d.get("TagSpecifications"),
                             ("image", "snapshot"))
        if self.image_state(src, ctx.now) != "available":
            raise AwsError("InvalidAMIID.Unavailable",
                           "The image id '[%s]' is not in a valid state "
                           "for this operation" % src["id"])
        snaps = self.image_snapshots(src)
        if src["owner"] != ctx.account:
            for s in snaps:
                if not self.snapshot_restorable(s, ctx.account):
                    raise AwsError("InvalidRequest",
                                   "You do not have permission to access "
                                   "the storage of this ami")
        kms = self.app.kms
        want_enc = d.get("Encrypted")
        key_spec = d.get("KmsKeyId")
        if key_spec and not want_enc:
            raise AwsError("InvalidParameterDependency",
                           "The parameter KmsKeyId requires the parameter "
                           "Encrypted to be set.")
        ctx.authorize()
        failed = None
        dest_key = None
        if key_spec:
            k = kms.resolve(ctx.account, ctx.region, key_spec)
            if k is None:
                failed = ("Client.InvalidKMSKey.InvalidState",
                          "The KMS key provided is in an incorrect state")
            else:
                dest_key = k["arn"]
        for s in snaps:
            if s["encrypted"] and not kms.can_use(s["kms_key"],
                                                  ctx.account):
                failed = ("Client.InvalidKMSKey.InvalidState",
                          "The KMS key for the snapshot %s is not "
                          "accessible" % s["id"])
        bdm = []
        delay = self.settings.get("copy_available_after_seconds", 0)
        for b in src["bdm"]:
            nb = json.loads(json.dumps(b))
            ebs = nb.get("Ebs")
            if ebs and ebs.get("SnapshotId"):
                old = self.snapshots[src_region].get(ebs["SnapshotId"])
                enc = bool(old and old["encrypted"]) or bool(want_enc)
                key = None
                if enc:
                    key = dest_key
                    if key is None:
                        if old and old["encrypted"] and \
                                src_region == ctx.region and \
                                old["owner"] == ctx.account:
                            key = old["kms_key"]
                        else:
                            key = kms.default_ebs_key(ctx.account,
                                                      ctx.region)["arn"]
                ns = self._snapshot_for(
                    ctx, ctx.region, ebs["VolumeSize"], enc, key,
                    description="Copied for DestinationAmi %s from "
                    "SourceAmi %s" % ("pending", src["id"]), delay=delay)
                self.apply_tag_specs(ctx, d.get("TagSpecifications"),
                                     "snapshot", ns["id"])
                ebs["SnapshotId"] = ns["id"]
                ebs["Encrypted"] = enc
                if enc:
                    ebs["KmsKeyId"] = key
                else:
                    ebs.pop("KmsKeyId", None)
            bdm.append(nb)
        img = self._new_image(ctx, name, bdm, src["root_device"],
                              delay=delay,
                              description=d.get("Description"),
                              architecture=src["architecture"],
                              source_image=src["id"],
                              source_region=src_region,
                              boot_mode=src.get("boot_mode"),
                              imds_support=src.get("imds_support"),
                              failed=failed)
        for b in bdm:
            sid = b.get("Ebs", {}).get("SnapshotId")
            if sid:
                s = self.snapshots[ctx.region][sid]
                s["description"] = s["description"].replace(
                    "DestinationAmi pending", "DestinationAmi " + img["id"])
        if d.get("CopyImageTags"):
            own = self.tags.get((ctx.account, src_region, src["id"]))
            if own:
                self.tags[(ctx.account, ctx.region, img["id"])] = dict(own)
        self.apply_tag_specs(ctx, d.get("TagSpecifications"), "image",
                             img["id"])
        if tok:
            self.tokens[(ctx.account, ctx.region, "CopyImage", tok)] = \
                img["id"]
        return {"ImageId": img["id"]}

    def deregister_image(self, ctx, d):
        img = self.get_image(ctx, d["ImageId"], owner_only=True)
        if img["deregistered"] is not None:
            raise self.not_found_images([img["id"]])
        ctx.authorize()
        img["deregistered"] = ctx.now
        return {"Return": True}

    def enable_deprecation(self, ctx, d):
        img = self.get_image(ctx, d["ImageId"], owner_only=True)
        at = d["DeprecateAt"]
        at = round(at / 60.0) * 60
        if at < ctx.now - 60:
            raise AwsError("InvalidParameterValue",
                           "The deprecation time cannot be in the past.")
        if at > ctx.now + 10 * 366 * 86400:
            raise AwsError("InvalidParameterValue",
                           "The deprecation time cannot be more than 10 "
                           "years in the future.")
        ctx.authorize()
        img["deprecation"] = at
        return {"Return": True}

    def disable_deprecation(self, ctx, d):
        img = self.get_image(ctx, d["ImageId"], owner_only=True)
        ctx.authorize()
        img["deprecation"] = None
        return {"Return": True}

    # ---- snapshots -------------------------------------------------------
    def snapshot_state(self, s, now):
        return "completed" if now >= s["complete_at"] else "pending"

    def snapshot_restorable(self, s, acct):
        if s["owner"] == acct:
            return True
        for p in s["cvp"]:
            if p["kind"] == "group" or (p["kind"] == "user" and
                                        p["value"] == acct):
                return True
        return False

    def get_snapshot(self, ctx, sid, owner_only=False, use=False,
                     region=None):
        if id_kind(sid) != "snap":
            raise AwsError("InvalidSnapshotID.Malformed",
                           'Invalid id: "%s" (expecting "snap-...")' % sid)
        s = self.snapshots.get(region or ctx.region, {}).get(sid)
        if s is None or not self.snapshot_restorable(s, ctx.account):
            raise AwsError("InvalidSnapshot.NotFound",
                           "The snapshot '%s' does not exist." % sid)
        if owner_only and s["owner"] != ctx.account:
            raise AwsError("AuthFailure", "Not authorized for snapshot:%s"
                           % sid, 401)
        return s

    def snapshot_doc(self, ctx, s):
        d = {"SnapshotId": s["id"], "VolumeId": s["volume"],
             "State": self.snapshot_state(s, ctx.now),
             "StartTime": s["start"],
             "Progress": "100%" if self.snapshot_state(s, ctx.now) ==
             "completed" else "0%",
             "OwnerId": s["owner"], "Description": s["description"],
             "VolumeSize": s["size"], "Encrypted": s["encrypted"],
             "StorageTier": "standard",
             "Tags": self.tag_list(ctx, s["id"], s["region"])}
        if s["encrypted"]:
            d["KmsKeyId"] = s["kms_key"]
        return d

    SNAPSHOT_FILTERS = {
        "description": lambda d: [d["Description"]],
        "encrypted": lambda d: [bstr(d["Encrypted"])],
        "owner-alias": lambda d: [d["ImageOwnerAlias"]]
        if d.get("ImageOwnerAlias") else [],
        "owner-id": lambda d: [d["OwnerId"]],
        "progress": lambda d: [d["Progress"]],
        "snapshot-id": lambda d: [d["SnapshotId"]],
        "start-time": lambda d: [ts_str(d["StartTime"])],
        "status": lambda d: [d["State"]],
        "storage-tier": lambda d: [d["StorageTier"]],
        "volume-id": lambda d: [d["VolumeId"]],
        "volume-size": lambda d: [str(d["VolumeSize"])],
        "transfer-type": lambda d: ["standard"],
        "kms-key-id": lambda d: [d.get("KmsKeyId") or ""],
    }

    def describe_snapshots(self, ctx, d):
        acct = ctx.account
        ids = d.get("SnapshotIds") or []
        region = self.snapshots.get(ctx.region, {})
        for o in d.get("OwnerIds") or []:
            if o not in ("self", "amazon", "aws-marketplace") and \
                    not ACCOUNT_RE.match(o):
                raise AwsError("InvalidUserID.Malformed",
                               'Invalid user id: "%s"' % o)
        for r in d.get("RestorableByUserIds") or []:
            if r not in ("self", "all") and not ACCOUNT_RE.match(r):
                raise AwsError("InvalidUserID.Malformed",
                               'Invalid user id: "%s"' % r)
        if ids:
            cands = []
            for sid in ids:
                if id_kind(sid) != "snap":
                    raise AwsError("InvalidSnapshotID.Malformed",
                                   'Invalid id: "%s" (expecting '
                                   '"snap-...")' % sid)
                s = region.get(sid)
                if s is None:
                    raise AwsError("InvalidSnapshot.NotFound",
                                   "The snapshot '%s' does not exist." % sid)
                if self.snapshot_restorable(s, acct) and s not in cands:
                    cands.append(s)
        else:
            cands = [s for s in region.values()
                     if self.snapshot_restorable(s, acct)]
        owners = d.get("OwnerIds")
        if owners:
            want = {acct if o == "self" else o for o in owners}
            cands = [s for s in cands if s["owner"] in want]
        rb = d.get("RestorableByUserIds")
        if rb:
            kept = []
            for s in cands:
                ok = False
                for r in rb:
                    if r == "all":
                        ok = ok or any(p["kind"] == "group"
                                       for p in s["cvp"])
                    elif r in ("self", acct):
                        ok = ok or s["owner"] == acct or any(
                            p["kind"] == "user" and p["value"] == acct
                            for p in s["cvp"])
                    elif s["owner"] == acct:
                        ok = ok or any(p["kind"] == "user" and
                                       p["value"] == r for p in s["cvp"])
                if ok:
                    kept.append(s)
            cands = kept
        cands.sort(key=lambda s: (s["start"], s["id"]))
        docs = [self.snapshot_doc(ctx, s) for s in cands]
        docs = apply_filters(docs, d.get("Filters"), self.SNAPSHOT_FILTERS,
                             self.tag_extra(ctx, lambda x: x["SnapshotId"]))
        ctx.authorize()
        page, nxt = self.paginate(ctx, d, docs, lo=5, hi=None)
        for p in page:
            p["StartTime"] = p["StartTime"]
        return {"Snapshots": page, "NextToken": nxt}

    def describe_snapshot_attribute(self, ctx, d):
        s = self.get_snapshot(ctx, d["SnapshotId"], owner_only=True)
        attr = d["Attribute"]
        if attr not in ("createVolumePermission", "productCodes"):
            raise AwsError("InvalidParameterValue",
                           "Value (%s) for parameter attribute is invalid."
                           % attr)
        ctx.authorize()
        out = {"SnapshotId": s["id"]}
        if attr == "createVolumePermission":
            out["CreateVolumePermissions"] = [
                {"UserId": p["value"]} if p["kind"] == "user"
                else {"Group": p["value"]} for p in s["cvp"]]
        else:
            out["ProductCodes"] = []
        return out

    def modify_snapshot_attribute(self, ctx, d):
        s = self.get_snapshot(ctx, d["SnapshotId"], owner_only=True)
        attr = d.get("Attribute")
        if attr not in (None, "createVolumePermission"):
            raise AwsError("InvalidParameterValue",
                           "Value (%s) for parameter attribute is invalid."
                           % attr)
        items = []
        cvp = d.get("CreateVolumePermission") or {}
        for op in ("Add", "Remove"):
            for it in cvp.get(op) or []:
                if it.get("UserId") is not None:
                    items.append((op.lower(), "user", it["UserId"]))
                if it.get("Group") is not None:
                    items.append((op.lower(), "group", it["Group"]))
        flat = bool(d.get("UserIds") or d.get("GroupNames"))
        if flat and items and d.get("OperationType") is None:
            flat = False    # structured form wins (see ModifyImageAttribute)
        if flat:
            op = d.get("OperationType")
            if op not in ("add", "remove"):
                raise AwsError("MissingParameter" if op is None else
                               "InvalidParameterValue",
                               "The request must contain the parameter "
                               "OperationType" if op is None else
                               "Value (%s) for parameter operationType is "
                               "invalid." % op)
            for u in d.get("UserIds") or []:
                items.append((op, "user", u))
            for g in d.get("GroupNames") or []:
                items.append((op, "group", g))
        if not items:
            raise AwsError("MissingParameter", "The request must contain "
                           "the parameter CreateVolumePermission")
        if len({op for op, _, _ in items}) > 1:
            raise AwsError("InvalidParameterCombination",
                           "You cannot add and remove create volume "
                           "permissions in the same request.")
        if len(items) > 500:
            raise AwsError("InvalidParameterValue",
                           "You can specify at most 500 modifications in a "
                           "single request.")
        for op, k, v in items:
            if k == "user" and not ACCOUNT_RE.match(v):
                raise AwsError("InvalidParameterValue",
                               "Value (%s) for parameter userId is invalid."
                               % v)
            if k == "group" and v != "all":
                raise AwsError("InvalidParameterValue",
                               "Value (%s) for parameter group is invalid."
                               % v)
        if items[0][0] == "add" and s["encrypted"]:
            if any(k == "group" for _, k, _ in items):
                raise AwsError("UnsupportedOperation",
                               "Encrypted snapshots can't be shared "
                               "publicly. Specify another snapshot.")
            if self.app.kms.is_aws_managed(s["kms_key"]):
                raise AwsError("OperationNotPermitted",
                               "Encrypted snapshots with EBS default key "
                               "cannot be shared")
        ctx.authorize()
        for op, k, v in items:
            ent = {"kind": k, "value": v}
            if op == "add":
                if ent not in s["cvp"]:
                    s["cvp"].append(ent)
            elif ent in s["cvp"]:
                s["cvp"].remove(ent)
        return None

    def reset_snapshot_attribute(self, ctx, d):
        s = self.get_snapshot(ctx, d["SnapshotId"], owner_only=True)
        if d["Attribute"] != "createVolumePermission":
            raise AwsError("InvalidParameterValue",
                           "Value (%s) for parameter attribute is invalid."
                           % d["Attribute"])
        ctx.authorize()
        s["cvp"] = []
        return None

    def create_snapshot(self, ctx, d):
        vol = self.get_volume(ctx, d["VolumeId"])
        self.check_tag_specs(d.get("TagSpecifications"), ("snapshot",))
        ctx.authorize()
        s = self._snapshot_for(ctx, ctx.region, vol["size"],
                               vol["encrypted"], vol["kms_key"],
                               volume_id=vol["id"],
                               description=d.get("Description") or "")
        self.apply_tag_specs(ctx, d.get("TagSpecifications"), "snapshot",
                             s["id"])
        doc = self.snapshot_doc(ctx, s)
        return doc

    def delete_snapshot(self, ctx, d):
        s = self.get_snapshot(ctx, d["SnapshotId"], owner_only=True)
        for img in self.images.get(ctx.region, {}).values():
            if img["deregistered"] is None and s in self.image_snapshots(img):
                raise AwsError("InvalidSnapshot.InUse",
                               "The snapshot %s is currently in use by %s"
                               % (s["id"], img["id"]))
        ctx.authorize()
        del self.snapshots[ctx.region][s["id"]]
        return {"Return": True}

    def copy_snapshot(self, ctx, d):
        src = self.get_snapshot(ctx, d["SourceSnapshotId"],
                                region=d["SourceRegion"])
        kms = self.app.kms
        ctx.authorize()
        enc = src["encrypted"] or bool(d.get("Encrypted"))
        key = None
        if enc:
            if d.get("KmsKeyId"):
                k = kms.resolve(ctx.account, ctx.region, d["KmsKeyId"])
                if k is None:
                    raise AwsError("InvalidParameterValue",
                                   "The KMS key %s does not exist"
                                   % d["KmsKeyId"])
                key = k["arn"]
            else:
                key = kms.default_ebs_key(ctx.account, ctx.region)["arn"]
        s = self._snapshot_for(ctx, ctx.region, src["size"], enc, key,
                               description=d.get("Description") or
                               "Copied from %s" % src["id"])
        self.apply_tag_specs(ctx, d.get("TagSpecifications"), "snapshot",
                             s["id"])
        return {"SnapshotId": s["id"]}

    # ---- tags ------------------------------------------------------------
    def resolve_resource(self, ctx, rid):
        """Check a resource id is well formed and visible to the caller."""
        kind = id_kind(rid)
        if kind is None:
            raise AwsError("InvalidID", "The ID '%s' is not valid" % rid)
        rtype, malformed, notfound = ID_KINDS[kind]
        ok = False
        if kind == "ami":
            img = self.images.get(ctx.region, {}).get(rid)
            ok = img is not None and img["deregistered"] is None and \
                self.image_visible(img, ctx.account, ctx.now)
            if not ok:
                raise self.not_found_images([rid])
        elif kind == "snap":
            s = self.snapshots.get(ctx.region, {}).get(rid)
            ok = s is not None and self.snapshot_restorable(s, ctx.account)
            if not ok:
                raise AwsError(notfound, "The snapshot '%s' does not exist."
                               % rid)
        else:
            ok = self.owns_compute(ctx, kind, rid)
            if not ok:
                raise AwsError(notfound, "The %s ID '%s' does not exist"
                               % (rtype.replace("-", " "), rid))
        return rtype

    def create_tags(self, ctx, d):
        rids = d["Resources"]
        tags = d["Tags"]
        if len(rids) > 1000:
            raise AwsError("InvalidParameterValue",
                           "The number of resource IDs (%d) exceeds the "
                           "maximum of 1000." % len(rids))
        self.validate_tags(tags)
        for rid in rids:
            self.resolve_resource(ctx, rid)
        newkeys = []
        for t in tags:
            if t["Key"] not in newkeys:
                newkeys.append(t["Key"])
        for rid in rids:
            cur = self.tags.get((ctx.account, ctx.region, rid), {})
            n = len(set(cur) | set(newkeys))
            if n > 50:
                raise AwsError("TagLimitExceeded",
                               "The maximum number of Tags for a resource "
                               "has been reached.")
        ctx.authorize()
        for rid in rids:
            t = self.tags.setdefault((ctx.account, ctx.region, rid), {})
            for tag in tags:
                t[tag["Key"]] = tag.get("Value") or ""
        return None

    def delete_tags(self, ctx, d):
        rids = d["Resources"]
        tags = d.get("Tags")
        if len(rids) > 1000:
            raise AwsError("InvalidParameterValue",
                           "The number of resource IDs (%d) exceeds the "
                           "maximum of 1000." % len(rids))
        for t in tags or []:
            k = t.get("Key")
            if k is None or k == "":
                raise AwsError("InvalidTagKey.Malformed",
                               "Tag keys must not be empty.")
            if k.lower().startswith("aws:"):
                raise AwsError("InvalidTagKey.Malformed",
                               "Tag keys starting with 'aws:' are reserved "
                               "for internal use")
        for rid in rids:
            self.resolve_resource(ctx, rid)
        ctx.authorize()
        for rid in rids:
            key = (ctx.account, ctx.region, rid)
            cur = self.tags.get(key)
            if not cur:
                continue
            if not tags:
                cur.clear()
            else:
                for t in tags:
                    k = t["Key"]
                    if k not in cur:
                        continue
                    if "Value" in t and t["Value"] is not None:
                        if cur[k] == t["Value"]:
                            del cur[k]
                    else:
                        del cur[k]
            if not cur:
                del self.tags[key]
        return None

    TAG_FILTERS = {
        "key": lambda t: [t["Key"]],
        "value": lambda t: [t["Value"]],
        "resource-id": lambda t: [t["ResourceId"]],
        "resource-type": lambda t: [t["ResourceType"]],
    }

    def describe_tags(self, ctx, d):
        out = []
        now = ctx.now
        for (acct, region, rid), t in self.tags.items():
            if acct != ctx.account or region != ctx.region:
                continue
            kind = id_kind(rid)
            if kind == "ami":
                img = self.images.get(region, {}).get(rid)
                if img is None or self.image_gone(img, now):
                    continue
            for k, v in t.items():
                out.append({"ResourceId": rid,
                            "ResourceType": ID_KINDS[kind][0],
                            "Key": k, "Value": v})
        out.sort(key=lambda x: (x["ResourceId"], x["Key"]))

        def tag_extra(item, name):
            if name == "tag-key":
                return [item["Key"]]
            if name == "tag-value":
                return [item["Value"]]
            return [item["Value"]] if item["Key"] == name[4:] else []
        out = apply_filters(out, d.get("Filters"), self.TAG_FILTERS,
                            tag_extra)
        ctx.authorize()
        page, nxt = self.paginate(ctx, d, out, lo=5, hi=1000)
        return {"Tags": page, "NextToken": nxt}

    # ---- inspection ----------------------------------------------------------
    def state(self, acct, region):
        """What account acct can see in region (for /_fakeaws/state)."""
        from .app import Ctx, Principal
        now = self.app.now()
        ctx = Ctx.__new__(Ctx)
        ctx.account = acct
        ctx.region = region
        ctx.now = now
        ctx.principal = Principal(acct, "", "", "user")
        imgs = []
        for img in sorted(self.images.get(region, {}).values(),
                          key=lambda i: (i["created"], i["id"])):
            if not self.image_visible(img, acct, now):
                continue
            doc = {"id": img["id"], "name": img["name"],
                   "owner": img["owner"],
                   "state": self.image_state(img, now),
                   "public": self.is_public(img, now,
                                            img["owner"] == acct),
                   "tags": dict(self.caller_tags(ctx, img["id"]) or {}),
                   "snapshots": [b["Ebs"]["SnapshotId"] for b in img["bdm"]
                                 if b.get("Ebs")],
                   "deprecation_time": ts_str(img["deprecation"])
                   if img.get("deprecation") else None}
            if img["owner"] == acct:
                doc["launch_permissions"] = [
                    {p["kind"]: p["value"]} for p in img["lps"]
                    if p.get("removed") is None]
            else:
                doc["shared_via"] = self._shared_via(img, acct, now)
            imgs.append(doc)
        snaps = []
        for s in sorted(self.snapshots.get(region, {}).values(),
                        key=lambda s: (s["start"], s["id"])):
            if not self.snapshot_restorable(s, acct):
                continue
            doc = {"id": s["id"], "owner": s["owner"],
                   "encrypted": s["encrypted"], "kms_key_id": s["kms_key"],
                   "size": s["size"],
                   "state": self.snapshot_state(s, now),
                   "tags": dict(self.caller_tags(ctx, s["id"]) or {})}
            if s["owner"] == acct:
                doc["create_volume_permissions"] = [
                    {p["kind"]: p["value"]} for p in s["cvp"]]
            snaps.append(doc)
        out = {"images": imgs, "snapshots": snaps}
        out.update(self.compute_state(ctx))
        return out

    def _shared_via(self, img, acct, now):
        w = self.app.world
        via = []
        delay = self._lp_delay()
        for p in self._lp_candidates(img, acct):
            if not self._lp_active(p, False, now, delay):
                continue
            k, v = p["kind"], p["value"]
            if (k == "user" and v == acct) or k == "group" or \
                    (k == "org" and w.account_matches_org_arn(acct, v)) or \
                    (k == "ou" and w.account_matches_ou_arn(acct, v)):
                via.append({k: v})
        return via
