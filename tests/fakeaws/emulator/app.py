"""Request routing, authentication and error rendering.

Every AWS request goes through: protocol detection -> SigV4 verification
-> fault rules and throttling -> parameter parsing against the botocore
model -> the service handler -> rendering. Inspection endpoints under
/_fakeaws/ and the credential endpoints (IMDS, container) never reach
the SigV4 path.
"""
import asyncio
import collections
import json
import random
import re
import time
import uuid
from urllib.parse import unquote

from . import sigv4
from .errors import AwsError, DryRunOK

REGION_PATTERNS = {
    "aws": re.compile(r"^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$"),
    "aws-cn": re.compile(r"^cn-\w+-\d+$"),
    "aws-us-gov": re.compile(r"^us-gov-\w+-\d+$"),
}
SKEW_SECONDS = 15 * 60
QUERY_VERSIONS = {"2016-11-15": "ec2", "2011-06-15": "sts"}
UNSIGNED_ACTIONS = {("sts", "AssumeRoleWithWebIdentity"),
                    ("sts", "AssumeRoleWithSAML")}
LOG_MAX = 20000


def parse_form(raw):
    """parse_qsl(raw, keep_blank_values=True) for the hot path: the same
    pairs, but the unquoting is skipped for the (many) fields that need
    none."""
    out = []
    for part in raw.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        if "%" in part or "+" in part:
            k = unquote(k.replace("+", " "))
            v = unquote(v.replace("+", " "))
        out.append((k, v))
    return out


def region_partition(region):
    if REGION_PATTERNS["aws-us-gov"].match(region):
        return "aws-us-gov"
    if REGION_PATTERNS["aws-cn"].match(region):
        return "aws-cn"
    if REGION_PATTERNS["aws"].match(region):
        return "aws"
    return None


class Principal(object):
    __slots__ = ("account", "arn", "user_id", "kind", "role", "session",
                 "access_key", "temp", "source_identity", "tags",
                 "chained")

    def __init__(self, account, arn, user_id, kind, role=None, session=None,
                 access_key=None, temp=None):
        self.account = account
        self.arn = arn
        self.user_id = user_id
        self.kind = kind          # "user" | "assumed-role" | "anonymous"
        self.role = role
        self.session = session
        self.access_key = access_key
        self.temp = temp
        self.source_identity = None
        self.tags = None
        self.chained = False


class Ctx(object):
    """Per-request context handed to service handlers."""

    def __init__(self, app, service, action, principal, region, req):
        self.app = app
        self.service = service
        self.action = action
        self.principal = principal
        self.account = principal.account if principal else None
        self.region = region
        self.req = req
        self.request_id = app.new_request_id()
        self.now = app.now()
        self.dry_run = False
        self.authorized = False
        self.extra_headers = []
        self.fault_empty_page = False
        self.note = None

    def authorize(self, action=None):
        """Check deny rules, then honour DryRun. Handlers call this after
        validating parameters and resources, before changing state."""
        self.authorized = True
        act = action or self.action
        p = self.principal
        role = p.role if p else None
        app = self.app
        if app.world.denied(self.account, act, self.region, role,
                            self.service) or \
                app.faults.denied(self.account, act, self.region, role,
                                  self.service):
            raise app.access_denied(self, act)
        if self.dry_run:
            raise DryRunOK(self.service)


