"""Credential endpoints for SDK credential-chain tests: IMDSv2, the
container credential endpoint and a GitHub-Actions-like OIDC token
endpoint. They issue temporary credentials for roles of the world."""
import json
from urllib.parse import parse_qs

from .httpd import Response
from .model import iso8601
from .sts import make_jwt

IMDS_MAX_TTL = 21600


def _text(status, text, ctype="text/plain"):
    return Response(status, text.encode(), [("Content-Type", ctype)])


class CredentialEndpoints(object):
    def __init__(self, app):
        self.app = app
        self.imds_tokens = {}     # token -> expiry
        self.cached = {}          # (kind) -> credential record
        self.counts = {"imds_token": 0, "imds_credentials": 0,
                       "container": 0, "actions_oidc": 0}

    def handle(self, req):
        p = req.path
        if p.startswith("/latest/"):
            resp = self.imds(req)
        elif p.startswith("/_container/"):
            resp = self.container(req)
        else:
            resp = self.actions(req)
        self.app._record({"service": "credentials",
                          "action": req.method + " " + p.split("/")[1],
                          "account": None, "region": None,
                          "principal": None}, resp, 0.0)
        return resp

    def _role_creds(self, kind, spec):
        app = self.app
        rec = self.cached.get(kind)
        now = app.now()
        if rec is not None:
            life = rec["expires"] - rec["issued"]
            if rec["expires"] - now > min(300, life / 2):
                return rec
        role = app.world.roles.get((spec["account"], spec["role"]))
        if role is None:
            return None
        sts = app.sts
        session = "i-0fakeaws0000000" if kind == "imds" else \
            "fakeaws-container"
        rec = sts.issue(role["account"], "assumed-role",
                        sts.assumed_arn(role, session),
                        "%s:%s" % (sts.role_user_id(role), session),
                        int(spec.get("duration", 6 * 3600)),
                        role=role["name"], session=session,
                        lifetime=role.get("credential_lifetime_seconds"))
        self.cached[kind] = rec
        return rec

    # ---- IMDSv2 --------------------------------------------------------
    def imds(self, req):
        app = self.app
        w = app.world
        spec = w.instance_profile
        if req.hmap.get("x-forwarded-for"):
            return _text(403, "Forbidden")
        if req.path == "/latest/api/token":
            if req.method != "PUT":
                return _text(405, "Method Not Allowed")
            ttl = req.hmap.get("x-aws-ec2-metadata-token-ttl-seconds")
            try:
                ttl = int(ttl)
            except (TypeError, ValueError):
                return _text(400, "Bad Request")
            if not (1 <= ttl <= IMDS_MAX_TTL):
                return _text(400, "Bad Request")
            tok = "AQAEA" + app.rand_str(48, "ABCDEFGHIJKLMNOPQRSTUVWXYZabc"
                                             "defghijklmnopqrstuvwxyz0123456"
                                             "789-_")
            self.imds_tokens[tok] = app.now() + ttl
            self.counts["imds_token"] += 1
            return Response(200, tok.encode(), [
                ("Content-Type", "text/plain"),
                ("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", str(ttl))])
        if req.method != "GET":
            return _text(405, "Method Not Allowed")
        tok = req.hmap.get("x-aws-ec2-metadata-token")
        if tok is None:
            if not (spec or {}).get("allow_imds_v1", False):
                return _text(401, "Unauthorized")
        else:
            exp = self.imds_tokens.get(tok)
            if exp is None or exp <= app.now():
                return _text(401, "Unauthorized")
        if spec is None:
            return _text(404, "Not Found")
        base = "/latest/meta-data/iam/security-credentials/"
        p = req.path
        if p in (base, base.rstrip("/")):
            return _text(200, spec["role"])
        if p.startswith(base):
            name = p[len(base):].strip("/")
            if name != spec["role"]:
                return _text(404, "Not Found")
            rec = self._role_creds("imds", spec)
            if rec is None:
                return _text(404, "Not Found")
            self.counts["imds_credentials"] += 1
            doc = {"Code": "Success",
                   "LastUpdated": iso8601(rec["issued"], False),
                   "Type": "AWS-HMAC", "AccessKeyId": rec["access_key"],
                   "SecretAccessKey": rec["secret"], "Token": rec["token"],
                   "Expiration": iso8601(rec["expires"], False)}
            return _text(200, json.dumps(doc, indent=2), "text/plain")
        region = spec.get("region", "us-east-1")
        if p == "/latest/meta-data/placement/region":
            return _text(200, region)
        if p == "/latest/meta-data/placement/availability-zone":
            return _text(200, region + "a")
        if p == "/latest/dynamic/instance-identity/document":
            doc = {"accountId": spec["account"], "region": region,
                   "availabilityZone": region + "a",
                   "instanceId": "i-0fakeaws0000000",
                   "instanceType": "t3.micro", "architecture": "x86_64"}
            return _text(200, json.dumps(doc), "application/json")
        if p == "/latest/meta-data/instance-id":
            return _text(200, "i-0fakeaws0000000")
        return _text(404, "Not Found")

    # ---- container credentials ----------------------------------------
    def container(self, req):
        spec = self.app.world.container
        if spec is None:
            return _text(404, "Not Found")
        want = spec.get("authorization")
        if want is not None and req.hmap.get("authorization") != want:
            return Response(401, json.dumps(
                {"code": "InvalidToken",
                 "message": "Authorization token is missing or invalid"}
            ).encode(), [("Content-Type", "application/json")])
        rec = self._role_creds("container", spec)
        if rec is None:
            return _text(404, "Not Found")
        self.counts["container"] += 1
        doc = {"AccessKeyId": rec["access_key"],
               "SecretAccessKey": rec["secret"], "Token": rec["token"],
               "Expiration": iso8601(rec["expires"], False),
               "RoleArn": "arn:%s:iam::%s:role/%s" % (
                   self.app.world.partition, spec["account"], spec["role"]),
               "AccountId": spec["account"]}
        return Response(200, json.dumps(doc).encode(),
                        [("Content-Type", "application/json")])

    # ---- GitHub Actions style OIDC token request ------------------------
    def actions(self, req):
        app = self.app
        spec = app.world.actions_oidc
        if spec is None or not req.path.startswith("/_actions/token"):
            return _text(404, "Not Found")
        auth = req.hmap.get("authorization", "")
        if auth != "Bearer " + spec["request_token"]:
            return _text(401, "Unauthorized")
        q = {k: v[-1] for k, v in parse_qs(req.query).items()}
        prov = next(iter(app.world.oidc.values()), None)
        if prov is None:
            return _text(404, "Not Found")
        now = int(app.now())
        claims = {"iss": prov["url"],
                  "aud": q.get("audience", "https://github.com/amishare"),
                  "sub": spec.get("subject", "repo:amishare/amishare"),
                  "iat": now, "nbf": now,
                  "exp": now + int(spec.get("ttl", 3600))}
        self.counts["actions_oidc"] += 1
        return Response(200, json.dumps(
            {"count": 1, "value": make_jwt(prov["hs256_secret"], claims)}
        ).encode(), [("Content-Type", "application/json")])
