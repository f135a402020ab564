"""Unsigned inspection and control endpoints under /_fakeaws/.

These never go through SigV4 routing; they exist so that tests can look
at the emulator from every account's point of view and steer faults.
"""
import json
import time
from urllib.parse import parse_qs

from .httpd import Response
from .model import parse_timestamp, iso8601
from .sts import make_jwt


def _json(status, doc):
    return Response(status, (json.dumps(doc, indent=1, sort_keys=True,
                                        default=str) + "\n").encode(),
                    [("Content-Type", "application/json")])


class Admin(object):
    def __init__(self, app):
        self.app = app

    async def handle(self, req):
        name = req.path[len("/_fakeaws/"):].strip("/")
        q = {k: v[-1] for k, v in parse_qs(req.query).items()}
        body = None
        if req.body:
            try:
                body = json.loads(req.body.decode())
            except ValueError:
                return _json(400, {"error": "body is not JSON"})
        fn = getattr(self, "ep_" + name.replace("-", "_"), None)
        if fn is None:
            return _json(404, {"error": "no such endpoint: %s" % name,
                               "endpoints": self.endpoints()})
        try:
            return fn(req.method, q, body)
        except (ValueError, KeyError, TypeError) as e:
            return _json(400, {"error": str(e)})

    def endpoints(self):
        return sorted(n[3:].replace("_", "-") for n in dir(self)
                      if n.startswith("ep_"))

    # ---- endpoints ----------------------------------------------------
    def ep_health(self, method, q, body):
        return _json(200, {"ok": True, "endpoints": self.endpoints()})

    def ep_state(self, method, q, body):
        app = self.app
        accts = [q["account"]] if q.get("account") else \
            sorted(app.world.accounts)
        if q.get("region"):
            regions = [q["region"]]
        else:
            regs = set(app.ec2.known_regions())
            regs |= {k["region"] for k in app.kms.keys.values()}
            regs |= {r for (_, r) in app.ssm.params}
            regions = sorted(regs)
        out = {"time": iso8601(app.now()), "accounts": {}}
        for a in accts:
            per = {}
            for r in regions:
                st = {"ec2": app.ec2.state(a, r), "kms": app.kms.state(a, r),
                      "ssm": app.ssm.state(a, r)}
                if any(st["ec2"].values()) or st["kms"] or st["ssm"]:
                    per[r] = st
            out["accounts"][a] = {"regions": per}
        out["temporary_credentials"] = len(app.sts.temp)
        return _json(200, out)

    def ep_log(self, method, q, body):
        since = int(q.get("since", 0))
        limit = int(q.get("limit", 1000))
        ents = [e for e in self.app.log if e["seq"] > since]
        for k in ("service", "action", "account", "region", "outcome"):
            if q.get(k):
                ents = [e for e in ents if str(e.get(k)) == q[k]]
        return _json(200, {"entries": ents[-limit:],
                           "last_seq": self.app.seq})

    def ep_stats(self, method, q, body):
        app = self.app
        counts = []
        agg = {"by_action": {}, "by_account": {}, "by_region": {},
               "by_outcome": {}, "by_service": {}}
        total = 0
        for (svc, act, acct, reg, outc), n in sorted(
                app.counts.items(), key=lambda kv: str(kv[0])):
            counts.append({"service": svc, "action": act, "account": acct,
                           "region": reg, "outcome": outc, "count": n})
            total += n
            for key, val in (("by_action", act), ("by_account", acct),
                             ("by_region", reg), ("by_outcome", outc),
                             ("by_service", svc)):
                agg[key][str(val)] = agg[key].get(str(val), 0) + n
        doc = {"requests": total, "counts": counts}
        doc.update(agg)
        doc.update(app.server_stats.to_json() if app.server_stats else {})
        doc["uptime_seconds"] = round(time.time() - app.started, 3)
        return _json(200, doc)

    def ep_reset_stats(self, method, q, body):
        self.app.reset_counters()
        return _json(200, {"ok": True})

    def ep_faults(self, method, q, body):
        f = self.app.faults
        if method in ("PUT", "POST"):
            f.configure(body or {})
        elif method == "DELETE":
            f.configure({})
        return _json(200, f.to_json())

    def ep_clock(self, method, q, body):
        app = self.app
        if method == "POST" and body:
            if "advance" in body:
                app.clock_offset += float(body["advance"])
            if "set" in body:
                ts = parse_timestamp(str(body["set"]))
                if ts is None:
                    raise ValueError("bad time %r" % body["set"])
                app.clock_offset = ts - time.time()
        now = app.now()
        return _json(200, {"now": iso8601(now, False), "epoch": now,
                           "offset_seconds": app.clock_offset})

    def ep_settings(self, method, q, body):
        s = self.app.world.settings
        if method in ("PUT", "POST") and body:
            for k, v in body.items():
                if k not in s:
                    raise KeyError("unknown setting %s" % k)
                s[k] = v
        return _json(200, s)

    def ep_world(self, method, q, body):
        return _json(200, self.app.world.raw)

    def ep_oidc_token(self, method, q, body):
        """Mint a web identity token signed by a world OIDC provider."""
        w = self.app.world
        args = dict(q)
        args.update(body or {})
        prov = None
        iss = args.get("iss")
        for p in w.oidc.values():
            if iss is None or p["url"] == iss:
                prov = p
                break
        if prov is None:
            raise ValueError("no such OIDC provider %r" % iss)
        now = int(self.app.now())
        claims = {"iss": prov["url"],
                  "aud": args.get("aud", (prov.get("audiences") or
                                          ["sts.amazonaws.com"])[0]),
                  "sub": args.get("sub", "repo:amishare/amishare:ref:"
                                         "refs/heads/main"),
                  "iat": now, "nbf": now,
                  "exp": now + int(args.get("ttl", 3600))}
        if "exp" in args:
            claims["exp"] = int(args["exp"])
        return _json(200, {"token": make_jwt(prov["hs256_secret"], claims),
                           "claims": claims})

    def ep_credentials(self, method, q, body):
        """Issue temporary credentials for a world role directly (for
        tests that need a session without going through STS)."""
        args = dict(q)
        args.update(body or {})
        w = self.app.world
        role = w.roles[(args["account"], args["role"])]
        sts = self.app.sts
        session = args.get("session", "fakeaws-admin")
        rec = sts.issue(role["account"], "assumed-role",
                        sts.assumed_arn(role, session),
                        "%s:%s" % (sts.role_user_id(role), session),
                        int(args.get("duration", 3600)), role=role["name"],
                        session=session,
                        lifetime=role.get("credential_lifetime_seconds"))
        return _json(200, {"AccessKeyId": rec["access_key"],
                           "SecretAccessKey": rec["secret"],
                           "SessionToken": rec["token"],
                           "Expiration": iso8601(rec["expires"], False)})