class App(object):
    def __init__(self, world, models, faults, seed=0, clock_offset=0.0,
                 log_file=None):
        self.world = world
        self.models = models
        self.faults = faults
        self.seed = seed
        self.rng = random.Random(seed)
        self.clock_offset = clock_offset
        self.log = collections.deque(maxlen=LOG_MAX)
        self.log_file = log_file
        self.counts = {}
        self.seq = 0
        self.started = time.time()
        self.server_stats = None
        self.latency = 0.0
        from .sts import STS
        from .ec2 import EC2
        from .kms import KMS
        from .ssm import SSM
        from .orgs import Organizations
        from .admin import Admin
        from .creds import CredentialEndpoints
        self.sts = STS(self)
        self.kms = KMS(self)
        self.ec2 = EC2(self)
        self.ssm = SSM(self)
        self.orgs = Organizations(self)
        self.services = {"sts": self.sts, "ec2": self.ec2, "kms": self.kms,
                         "ssm": self.ssm, "organizations": self.orgs}
        self.admin = Admin(self)
        self.credep = CredentialEndpoints(self)

    # ---- helpers ------------------------------------------------------
    def now(self):
        return time.time() + self.clock_offset

    def new_request_id(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def rand_hex(self, n):
        return "%0*x" % (n, self.rng.getrandbits(4 * n))

    def rand_str(self, n, alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"):
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def access_denied(self, ctx, action):
        svc = ctx.service
        if svc == "ec2":
            return AwsError("UnauthorizedOperation",
                            "You are not authorized to perform this "
                            "operation. User: %s is not authorized to "
                            "perform: ec2:%s. Encoded authorization failure "
                            "message: %s" % (ctx.principal.arn, action,
                                             self.rand_str(64)), 403)
        if svc == "sts":
            return AwsError("AccessDenied",
                            "User: %s is not authorized to perform: sts:%s"
                            % (ctx.principal.arn, action), 403)
        return AwsError("AccessDeniedException",
                        "User: %s is not authorized to perform: %s:%s "
                        "because no identity-based policy allows the %s:%s "
                        "action" % (ctx.principal.arn, svc, action, svc,
                                    action), 400)

    # ---- entry point --------------------------------------------------
    async def handle(self, req):
        from .httpd import Response
        p = req.path
        if p.startswith("/_fakeaws/") or p.startswith("/latest/") or \
                p.startswith("/_container/") or p.startswith("/_actions/"):
            try:
                if p.startswith("/_fakeaws/"):
                    return await self.admin.handle(req)
                return self.credep.handle(req)
            except Exception as e:  # an emulator bug: answer, don't hang up
                import traceback
                traceback.print_exc()
                return Response(500, json.dumps(
                    {"error": "fakeaws internal error: %r" % e}).encode(),
                    [("Content-Type", "application/json")])
        # The fixed latency stands for AWS's time per call, counted from
        # the request's arrival: this process's own work and its queue
        # (one Python thread serves every account) fall within it, not on
        # top of it, so a burst of requests answers together as AWS's
        # many servers would. It is slept after the work; the effects are
        # in place before the answer is sent, as with AWS. Yielding once
        # first lets every request that arrived in the same turn of the
        # loop take its arrival time before any of them is worked on.
        arrived = time.monotonic()
        if self.latency:
            await asyncio.sleep(0)
        extra = self.faults.extra_latency()
        if extra:
            await asyncio.sleep(extra)
        t0 = time.monotonic()
        info = {"service": None, "action": None, "account": None,
                "region": None, "principal": None}
        try:
            resp = self._api(req, info)
        except Exception as e:  # an emulator bug: report it as a 500
            import traceback
            traceback.print_exc()
            err = AwsError("InternalError", "fakeaws internal error: %r" % e,
                           500, sender=False)
            resp = self.render_error(info.get("proto", "ec2"),
                                     info.get("service") or "ec2", err,
                                     self.new_request_id())
            info["code"] = "InternalError"
        if not isinstance(resp, Response):
            resp = Response(*resp)
        self._record(info, resp, time.monotonic() - t0)
        if self.latency:
            left = arrived + extra + self.latency - time.monotonic()
            if left > 0:
                await asyncio.sleep(left)
        return resp

    def _record(self, info, resp, dt):
        self.seq += 1
        outcome = info.get("code") or str(resp.status)
        if resp.action:
            outcome = "fault:" + resp.action
        ent = {"seq": self.seq, "time": round(self.now(), 3),
               "service": info["service"], "action": info["action"],
               "account": info["account"], "region": info["region"],
               "principal": info["principal"], "status": resp.status,
               "code": info.get("code"), "outcome": outcome,
               "ms": round(dt * 1000, 3)}
        if info.get("unknown"):
            ent["unknown_members"] = info["unknown"]
        if info.get("fault"):
            ent["fault"] = info["fault"]
        self.log.append(ent)
        k = (info["service"], info["action"], info["account"],
             info["region"], outcome)
        self.counts[k] = self.counts.get(k, 0) + 1
        if self.log_file:
            self.log_file.write(json.dumps(ent) + "\n")
            self.log_file.flush()

    def reset_counters(self):
        self.log.clear()
        self.counts.clear()
        if self.server_stats:
            self.server_stats.reset()
        for r in self.faults.rules:
            r.matched = r.applied = 0

    # ---- protocol detection and auth -------------------------------
    def _api(self, req, info):
        hm = req.hmap
        target = hm.get("x-amz-target")
        if target:
            proto = "json"
            prefix, _, action = target.rpartition(".")
            sm = self.models.by_target.get(prefix)
            service = sm.name if sm else None
            params = None
        else:
            proto = "query"
            ctype = hm.get("content-type", "")
            if req.method == "POST" and \
                    "x-www-form-urlencoded" in ctype.lower():
                raw = req.body.decode("utf-8", "replace")
            elif req.method in ("GET", "POST") and req.query and \
                    "Action=" in req.query:
                raw = req.query
            else:
                raw = req.body.decode("utf-8", "replace") \
                    if req.method == "POST" else req.query
            params = parse_form(raw)
            action = None
            version = None
            rest = []
            for k, v in params:
                if k == "Action":
                    action = v
                elif k == "Version":
                    version = v
                elif k.startswith("X-Amz-") and req.method == "GET":
                    continue
                else:
                    rest.append((k, v))
            params = rest
            service = QUERY_VERSIONS.get(version)
        info["action"] = action
        info["proto"] = proto

        # --- authentication ---
        try:
            pa = sigv4.parse_authorization(hm, req.query)
        except sigv4.SigError as e:
            svc = service or "ec2"
            info["service"] = svc
            return self._auth_error(proto, svc, "incomplete", e.message,
                                    info)
        if proto == "query":
            if pa is not None and pa.service in self.services:
                service = pa.service      # route by credential scope
            info["version"] = version
        if service is None:
            if proto == "json":
                info["service"] = "unknown"
                return self._plain_error(
                    400, "UnknownOperationException",
                    "Unknown target prefix %r" % target, info)
            service = "ec2"
        if proto == "query" and self.models[service].protocol == "json":
            info["service"] = service
            return self._plain_error(400, "UnknownOperationException",
                                     "Missing X-Amz-Target header", info)
        info["service"] = service
        sm = self.models[service]

        if pa is None:
            if (service, action) in UNSIGNED_ACTIONS:
                return self._dispatch(proto, service, sm, action, params,
                                      None, "us-east-1", req, info)
            return self._auth_error(proto, service, "missing",
                                    "Request is missing Authentication "
                                    "Token", info)
        info["region"] = pa.region
        if pa.service != service:
            return self._auth_error(
                proto, service, "scope",
                "Credential should be scoped to correct service: '%s'. "
                % service, info)
        part = region_partition(pa.region)
        if part is None:
            return self._auth_error(
                proto, service, "scope",
                "Credential should be scoped to a valid region. ", info)
        principal, secret, err = self.sts.lookup_key(pa.access_key,
                                                     pa.token)
        if err is not None:
            return self._auth_error(proto, service, err[0], err[1], info)
        info["account"] = principal.account
        info["principal"] = principal.arn
        if part != self.world.partition:
            return self._auth_error(proto, service, "unknown",
                                    "The security token included in the "
                                    "request is invalid.", info)
        # clock skew / presigned expiry
        ts = sigv4.amz_date_epoch(pa.amz_date)
        now = self.now()
        if ts is None:
            return self._auth_error(proto, service, "incomplete",
                                    "Invalid X-Amz-Date '%s'" % pa.amz_date,
                                    info)
        if pa.presigned and pa.expires is not None:
            try:
                exp = int(pa.expires)
            except ValueError:
                exp = -1
            if now > ts + exp:
                return self._auth_error(proto, service, "skew", "Request "
                                        "has expired", info, pa=pa)
        if abs(now - ts) > SKEW_SECONDS:
            return self._auth_error(proto, service, "skew", "", info, pa=pa)
        try:
            sigv4.verify(pa, secret, req.method, req.path, req.query,
                         req.headers, req.body)
        except sigv4.SigError as e:
            return self._auth_error(proto, service, e.kind, e.message, info)
        if principal.temp is not None and \
                principal.temp["expires"] <= now:
            return self._auth_error(proto, service, "expired",
                                    "The security token included in the "
                                    "request is expired", info)
        if principal.temp is not None and \
                principal.temp.get("revoked"):
            return self._auth_error(proto, service, "unknown",
                                    "The security token included in the "
                                    "request is invalid.", info)
        return self._dispatch(proto, service, sm, action, params, principal,
                              pa.region, req, info)

    def _auth_error(self, proto, service, kind, message, info, pa=None):
        rid = self.new_request_id()
        if kind == "skew":
            now = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self.now()))
            if service == "ec2":
                code, status = "RequestExpired", 400
                message = ("Request has expired. Timestamp date is %s"
                           % (pa.amz_date if pa else "?"))
            else:
                early = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(
                    self.now() - SKEW_SECONDS))
                late = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(
                    self.now() + SKEW_SECONDS))
                ts = pa.amz_date if pa else "?"
                if pa and sigv4.amz_date_epoch(ts) and \
                        sigv4.amz_date_epoch(ts) > self.now():
                    message = ("Signature not yet current: %s is still later "
                               "than %s (%s + 15 min.)" % (ts, late, now))
                else:
                    message = ("Signature expired: %s is now earlier than %s "
                               "(%s - 15 min.)" % (ts, early, now))
                if service == "sts":
                    code, status = "SignatureDoesNotMatch", 403
                else:
                    code, status = "InvalidSignatureException", 400
        else:
            table = AUTH_ERRORS[kind]
            code, status = table.get(service, table["json"])
            if kind == "unknown" and service == "ec2":
                message = ("AWS was not able to validate the provided "
                           "access credentials")
            elif kind == "unknown" and not message:
                message = ("The security token included in the request is "
                           "invalid.")
        info["code"] = code
        return self.render_error(proto, service,
                                 AwsError(code, message, status), rid)

    def _plain_error(self, status, code, message, info):
        info["code"] = code
        body = json.dumps({"__type": code, "message": message}).encode()
        return (status, body, [("Content-Type",
                                "application/x-amz-json-1.1"),
                               ("x-amzn-RequestId",
                                self.new_request_id())])

    # ---- dispatch -----------------------------------------------------
    def _dispatch(self, proto, service, sm, action, params, principal,
                  region, req, info):
        from .httpd import Response
        svc = self.services[service]
        if principal is None:
            principal = Principal(None, "anonymous", "anonymous",
                                  "anonymous")
        ctx = Ctx(self, service, action, principal, region, req)
        rid = ctx.request_id
        try:
            if proto == "json":
                if not action or sm.op(action) is None:
                    raise AwsError("UnknownOperationException",
                                   "Unknown operation %s" % action, 400)
                try:
                    body = json.loads(req.body.decode("utf-8") or "{}") \
                        if req.body.strip() else {}
                except ValueError:
                    raise AwsError("SerializationException",
                                   "Start of structure or map found where "
                                   "not expected.", 400)
                unknown = sm.check_json(action, body, _json_error(service))
                if unknown:
                    info["unknown"] = unknown
                data = body
            else:
                if not action:
                    raise AwsError("MissingAction",
                                   "The request must contain the parameter "
                                   "Action", 400)
                if sm.op(action) is None:
                    raise AwsError("InvalidAction",
                                   "The action %s is not valid for this web "
                                   "service." % action, 400)
                version = info.get("version")
                if version is None:
                    raise AwsError("MissingParameter",
                                   "The request must contain the parameter "
                                   "Version", 400)
                if version != sm.api_version:
                    raise AwsError("NoSuchVersion",
                                   "The requested version (%s) of service "
                                   "%s does not exist" % (version, service),
                                   400)
                data = sm.parse_query(action, params, _query_error(service))
            ctx.dry_run = bool(data.get("DryRun"))
            # fault rules and throttling (after auth and validation)
            fr = self._faults(ctx, data, proto, info)
            if fr is not None:
                return fr
            if service == "ec2":
                svc.seed_region(region)
            handler = svc.handlers.get(action)
            if handler is None:
                raise AwsError(
                    "UnsupportedOperation" if service == "ec2"
                    else ("InvalidAction" if proto == "query"
                          else "UnsupportedOperationException"),
                    "The operation %s is not supported by this emulator."
                    % action, 400)
            out = handler(ctx, data)
            if not ctx.authorized:
                ctx.authorize()
            if out is None:
                out = {}
            if proto == "json":
                body = json.dumps(out, default=_json_default).encode()
                resp = Response(200, body, [
                    ("Content-Type", "application/x-amz-json-1.1"),
                    ("x-amzn-RequestId", rid)] + ctx.extra_headers)
            else:
                body = sm.render_xml(action, out, rid)
                resp = Response(200, body, [
                    ("Content-Type", "text/xml;charset=UTF-8"),
                    ("x-amzn-RequestId", rid)] + ctx.extra_headers)
            self._post_faults(resp, info)
            return resp
        except AwsError as e:
            info["code"] = e.code
            resp = self.render_error(proto, service, e, rid)
            self._post_faults(resp, info)
            return resp

    def _faults(self, ctx, data, proto, info):
        f = self.faults
        role = ctx.principal.role
        hits = f.pick(ctx.service, ctx.action, ctx.account, ctx.region, role)
        post = []
        for r in hits:
            k = r.kind
            d = r.d
            info.setdefault("fault", []).append(k)
            if k == "error":
                st = int(d.get("status", 500))
                code = d.get("code") or default_server_code(ctx.service, st)
                raise AwsError(code, d.get("message", "We encountered an "
                                                      "internal error. "
                                                      "Please try again."),
                               st, sender=st < 500)
            if k == "throttle":
                raise throttle_error(ctx.service)
            if k == "deny":
                raise self.access_denied(ctx, ctx.action)
            if k == "empty_page":
                ctx.fault_empty_page = True
            else:
                post.append(r)
        info["post_faults"] = post
        if not f.take_token(ctx.service, ctx.action, ctx.account,
                            ctx.region, data):
            raise throttle_error(ctx.service)
        return None

    def _post_faults(self, resp, info):
        for r in info.pop("post_faults", []) or []:
            k = r.kind
            d = r.d
            if k == "reset":
                resp.action = "reset"
            elif k == "truncate":
                resp.action = "truncate"
            elif k == "stall":
                resp.stall += float(d.get("ms", 1000)) / 1000.0
            elif k == "latency":
                resp.stall += float(d.get("ms", 100)) / 1000.0
            elif k == "close":
                resp.close = True
            elif k == "malformed":
                resp.status = int(d.get("status", 200))
                resp.body = d.get("body", "<?xml version=\"1.0\"?><Broken"
                                          "Response><unclosed>").encode()

    def render_error(self, proto, service, e, rid):
        from .httpd import Response
        if proto == "json":
            doc = {"__type": e.code, "message": e.message}
            doc.update(e.fields)
            return Response(e.status, json.dumps(doc).encode(), [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("x-amzn-RequestId", rid)])
        from .model import xml_escape
        if service == "ec2":
            body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response>'
                    '<Errors><Error><Code>%s</Code><Message>%s</Message>'
                    '</Error></Errors><RequestID>%s</RequestID></Response>'
                    % (xml_escape(e.code), xml_escape(e.message), rid))
        else:
            ns = self.models[service].xmlns
            body = ('<ErrorResponse xmlns="%s"><Error><Type>%s</Type>'
                    '<Code>%s</Code><Message>%s</Message></Error>'
                    '<RequestId>%s</RequestId></ErrorResponse>'
                    % (ns, "Sender" if e.sender else "Receiver",
                       xml_escape(e.code), xml_escape(e.message), rid))
        return Response(e.status, body.encode("utf-8"), [
            ("Content-Type", "text/xml;charset=UTF-8"),
            ("x-amzn-RequestId", rid)])


