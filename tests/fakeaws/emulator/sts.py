"""STS: AssumeRole, AssumeRoleWithWebIdentity, GetCallerIdentity,
GetSessionToken, plus the store of temporary credentials used by the
request authenticator."""
import base64
import hashlib
import hmac
import json
import re

from .errors import AwsError

ROLE_ARN_RE = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):"
                         r"role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$")
SESSION_RE = re.compile(r"^[\w+=,.@-]*$")
EXTID_RE = re.compile(r"^[\w+=,.@:/-]*$")
TAG_RE = re.compile(r"^[\w\s.:/=+\-@]*$", re.UNICODE)


def _stable_id(prefix, *parts):
    h = hashlib.sha256("/".join(parts).encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return prefix + "".join(alphabet[b % 32] for b in h[:17])


def b64url_decode(s):
    s += "=" * (-len(s) % 4)
    return base64.urlsafe_b64decode(s.encode())


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def make_jwt(secret, claims):
    header = {"alg": "HS256", "typ": "JWT", "kid": "fakeaws"}
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    p = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), ("%s.%s" % (h, p)).encode(),
                   hashlib.sha256).digest()
    return "%s.%s.%s" % (h, p, b64url(sig))


def validation(field, value, constraint):
    return AwsError("ValidationError",
                    "1 validation error detected: Value '%s' at '%s' failed "
                    "to satisfy constraint: %s" % (value, field, constraint))


