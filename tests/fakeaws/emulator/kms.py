"""KMS: customer managed keys, the AWS managed default EBS key
(alias/aws/ebs), aliases, key policies (a small evaluator) and grants.

EC2 asks this module whether an account may use a key; that is how
encrypted shared snapshots become usable by a target account only with
key-policy access or a grant."""
import fnmatch
import json
import re
import uuid

from .errors import AwsError, DryRunOK

GRANT_OPS = ("Decrypt", "Encrypt", "GenerateDataKey",
             "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom",
             "ReEncryptTo", "Sign", "Verify", "GetPublicKey", "CreateGrant",
             "RetireGrant", "DescribeKey", "GenerateDataKeyPair",
             "GenerateDataKeyPairWithoutPlaintext", "GenerateMac",
             "VerifyMac", "DeriveSharedSecret")
USE_OPS = ("Decrypt", "CreateGrant", "ReEncryptFrom")
PRINCIPAL_RE = re.compile(r"^[\w+=,.@:/-]+$")
GRANT_NAME_RE = re.compile(r"^[a-zA-Z0-9:/_-]+$")
KEY_ARN_RE = re.compile(r"^arn:([\w-]+):kms:([\w-]+):(\d{12}):key/(.+)$")
ALIAS_ARN_RE = re.compile(r"^arn:([\w-]+):kms:([\w-]+):(\d{12}):"
                          r"(alias/.+)$")


def _list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def default_policy(account, partition="aws"):
    return {"Version": "2012-10-17", "Id": "key-default-1", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": "arn:%s:iam::%s:root" % (partition, account)},
         "Action": "kms:*", "Resource": "*"}]}