# kind -> {service: (code, status)}; "json" is the default for KMS, SSM
# and Organizations.
AUTH_ERRORS = {
    "missing": {"ec2": ("MissingAuthenticationToken", 401),
                "sts": ("MissingAuthenticationToken", 403),
                "json": ("MissingAuthenticationTokenException", 400)},
    "incomplete": {"ec2": ("IncompleteSignature", 400),
                   "sts": ("IncompleteSignature", 400),
                   "json": ("IncompleteSignatureException", 400)},
    "unknown": {"ec2": ("AuthFailure", 401),
                "sts": ("InvalidClientTokenId", 403),
                "json": ("UnrecognizedClientException", 400)},
    "mismatch": {"ec2": ("SignatureDoesNotMatch", 403),
                 "sts": ("SignatureDoesNotMatch", 403),
                 "json": ("InvalidSignatureException", 400)},
    "date": {"ec2": ("SignatureDoesNotMatch", 403),
             "sts": ("SignatureDoesNotMatch", 403),
             "json": ("InvalidSignatureException", 400)},
    "scope": {"ec2": ("SignatureDoesNotMatch", 403),
              "sts": ("SignatureDoesNotMatch", 403),
              "json": ("InvalidSignatureException", 400)},
    "expired": {"ec2": ("RequestExpired", 400),
                "sts": ("ExpiredToken", 403),
                "json": ("ExpiredTokenException", 400)},
}