class STS(object):
    def __init__(self, app):
        self.app = app
        self.temp = {}      # access key id -> record
        self.handlers = {
            "AssumeRole": self.assume_role,
            "AssumeRoleWithWebIdentity": self.assume_role_web_identity,
            "GetCallerIdentity": self.get_caller_identity,
            "GetSessionToken": self.get_session_token,
        }

    # ---- key lookup used by the authenticator ----------------------
    def lookup_key(self, access_key, token):
        """Return (principal, secret, error); error is (kind, message)."""
        from .app import Principal
        w = self.app.world
        ent = w.by_key.get(access_key)
        if ent is not None:
            acct, secret = ent
            if acct.get("status", "ACTIVE") != "ACTIVE":
                return None, None, ("unknown", "")
            user = acct.get("user", "amishare")
            p = Principal(acct["id"], "arn:%s:iam::%s:user/%s" % (
                w.partition, acct["id"], user),
                _stable_id("AIDA", acct["id"], user), "user",
                access_key=access_key)
            return p, secret, None
        rec = self.temp.get(access_key)
        if rec is None:
            return None, None, ("unknown", "")
        if token is None or token != rec["token"]:
            return None, None, ("unknown", "")
        p = Principal(rec["account"], rec["arn"], rec["user_id"],
                      rec["kind"], role=rec.get("role"),
                      session=rec.get("session"), access_key=access_key,
                      temp=rec)
        p.source_identity = rec.get("source_identity")
        p.tags = rec.get("tags")
        p.chained = rec.get("chained", False)
        return p, rec["secret"], None

    def issue(self, account, kind, arn, user_id, duration, role=None,
              session=None, lifetime=None, extra=None):
        app = self.app
        now = app.now()
        life = duration
        caps = [app.world.settings.get("credential_lifetime_seconds"),
                lifetime]
        for c in caps:
            if c:
                life = min(life, float(c))
        akid = "ASIA" + app.rand_str(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "234567")
        secret = app.rand_str(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
                                  "klmnopqrstuvwxyz0123456789+/")
        raw = ("fakeaws|%s|%s|%s|" % (account, arn, akid)).encode() + \
            app.rng.getrandbits(1024).to_bytes(128, "big")
        token = "IQoJb3JpZ2luX2VjE" + base64.b64encode(raw).decode()
        rec = {"access_key": akid, "secret": secret, "token": token,
               "account": account, "arn": arn, "user_id": user_id,
               "kind": kind, "role": role, "session": session,
               "issued": now, "expires": now + life}
        if extra:
            rec.update(extra)
        self.temp[akid] = rec
        return rec

    @staticmethod
    def creds_doc(rec):
        return {"AccessKeyId": rec["access_key"],
                "SecretAccessKey": rec["secret"],
                "SessionToken": rec["token"],
                "Expiration": int(rec["expires"])}

    def role_user_id(self, role):
        return _stable_id("AROA", role["account"], role["name"])

    def assumed_arn(self, role, session):
        return "arn:%s:sts::%s:assumed-role/%s/%s" % (
            self.app.world.partition, role["account"], role["name"], session)

    def role_arn(self, role):
        return "arn:%s:iam::%s:role/%s" % (self.app.world.partition,
                                           role["account"], role["name"])

    # ---- validation helpers -----------------------------------------
    def _common(self, d):
        name = d.get("RoleSessionName", "")
        if not (2 <= len(name) <= 64) or not SESSION_RE.match(name):
            raise validation("roleSessionName", name,
                             "Member must have length between 2 and 64 and "
                             "satisfy regular expression pattern: "
                             "[\\w+=,.@-]*")
        arn = d.get("RoleArn", "")
        if not (20 <= len(arn) <= 2048):
            raise validation("roleArn", arn, "Member must have length "
                             "greater than or equal to 20")
        dur = d.get("DurationSeconds")
        if dur is not None and not (900 <= dur <= 43200):
            raise validation("durationSeconds", dur,
                             "Member must have value between 900 and 43200"
                             if dur >= 900 else
                             "Member must have value greater than or equal "
                             "to 900")
        pol = d.get("Policy")
        if pol is not None:
            if len(pol) > 2048:
                raise AwsError("PackedPolicyTooLarge",
                               "Packed size of consumed policies exceeds "
                               "100% of limit.")
            try:
                json.loads(pol)
            except ValueError:
                raise AwsError("MalformedPolicyDocument",
                               "The policy is not in the valid JSON format.")
        if len(d.get("PolicyArns") or []) > 10:
            raise validation("policyArns", "...", "Member must have length "
                             "less than or equal to 10")
        m = ROLE_ARN_RE.match(arn)
        return m, name, dur if dur is not None else 3600

    def _check_tags(self, d):
        tags = d.get("Tags") or []
        if len(tags) > 50:
            raise validation("tags", "...", "Member must have length less "
                             "than or equal to 50")
        seen = set()
        for i, t in enumerate(tags, 1):
            k = t.get("Key", "")
            v = t.get("Value", "")
            if not (1 <= len(k) <= 128) or not TAG_RE.match(k):
                raise validation("tags.%d.member.key" % i, k,
                                 "Member must have length between 1 and 128")
            if len(v) > 256 or not TAG_RE.match(v):
                raise validation("tags.%d.member.value" % i, v,
                                 "Member must have length less than or "
                                 "equal to 256")
            if k.lower() in seen:
                raise AwsError("InvalidParameterValue",
                               "Duplicate tag keys found. Please note that "
                               "Tag keys are case insensitive.")
            seen.add(k.lower())
        for k in d.get("TransitiveTagKeys") or []:
            if k.lower() not in seen:
                raise AwsError("InvalidParameterValue",
                               "The specified transitive tag key must be "
                               "included in the requested tags.")
        return {t["Key"]: t.get("Value", "") for t in tags}

    # ---- operations --------------------------------------------------
    def assume_role(self, ctx, d):
        w = self.app.world
        m, session, dur = self._common(d)
        tags = self._check_tags(d)
        ext = d.get("ExternalId")
        if ext is not None and (not (2 <= len(ext) <= 1224) or
                                not EXTID_RE.match(ext)):
            raise validation("externalId", ext, "Member must have length "
                             "between 2 and 1224 and satisfy regular "
                             "expression pattern: [\\w+=,.@:/-]*")
        src = d.get("SourceIdentity")
        if src is not None:
            if not (2 <= len(src) <= 64) or not SESSION_RE.match(src):
                raise validation("sourceIdentity", src, "Member must have "
                                 "length between 2 and 64")
            if src.lower().startswith("aws:"):
                raise AwsError("ValidationError", "SourceIdentity must not "
                               "begin with 'aws:'")
        caller = ctx.principal
        if caller.source_identity and src and src != caller.source_identity:
            raise AwsError("AccessDenied", "Source identity cannot be "
                           "changed once set", 403)
        denied = AwsError("AccessDenied",
                          "User: %s is not authorized to perform: "
                          "sts:AssumeRole on resource: %s"
                          % (caller.arn, d.get("RoleArn")), 403)
        if m is None:
            raise AwsError("ValidationError",
                           "%s is invalid" % d.get("RoleArn"))
        if m.group(1) != w.partition:
            raise denied
        acct, rname = m.group(2), m.group(3)
        role = w.roles.get((acct, rname))
        if role is None:
            raise denied
        trusted = role.get("trusted_accounts") or []
        if caller.account not in trusted and "*" not in trusted:
            raise denied
        want = role.get("external_id")
        if want is not None and ext != want:
            raise denied
        target = w.accounts.get(acct, {})
        if target.get("status", "ACTIVE") != "ACTIVE":
            raise denied
        chained = caller.kind == "assumed-role"
        if chained and dur > 3600:
            raise AwsError("ValidationError",
                           "The requested DurationSeconds exceeds the 1 hour "
                           "session limit for roles assumed by role "
                           "chaining.")
        if dur > role.get("max_session_duration", 3600):
            raise AwsError("ValidationError",
                           "The requested DurationSeconds exceeds the "
                           "MaxSessionDuration set for this role.")
        ctx.authorize("AssumeRole")
        arn = self.assumed_arn(role, session)
        uid = "%s:%s" % (self.role_user_id(role), session)
        rec = self.issue(acct, "assumed-role", arn, uid, dur, role=rname,
                         session=session,
                         lifetime=role.get("credential_lifetime_seconds"),
                         extra={"source_identity":
                                src or caller.source_identity,
                                "tags": tags, "chained": chained,
                                "external_id": ext})
        out = {"Credentials": self.creds_doc(rec),
               "AssumedRoleUser": {"AssumedRoleId": uid, "Arn": arn},
               "PackedPolicySize": (len(tags) * 2 +
                                    len(d.get("Policy") or "") // 40)}
        if rec.get("source_identity"):
            out["SourceIdentity"] = rec["source_identity"]
        return out

    def parse_web_token(self, token):
        w = self.app.world
        if not (4 <= len(token) <= 20000):
            raise validation("webIdentityToken", "***", "Member must have "
                             "length between 4 and 20000")
        bad = AwsError("InvalidIdentityToken",
                       "The ID Token provided is not a valid JWT. (You may "
                       "see this error if you sent an Access Token)")
        parts = token.split(".")
        if len(parts) != 3:
            raise bad
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
        except (ValueError, TypeError):
            raise bad
        if not isinstance(claims, dict) or not isinstance(header, dict):
            raise bad
        iss = str(claims.get("iss", ""))
        prov = w.oidc.get(iss.replace("https://", ""))
        if prov is None:
            raise AwsError("InvalidIdentityToken",
                           "No OpenIDConnect provider found in your account "
                           "for %s" % iss)
        want = hmac.new(prov["hs256_secret"].encode(),
                        ("%s.%s" % (parts[0], parts[1])).encode(),
                        hashlib.sha256).digest()
        if not hmac.compare_digest(want, sig):
            raise AwsError("InvalidIdentityToken",
                           "Couldn't verify the signature of the token")
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if prov.get("audiences") and not set(auds) & \
                set(prov["audiences"]):
            raise AwsError("InvalidIdentityToken",
                           "Incorrect token audience")
        exp = claims.get("exp")
        if not isinstance(exp, int):
            raise AwsError("InvalidIdentityToken",
                           "Token contains non-integer timestamps")
        if exp <= self.app.now():
            raise AwsError("ExpiredTokenException",
                           "Token expired: current date/time %d must be "
                           "before the expiration date/time %d"
                           % (int(self.app.now()), exp))
        return claims

    def assume_role_web_identity(self, ctx, d):
        w = self.app.world
        m, session, dur = self._common(d)
        claims = self.parse_web_token(d.get("WebIdentityToken", ""))
        denied = AwsError("AccessDenied",
                          "Not authorized to perform "
                          "sts:AssumeRoleWithWebIdentity", 403)
        if m is None:
            raise denied
        acct, rname = m.group(2), m.group(3)
        role = w.roles.get((acct, rname))
        if role is None or not w.role_web_identity_ok(role, claims):
            raise denied
        if dur > role.get("max_session_duration", 3600):
            raise AwsError("ValidationError",
                           "The requested DurationSeconds exceeds the "
                           "MaxSessionDuration set for this role.")
        ctx.authorized = True
        arn = self.assumed_arn(role, session)
        uid = "%s:%s" % (self.role_user_id(role), session)
        rec = self.issue(acct, "assumed-role", arn, uid, dur, role=rname,
                         session=session,
                         lifetime=role.get("credential_lifetime_seconds"),
                         extra={"web_identity_sub": claims.get("sub")})
        aud = claims.get("aud")
        return {"Credentials": self.creds_doc(rec),
                "SubjectFromWebIdentityToken": claims.get("sub"),
                "AssumedRoleUser": {"AssumedRoleId": uid, "Arn": arn},
                "PackedPolicySize": 0,
                "Provider": claims.get("iss", "").replace("https://", ""),
                "Audience": aud[0] if isinstance(aud, list) else aud}

    def get_caller_identity(self, ctx, d):
        ctx.authorized = True   # works even under an explicit deny
        p = ctx.principal
        return {"UserId": p.user_id, "Account": p.account, "Arn": p.arn}

    def get_session_token(self, ctx, d):
        p = ctx.principal
        if p.kind != "user":
            raise AwsError("AccessDenied", "Cannot call GetSessionToken "
                           "with session credentials", 403)
        dur = d.get("DurationSeconds", 43200)
        if not (900 <= dur <= 129600):
            raise validation("durationSeconds", dur, "Member must have "
                             "value between 900 and 129600")
        ctx.authorize()
        rec = self.issue(p.account, "user", p.arn, p.user_id, dur)
        return {"Credentials": self.creds_doc(rec)}