class KMS(object):
    def __init__(self, app):
        self.app = app
        self.keys = {}       # key arn -> key
        self.aliases = {}    # (account, region) -> {alias: key arn}
        self.grant_names = {}
        self.handlers = {
            "CreateKey": self.create_key,
            "DescribeKey": self.describe_key,
            "ListKeys": self.list_keys,
            "CreateAlias": self.create_alias,
            "ListAliases": self.list_aliases,
            "GetKeyPolicy": self.get_key_policy,
            "PutKeyPolicy": self.put_key_policy,
            "EnableKey": self.enable_key,
            "DisableKey": self.disable_key,
            "ScheduleKeyDeletion": self.schedule_deletion,
            "CreateGrant": self.create_grant,
            "ListGrants": self.list_grants,
            "RetireGrant": self.retire_grant,
            "RevokeGrant": self.revoke_grant,
        }
        for spec in app.world.kms_keys:
            self._declare(spec)

    # ---- store ----------------------------------------------------------
    def _new_key(self, account, region, manager="CUSTOMER", description="",
                 policy=None, key_id=None, spec="SYMMETRIC_DEFAULT",
                 usage="ENCRYPT_DECRYPT"):
        part = self.app.world.partition
        kid = key_id or str(uuid.UUID(int=self.app.rng.getrandbits(128),
                                      version=4))
        arn = "arn:%s:kms:%s:%s:key/%s" % (part, region, account, kid)
        k = {"id": kid, "arn": arn, "account": account, "region": region,
             "manager": manager, "description": description,
             "state": "Enabled", "created": self.app.now(),
             "policy": policy or default_policy(account, part),
             "grants": [], "spec": spec, "usage": usage}
        self.keys[arn] = k
        return k

    def _declare(self, spec):
        pol = spec.get("policy")
        if pol is None and spec.get("allow_accounts"):
            pol = default_policy(spec["account"])
            pol["Statement"].append({
                "Sid": "AllowUseByAccounts", "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::%s:root" % a
                                      for a in spec["allow_accounts"]]},
                "Action": ["kms:Decrypt", "kms:DescribeKey",
                           "kms:CreateGrant", "kms:GenerateDataKey*",
                           "kms:ReEncrypt*"], "Resource": "*"})
        k = self._new_key(spec["account"], spec["region"],
                          description=spec.get("description", ""),
                          policy=pol, key_id=spec.get("id"))
        if spec.get("alias"):
            self.aliases.setdefault((k["account"], k["region"]), {})[
                spec["alias"]] = k["arn"]

    def default_ebs_key(self, account, region):
        al = self.aliases.setdefault((account, region), {})
        arn = al.get("alias/aws/ebs")
        if arn is None:
            pol = {"Version": "2012-10-17", "Id": "auto-ebs-2", "Statement": [
                {"Sid": "Allow access through EBS for all principals in the "
                 "account that are authorized to use EBS", "Effect": "Allow",
                 "Principal": {"AWS": "*"},
                 "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*",
                            "kms:GenerateDataKey*", "kms:CreateGrant",
                            "kms:DescribeKey"], "Resource": "*",
                 "Condition": {"StringEquals": {
                     "kms:CallerAccount": account,
                     "kms:ViaService": "ec2.%s.amazonaws.com" % region}}}]}
            k = self._new_key(account, region, manager="AWS",
                              description="Default key that protects my EBS "
                              "volumes when no other key is defined",
                              policy=pol)
            al["alias/aws/ebs"] = k["arn"]
            arn = k["arn"]
        return self.keys[arn]

    def resolve(self, account, region, spec):
        """Find a key from a key id, key ARN, alias name or alias ARN as
        seen by `account` calling in `region`. None if not found."""
        if not spec:
            return None
        m = KEY_ARN_RE.match(spec)
        if m:
            k = self.keys.get(spec)
            if k is None or m.group(2) != region:
                return None
            return k
        m = ALIAS_ARN_RE.match(spec)
        if m:
            if m.group(2) != region:
                return None
            owner, alias = m.group(3), m.group(4)
            if alias == "alias/aws/ebs":
                return self.default_ebs_key(owner, region)
            arn = self.aliases.get((owner, region), {}).get(alias)
            return self.keys.get(arn) if arn else None
        if spec.startswith("alias/"):
            if spec == "alias/aws/ebs":
                return self.default_ebs_key(account, region)
            arn = self.aliases.get((account, region), {}).get(spec)
            return self.keys.get(arn) if arn else None
        part = self.app.world.partition
        return self.keys.get("arn:%s:kms:%s:%s:key/%s" % (part, region,
                                                         account, spec))

    def is_aws_managed(self, key_arn):
        k = self.keys.get(key_arn or "")
        return k is not None and k["manager"] == "AWS"

    # ---- authorisation ---------------------------------------------------
    def _principal_account(self, p):
        if p == "*":
            return "*"
        if re.match(r"^\d{12}$", p):
            return p
        m = re.match(r"^arn:[\w-]+:(?:iam|sts)::(\d{12}):", p)
        return m.group(1) if m else None

    def _cond_ok(self, cond, account):
        w = self.app.world
        for op, kv in (cond or {}).items():
            for key, vals in kv.items():
                vals = _list(vals)
                lk = key.lower()
                if lk == "aws:principalorgid":
                    have = [w.org["id"]] if w.org and \
                        w.active_member(account) else []
                elif lk == "aws:principalaccount" or \
                        lk == "kms:calleraccount":
                    have = [account]
                elif lk == "aws:principalorgpaths":
                    have = []
                    if w.org and w.active_member(account):
                        anc = list(reversed(w.ancestors(account)))
                        have = ["%s/%s/" % (w.org["id"],
                                            "/".join(anc[:i + 1]))
                                for i in range(len(anc))]
                elif lk == "kms:grantisforawsresource":
                    have = ["true"]
                elif lk == "kms:viaservice":
                    have = [str(v) for v in vals
                            if str(v).startswith("ec2.")]
                else:
                    return False
                if op in ("StringEquals", "ForAnyValue:StringEquals",
                          "Bool"):
                    if not set(have) & set(str(v) for v in vals):
                        return False
                elif op in ("StringLike", "ForAnyValue:StringLike"):
                    if not any(fnmatch.fnmatchcase(h, v) for h in have
                               for v in vals):
                        return False
                else:
                    return False
        return True

    def policy_allows(self, key, account, action):
        allowed = False
        for st in _list(key["policy"].get("Statement")):
            acts = _list(st.get("Action"))
            if not any(fnmatch.fnmatchcase("kms:" + action, a) or
                       a == "*" for a in acts):
                continue
            pr = st.get("Principal")
            if pr == "*":
                principals = ["*"]
            elif isinstance(pr, dict):
                principals = _list(pr.get("AWS"))
            else:
                principals = []
            hit = False
            for p in principals:
                pa = self._principal_account(p)
                if pa == "*" or pa == account:
                    hit = True
            if not hit or not self._cond_ok(st.get("Condition"), account):
                continue
            if st.get("Effect") == "Deny":
                return False
            allowed = True
        return allowed

    def grant_allows(self, key, account, op):
        for g in key["grants"]:
            if self._principal_account(g["GranteePrincipal"]) == account \
                    and op in g["Operations"]:
                return True
        return False

    def can_use(self, key_arn, account, op="Decrypt"):
        """May `account` use the key (e.g. EC2 decrypting a snapshot on
        its behalf)?"""
        k = self.keys.get(key_arn or "")
        if k is None or k["state"] != "Enabled":
            return False
        if k["account"] == account:
            return True
        if k["manager"] == "AWS":
            return False
        return (self.policy_allows(k, account, op) or
                self.policy_allows(k, account, "CreateGrant") or
                self.grant_allows(k, account, op) or
                self.grant_allows(k, account, "CreateGrant"))

    def _key_for(self, ctx, spec, action, need_arn_cross=True):
        """Look up a key for an API call and check the caller may run
        `action` on it."""
        k = self.resolve(ctx.account, ctx.region, spec)
        if k is None:
            m = KEY_ARN_RE.match(spec or "")
            if spec and not m and spec.startswith("arn:") and \
                    not ALIAS_ARN_RE.match(spec):
                raise AwsError("InvalidArnException",
                               "Invalid arn %s" % spec)
            if spec and spec.startswith("alias/") or \
                    ALIAS_ARN_RE.match(spec or ""):
                raise AwsError("NotFoundException",
                               "Alias %s is not found." % spec)
            raise AwsError("NotFoundException",
                           "Key '%s' does not exist" % (
                               spec if (spec or "").startswith("arn:") else
                               "arn:%s:kms:%s:%s:key/%s" % (
                                   self.app.world.partition, ctx.region,
                                   ctx.account, spec)))
        if k["account"] != ctx.account:
            ok = self.policy_allows(k, ctx.account, action) or \
                self.grant_allows(k, ctx.account, action)
            if k["manager"] == "AWS" or not ok:
                raise AwsError("AccessDeniedException",
                               "User: %s is not authorized to perform: "
                               "kms:%s on resource: %s because no "
                               "resource-based policy allows the kms:%s "
                               "action" % (ctx.principal.arn, action,
                                           k["arn"], action))
        return k

    def _meta(self, k):
        m = {"AWSAccountId": k["account"], "KeyId": k["id"],
             "Arn": k["arn"], "CreationDate": k["created"],
             "Enabled": k["state"] == "Enabled",
             "Description": k["description"], "KeyUsage": k["usage"],
             "KeyState": k["state"], "Origin": "AWS_KMS",
             "KeyManager": k["manager"], "CustomerMasterKeySpec": k["spec"],
             "KeySpec": k["spec"],
             "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
             "MultiRegion": False}
        if k.get("deletion"):
            m["DeletionDate"] = k["deletion"]
        return m

    # ---- operations --------------------------------------------------------
    def create_key(self, ctx, d):
        pol = None
        if d.get("Policy"):
            try:
                pol = json.loads(d["Policy"])
            except ValueError:
                raise AwsError("MalformedPolicyDocumentException",
                               "The new key policy will not allow you to "
                               "update the key policy in the future.")
        spec = d.get("KeySpec") or d.get("CustomerMasterKeySpec") or \
            "SYMMETRIC_DEFAULT"
        ctx.authorize()
        k = self._new_key(ctx.account, ctx.region,
                          description=d.get("Description", ""), policy=pol,
                          spec=spec, usage=d.get("KeyUsage",
                                                 "ENCRYPT_DECRYPT"))
        return {"KeyMetadata": self._meta(k)}

    def describe_key(self, ctx, d):
        k = self._key_for(ctx, d["KeyId"], "DescribeKey")
        ctx.authorize()
        return {"KeyMetadata": self._meta(k)}

    def list_keys(self, ctx, d):
        ctx.authorize()
        ks = [{"KeyId": k["id"], "KeyArn": k["arn"]}
              for k in self.keys.values()
              if k["account"] == ctx.account and k["region"] == ctx.region]
        return self._page(d, ks, "Keys")

    def _page(self, d, items, field):
        limit = d.get("Limit") or 100
        if not (1 <= limit <= 1000):
            raise AwsError("ValidationException",
                           "1 validation error detected: Value '%s' at "
                           "'limit' failed to satisfy constraint: Member "
                           "must have value between 1 and 1000" % limit)
        start = 0
        if d.get("Marker"):
            try:
                start = int(d["Marker"])
            except ValueError:
                raise AwsError("InvalidMarkerException",
                               "Invalid marker")
        page = items[start:start + limit]
        out = {field: page, "Truncated": start + limit < len(items)}
        if out["Truncated"]:
            out["NextMarker"] = str(start + limit)
        return out

    def create_alias(self, ctx, d):
        name = d["AliasName"]
        if not name.startswith("alias/") or name.startswith("alias/aws/"):
            raise AwsError("InvalidAliasNameException",
                           "Alias must start with the prefix \"alias/\" and "
                           "may not begin with \"alias/aws/\"")
        k = self._key_for(ctx, d["TargetKeyId"], "CreateAlias")
        al = self.aliases.setdefault((ctx.account, ctx.region), {})
        if name in al:
            raise AwsError("AlreadyExistsException",
                           "An alias with the name %s already exists" % name)
        ctx.authorize()
        al[name] = k["arn"]
        return None

    def list_aliases(self, ctx, d):
        ctx.authorize()
        part = self.app.world.partition
        self.default_ebs_key(ctx.account, ctx.region)
        items = []
        for name, arn in sorted(self.aliases.get((ctx.account, ctx.region),
                                                 {}).items()):
            k = self.keys[arn]
            if d.get("KeyId") and d["KeyId"] not in (k["id"], k["arn"]):
                continue
            items.append({"AliasName": name, "TargetKeyId": k["id"],
                          "AliasArn": "arn:%s:kms:%s:%s:%s" % (
                              part, ctx.region, ctx.account, name)})
        return self._page(d, items, "Aliases")

    def get_key_policy(self, ctx, d):
        k = self._key_for(ctx, d["KeyId"], "GetKeyPolicy")
        ctx.authorize()
        return {"Policy": json.dumps(k["policy"]), "PolicyName": "default"}

    def put_key_policy(self, ctx, d):
        k = self._key_for(ctx, d["KeyId"], "PutKeyPolicy")
        if k["manager"] == "AWS":
            raise AwsError("AccessDeniedException", "Cannot modify the "
                           "policy of an AWS managed key")
        try:
            pol = json.loads(d["Policy"])
        except ValueError:
            raise AwsError("MalformedPolicyDocumentException",
                           "The policy is not valid JSON")
        ctx.authorize()
        k["policy"] = pol
        return None

    def _set_state(self, ctx, d, state, action):
        k = self._key_for(ctx, d["KeyId"], action)
        if k["manager"] == "AWS":
            raise AwsError("AccessDeniedException", "Cannot change an AWS "
                           "managed key")
        ctx.authorize()
        k["state"] = state
        return k

    def enable_key(self, ctx, d):
        self._set_state(ctx, d, "Enabled", "EnableKey")

    def disable_key(self, ctx, d):
        self._set_state(ctx, d, "Disabled", "DisableKey")

    def schedule_deletion(self, ctx, d):
        days = d.get("PendingWindowInDays", 30)
        if not (7 <= days <= 30):
            raise AwsError("ValidationException", "PendingWindowInDays must "
                           "be between 7 and 30")
        k = self._set_state(ctx, d, "PendingDeletion", "ScheduleKeyDeletion")
        k["deletion"] = ctx.now + days * 86400
        return {"KeyId": k["arn"], "DeletionDate": k["deletion"],
                "KeyState": "PendingDeletion",
                "PendingWindowInDays": days}

    def create_grant(self, ctx, d):
        k = self._key_for(ctx, d["KeyId"], "CreateGrant")
        if k["state"] == "Disabled":
            raise AwsError("DisabledException", "%s is disabled." % k["arn"])
        if k["state"] != "Enabled":
            raise AwsError("KMSInvalidStateException",
                           "%s is pending deletion." % k["arn"])
        gp = d["GranteePrincipal"]
        if not (1 <= len(gp) <= 256) or not PRINCIPAL_RE.match(gp):
            raise AwsError("ValidationException",
                           "1 validation error detected: Value '%s' at "
                           "'granteePrincipal' failed to satisfy constraint:"
                           " Member must satisfy regular expression pattern:"
                           " ^[\\w+=,.@:/-]+$" % gp)
        ops = d["Operations"]
        if not ops or any(o not in GRANT_OPS for o in ops):
            raise AwsError("ValidationException",
                           "1 validation error detected: Value '%s' at "
                           "'operations' failed to satisfy constraint: "
                           "Member must satisfy constraint: [Member must "
                           "satisfy enum value set: [%s]]"
                           % (ops, ", ".join(GRANT_OPS)))
        if k["usage"] == "ENCRYPT_DECRYPT" and any(
                o in ("Sign", "Verify", "GenerateMac", "VerifyMac")
                for o in ops):
            raise AwsError("ValidationException",
                           "Grant operations %s are not permitted for a "
                           "key with KeyUsage ENCRYPT_DECRYPT" % ops)
        name = d.get("Name")
        if name is not None and (not (1 <= len(name) <= 256) or
                                 not GRANT_NAME_RE.match(name)):
            raise AwsError("ValidationException",
                           "1 validation error detected: Value '%s' at "
                           "'name' failed to satisfy constraint" % name)
        if len(d.get("GrantTokens") or []) > 10:
            raise AwsError("ValidationException", "Too many grant tokens")
        if d.get("DryRun"):
            ctx.authorize()
            raise DryRunOK("kms")
        ctx.authorize()
        spec = {"GranteePrincipal": gp, "Operations": sorted(ops),
                "RetiringPrincipal": d.get("RetiringPrincipal"),
                "Constraints": d.get("Constraints")}
        if name is not None:
            for g in k["grants"]:
                if g.get("Name") == name and g["_spec"] == spec:
                    return {"GrantToken": self._token(g), "GrantId":
                            g["GrantId"]}
        gid = self.app.rand_hex(64)
        g = {"KeyId": k["arn"], "GrantId": gid, "Name": name or "",
             "CreationDate": ctx.now, "GranteePrincipal": gp,
             "IssuingAccount": "arn:%s:iam::%s:root" % (
                 self.app.world.partition, ctx.account),
             "Operations": list(ops), "_spec": spec}
        if d.get("RetiringPrincipal"):
            g["RetiringPrincipal"] = d["RetiringPrincipal"]
        if d.get("Constraints"):
            g["Constraints"] = d["Constraints"]
        k["grants"].append(g)
        return {"GrantToken": self._token(g), "GrantId": gid}

    def _token(self, g):
        return "AQpAM2R" + self.app.rand_str(
            96, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    @staticmethod
    def _grant_doc(g):
        return {k: v for k, v in g.items() if not k.startswith("_")}

    def list_grants(self, ctx, d):
        k = self._key_for(ctx, d["KeyId"], "ListGrants")
        ctx.authorize()
        gs = k["grants"]
        if d.get("GrantId"):
            gs = [g for g in gs if g["GrantId"] == d["GrantId"]]
        if d.get("GranteePrincipal"):
            gs = [g for g in gs
                  if g["GranteePrincipal"] == d["GranteePrincipal"]]
        limit = d.get("Limit") or 50
        if not (1 <= limit <= 100):
            raise AwsError("ValidationException",
                           "1 validation error detected: Value '%s' at "
                           "'limit' failed to satisfy constraint: Member "
                           "must have value between 1 and 100" % limit)
        d = dict(d, Limit=limit)
        return self._page(d, [self._grant_doc(g) for g in gs], "Grants")

    def _find_grant(self, k, gid):
        for g in k["grants"]:
            if g["GrantId"] == gid:
                return g
        raise AwsError("NotFoundException", "Grant ID %s not found" % gid)

    def retire_grant(self, ctx, d):
        if d.get("GrantToken") and not d.get("GrantId"):
            raise AwsError("InvalidGrantTokenException",
                           "Retiring a grant by token alone is not "
                           "supported here; pass KeyId and GrantId")
        if not d.get("KeyId") or not d.get("GrantId"):
            raise AwsError("ValidationException",
                           "KeyId and GrantId are required together")
        k = self.resolve(ctx.account, ctx.region, d["KeyId"])
        if k is None:
            raise AwsError("NotFoundException", "Key '%s' does not exist"
                           % d["KeyId"])
        g = self._find_grant(k, d["GrantId"])
        acct = ctx.account
        ok = (k["account"] == acct or
              self._principal_account(g.get("RetiringPrincipal") or "") ==
              acct or (self._principal_account(g["GranteePrincipal"]) ==
                       acct and "RetireGrant" in g["Operations"]))
        if not ok:
            raise AwsError("AccessDeniedException",
                           "User: %s is not authorized to perform: "
                           "kms:RetireGrant" % ctx.principal.arn)
        if d.get("DryRun"):
            ctx.authorize()
            raise DryRunOK("kms")
        ctx.authorize()
        k["grants"].remove(g)
        return None

    def revoke_grant(self, ctx, d):
        k = self._key_for(ctx, d["KeyId"], "RevokeGrant")
        g = self._find_grant(k, d["GrantId"])
        if d.get("DryRun"):
            ctx.authorize()
            raise DryRunOK("kms")
        ctx.authorize()
        k["grants"].remove(g)
        return None

    # ---- inspection --------------------------------------------------------
    def state(self, account, region):
        out = []
        for k in self.keys.values():
            if k["account"] != account or k["region"] != region:
                continue
            aliases = [a for a, arn in self.aliases.get((account, region),
                                                        {}).items()
                       if arn == k["arn"]]
            out.append({"arn": k["arn"], "manager": k["manager"],
                        "state": k["state"], "aliases": aliases,
                        "grants": [{"id": g["GrantId"], "name": g["Name"],
                                    "grantee": g["GranteePrincipal"],
                                    "operations": g["Operations"]}
                                   for g in k["grants"]]})
        return {"keys": out} if out else {}