def default_server_code(service, status):
    if status == 503:
        return {"ec2": "Unavailable", "sts": "ServiceUnavailable"}.get(
            service, "ServiceUnavailableException")
    if status >= 500:
        return {"ec2": "InternalError", "sts": "InternalFailure",
                "kms": "KMSInternalException",
                "ssm": "InternalServerError",
                "organizations": "ServiceException"}.get(service,
                                                         "InternalFailure")
    return "InvalidRequest"


def throttle_error(service):
    if service == "ec2":
        return AwsError("RequestLimitExceeded", "Request limit exceeded.",
                        503)
    if service == "sts":
        return AwsError("Throttling", "Rate exceeded", 400)
    if service == "organizations":
        return AwsError("TooManyRequestsException",
                        "AWS Organizations can't complete your request "
                        "because of too many requests. Try again later.",
                        400, fields={"Type": "ThrottlingException"})
    return AwsError("ThrottlingException", "Rate exceeded", 400)


def _query_error(service):
    def factory(kind, key, value=None):
        if service == "ec2":
            if kind == "unknown":
                return AwsError("UnknownParameter",
                                "The parameter %s is not recognized" % key)
            if kind == "missing":
                return AwsError("MissingParameter",
                                "The request must contain the parameter %s"
                                % key)
            return AwsError("InvalidParameterValue",
                            "Invalid value '%s' for %s" % (value, key))
        if kind == "unknown":
            return AwsError("UnknownParameter",
                            "The parameter %s is not recognized" % key)
        if kind == "missing":
            return AwsError("ValidationError",
                            "1 validation error detected: Value null at "
                            "'%s' failed to satisfy constraint: Member must "
                            "not be null" % (key[0].lower() + key[1:]))
        return AwsError("ValidationError",
                        "1 validation error detected: Value '%s' at '%s' "
                        "failed to satisfy constraint" % (value, key))
    return factory


def _json_error(service):
    def factory(kind, key, value=None):
        if kind == "missing":
            if service == "organizations":
                return AwsError("InvalidInputException",
                                "You provided a value that does not match "
                                "the required pattern.",
                                fields={"Reason": "INPUT_REQUIRED"})
            return AwsError("ValidationException",
                            "1 validation error detected: Value null at "
                            "'%s' failed to satisfy constraint: Member must "
                            "not be null" % (key[0].lower() + key[1:]))
        return AwsError("SerializationException",
                        "Unexpected value type for %s" % key)
    return factory


def _json_default(o):
    if isinstance(o, set):
        return sorted(o)
    raise TypeError(repr(o))
