"""SSM Parameter Store, including the aws:ec2:image data type.

aws:ec2:image values are validated asynchronously, as documented:
PutParameter answers with a version straight away; until validation
completes a new parameter is not found and an updated one keeps serving
its previous version; an invalid value is dropped and only reported as
a "Parameter Store Change" event (visible in /_fakeaws/state)."""
import re

from .errors import AwsError

NAME_RE = re.compile(r"^[a-zA-Z0-9_.\-/]+$")
AMI_RE = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")
TYPES = ("String", "StringList", "SecureString")
DATA_TYPES = ("text", "aws:ec2:image", "aws:ssm:integration")
MAX_VERSIONS = 100


def validation(msg):
    return AwsError("ValidationException", msg)


class SSM(object):
    def __init__(self, app):
        self.app = app
        self.params = {}     # (account, region) -> {name: param}
        self.events = []
        self.handlers = {
            "PutParameter": self.put_parameter,
            "GetParameter": self.get_parameter,
            "GetParameters": self.get_parameters,
            "DeleteParameter": self.delete_parameter,
            "DeleteParameters": self.delete_parameters,
            "GetParameterHistory": self.get_parameter_history,
            "DescribeParameters": self.describe_parameters,
            "AddTagsToResource": self.add_tags,
            "RemoveTagsFromResource": self.remove_tags,
            "ListTagsForResource": self.list_tags,
        }

    def _store(self, ctx):
        return self.params.setdefault((ctx.account, ctx.region), {})

    def _delay(self):
        f = self.app.faults.ssm_validation_delay
        if f is not None:
            return float(f)
        return float(self.app.world.settings.get(
            "ssm_validation_delay_seconds", 0) or 0)

    def arn(self, ctx, name):
        return "arn:%s:ssm:%s:%s:parameter/%s" % (
            self.app.world.partition, ctx.region, ctx.account,
            name.lstrip("/"))

    def _check_name(self, name):
        if not name or not NAME_RE.match(name):
            raise validation("Parameter name: can't be prefixed with \"aws\" "
                             "or \"ssm\" (case-insensitive). If formed as a "
                             "path, it can consist of sub-paths divided by "
                             "slash symbol; each sub-path can be formed as a "
                             "mix of letters, numbers and the following 3 "
                             "symbols .-_")
        bare = name.lstrip("/").lower()
        if bare.startswith("aws") or bare.startswith("ssm"):
            raise validation("No access to reserved parameter name: %s."
                             % name)
        if "/" in name and not name.startswith("/"):
            raise validation("Parameter name must be a fully qualified name.")
        if name.count("/") > 15:
            raise AwsError("HierarchyLevelLimitExceededException",
                           "A hierarchy can have a maximum of 15 levels.")
        if len(name) > 1011:
            raise validation("Parameter name exceeds 1011 characters.")

    # ---- asynchronous aws:ec2:image validation ------------------------------
    def _image_ok(self, account, region, value):
        ec2 = self.app.ec2
        if not AMI_RE.match(value):
            return False
        img = ec2.images.get(region, {}).get(value)
        now = self.app.now()
        return (img is not None and ec2.image_visible(img, account, now)
                and ec2.image_state(img, now) == "available")

    def _settle(self, account, region, p):
        pend = p.get("pending")
        if pend is None or self.app.now() < pend["at"]:
            return
        p["pending"] = None
        ok = self._image_ok(account, region, pend["value"])
        ev = {"time": self.app.now(), "account": account, "region": region,
              "detail-type": "Parameter Store Change", "source": "aws.ssm",
              "detail": {"name": p["name"], "operation": pend["op"],
                         "type": pend["type"],
                         "dataType": "aws:ec2:image"}}
        if ok:
            p["versions"].append(pend["version_doc"])
        else:
            ev["detail"]["exception"] = "Unable to Describe Resource"
        self.events.append(ev)

    def _lookup(self, ctx, name):
        p = self._store(ctx).get(name)
        if p is not None:
            self._settle(ctx.account, ctx.region, p)
            if not p["versions"]:
                return None
        return p

    # ---- operations -------------------------------------------------------------
    def put_parameter(self, ctx, d):
        name = d["Name"]
        self._check_name(name)
        value = d["Value"]
        tier = d.get("Tier") or "Standard"
        if tier not in ("Standard", "Advanced", "Intelligent-Tiering"):
            raise validation("Invalid tier %s" % tier)
        limit = 8192 if tier == "Advanced" else 4096
        if len(value.encode()) > limit:
            raise validation("Standard tier parameters support a maximum "
                             "parameter value of 4096 characters. To create "
                             "a larger parameter value, upgrade the "
                             "parameter to use the advanced-parameter tier.")
        ptype = d.get("Type")
        if ptype is not None and ptype not in TYPES:
            raise validation("1 validation error detected: Value '%s' at "
                             "'type' failed to satisfy constraint: Member "
                             "must satisfy enum value set: [SecureString, "
                             "StringList, String]" % ptype)
        dtype = d.get("DataType")
        if dtype is not None and dtype not in DATA_TYPES:
            raise validation("The following data type is not supported: %s "
                             "(Data type names are all lowercase.)" % dtype)
        overwrite = bool(d.get("Overwrite"))
        if d.get("Tags") and overwrite:
            raise validation("Invalid request: tags and overwrite can't be "
                             "used together. To create a parameter with "
                             "tags, please remove overwrite flag. To update "
                             "tags for an existing parameter, please use "
                             "AddTagsToResource or RemoveTagsFromResource.")
        for t in d.get("Tags") or []:
            if not (1 <= len(t["Key"]) <= 128) or len(t["Value"]) > 256:
                raise validation("Invalid tag key or value")
        store = self._store(ctx)
        p = store.get(name)
        if p is not None:
            self._settle(ctx.account, ctx.region, p)
        exists = p is not None and (p["versions"] or p.get("pending"))
        if exists and not overwrite:
            raise AwsError("ParameterAlreadyExists",
                           "The parameter already exists. To overwrite this "
                           "value, set the overwrite option in the request "
                           "to true.")
        if not exists and ptype is None:
            raise validation("A parameter type is required when you create "
                             "a parameter.")
        cur = p["versions"][-1] if exists and p["versions"] else None
        if cur is not None:
            old_dt = cur["DataType"]
            new_dt = dtype or old_dt
            if (old_dt == "aws:ec2:image") != (new_dt == "aws:ec2:image"):
                raise validation("You cannot change the data type of a "
                                 "parameter to or from aws:ec2:image.")
            dtype = new_dt
            ptype = ptype or cur["Type"]
        dtype = dtype or "text"
        if dtype == "aws:ec2:image" and ptype != "String":
            raise validation("The aws:ec2:image data type is supported only "
                             "for String parameters.")
        if exists and p.get("pending"):
            raise AwsError("TooManyUpdates",
                           "Parameter %s is being validated. Try again "
                           "after the validation completes." % name)
        if p is not None and len(p["versions"]) >= MAX_VERSIONS:
            raise AwsError("ParameterMaxVersionLimitExceeded",
                           "You attempted to create a new version of %s by "
                           "calling the PutParameter API with the overwrite "
                           "flag. Version %d, the oldest version, can't be "
                           "deleted because it has a label associated with "
                           "it." % (name, p["versions"][0]["Version"]))
        ctx.authorize()
        if p is None:
            p = {"name": name, "versions": [], "pending": None, "tags": {},
                 "next_version": 1}
            store[name] = p
        for t in d.get("Tags") or []:
            p["tags"][t["Key"]] = t["Value"]
        version = p["next_version"]
        p["next_version"] += 1
        doc = {"Name": name, "Type": ptype, "Value": value,
               "Version": version, "LastModifiedDate": ctx.now,
               "ARN": self.arn(ctx, name), "DataType": dtype,
               "Description": d.get("Description")
               if d.get("Description") is not None else
               (cur or {}).get("Description"),
               "Tier": tier}
        if dtype == "aws:ec2:image":
            p["pending"] = {"value": value, "at": ctx.now + self._delay(),
                            "op": "Update" if cur else "Create",
                            "type": ptype, "version_doc": doc}
            self._settle(ctx.account, ctx.region, p)
        else:
            p["versions"].append(doc)
        return {"Version": version, "Tier": tier}

    def _param_doc(self, ctx, ver, decrypt):
        out = {k: ver[k] for k in ("Name", "Type", "Value", "Version",
                                   "LastModifiedDate", "ARN", "DataType")}
        if ver["Type"] == "SecureString" and not decrypt:
            import base64
            out["Value"] = base64.b64encode(
                b"fakeaws-kms:" + ver["Value"].encode()).decode()
        return out

    def _select(self, ctx, spec):
        name, sep, sel = spec.partition(":")
        p = self._lookup(ctx, name)
        if p is None:
            return None
        if not sep:
            return p["versions"][-1]
        if sel.isdigit():
            for v in p["versions"]:
                if v["Version"] == int(sel):
                    return v
            raise AwsError("ParameterVersionNotFound",
                           "Systems Manager could not find version %s of "
                           "%s." % (sel, name))
        return None

    def get_parameter(self, ctx, d):
        ver = self._select(ctx, d["Name"])
        if ver is None:
            raise AwsError("ParameterNotFound", "")
        ctx.authorize()
        return {"Parameter": self._param_doc(ctx, ver,
                                             d.get("WithDecryption"))}

    def get_parameters(self, ctx, d):
        names = d["Names"]
        if not (1 <= len(names) <= 10):
            raise validation("1 validation error detected: Value at 'names' "
                             "failed to satisfy constraint: Member must have "
                             "length less than or equal to 10")
        ctx.authorize()
        out, bad = [], []
        for n in names:
            v = self._select(ctx, n)
            if v is None:
                bad.append(n)
            else:
                out.append(self._param_doc(ctx, v, d.get("WithDecryption")))
        return {"Parameters": out, "InvalidParameters": bad}

    def delete_parameter(self, ctx, d):
        store = self._store(ctx)
        if self._lookup(ctx, d["Name"]) is None:
            raise AwsError("ParameterNotFound", "")
        ctx.authorize()
        del store[d["Name"]]
        return None

    def delete_parameters(self, ctx, d):
        ctx.authorize()
        store = self._store(ctx)
        done, bad = [], []
        for n in d["Names"]:
            if self._lookup(ctx, n) is None:
                bad.append(n)
            else:
                del store[n]
                done.append(n)
        return {"DeletedParameters": done, "InvalidParameters": bad}

    def get_parameter_history(self, ctx, d):
        p = self._lookup(ctx, d["Name"])
        if p is None:
            raise AwsError("ParameterNotFound", "")
        ctx.authorize()
        hist = []
        for v in p["versions"]:
            h = self._param_doc(ctx, v, d.get("WithDecryption"))
            h.pop("ARN", None)
            h["Labels"] = []
            h["Tier"] = v["Tier"]
            hist.append(h)
        return {"Parameters": hist}

    def describe_parameters(self, ctx, d):
        ctx.authorize()
        out = []
        for name in sorted(self._store(ctx)):
            p = self._lookup(ctx, name)
            if p is None:
                continue
            v = p["versions"][-1]
            out.append({"Name": name, "Type": v["Type"],
                        "Version": v["Version"],
                        "LastModifiedDate": v["LastModifiedDate"],
                        "DataType": v["DataType"], "Tier": v["Tier"],
                        "ARN": v["ARN"]})
        return {"Parameters": out}

    def _tag_target(self, ctx, d):
        if d["ResourceType"] != "Parameter":
            raise AwsError("InvalidResourceType",
                           "The resource type is not valid.")
        p = self._lookup(ctx, d["ResourceId"])
        if p is None:
            raise AwsError("InvalidResourceId",
                           "The resource ID is not valid.")
        return p

    def add_tags(self, ctx, d):
        p = self._tag_target(ctx, d)
        ctx.authorize()
        for t in d["Tags"]:
            p["tags"][t["Key"]] = t["Value"]
        return None

    def remove_tags(self, ctx, d):
        p = self._tag_target(ctx, d)
        ctx.authorize()
        for k in d["TagKeys"]:
            p["tags"].pop(k, None)
        return None

    def list_tags(self, ctx, d):
        p = self._tag_target(ctx, d)
        ctx.authorize()
        return {"TagList": [{"Key": k, "Value": v}
                            for k, v in p["tags"].items()]}

    # ---- inspection ----------------------------------------------------------
    def state(self, account, region):
        store = self.params.get((account, region))
        out = {}
        for name, p in sorted((store or {}).items()):
            self._settle(account, region, p)
            cur = p["versions"][-1] if p["versions"] else None
            out[name] = {"value": cur["Value"] if cur else None,
                         "version": cur["Version"] if cur else None,
                         "data_type": cur["DataType"] if cur else None,
                         "pending": p["pending"]["value"]
                         if p.get("pending") else None,
                         "tags": p["tags"]}
        evs = [e for e in self.events if e["account"] == account and
               e["region"] == region]
        res = {}
        if out:
            res["parameters"] = out
        if evs:
            res["events"] = evs
        return res
