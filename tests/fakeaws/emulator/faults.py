"""Fault injection: latency, token-bucket throttling, error bursts,
connection resets, stalls, truncated/malformed bodies, denied actions
and propagation delays. Everything is driven by a JSON document and a
seeded random generator so tests are repeatable."""
import fnmatch
import random
import threading
import time

KINDS = ("error", "throttle", "reset", "stall", "latency", "truncate",
         "malformed", "deny", "empty_page", "close")

# EC2 buckets from the EC2 API throttling documentation (capacity,
# refill per second). Describe calls that are unfiltered and unpaginated
# use the smaller bucket for the "expensive" actions.
EC2_BUCKETS = {
    "_describe": (100, 20),
    "_mutating": (50, 5),
    "CreateTags": (100, 10),
    "DeleteTags": (100, 10),
    "ModifyImageAttribute": (100, 5),
    "ModifySnapshotAttribute": (100, 5),
    "DeregisterImage": (100, 5),
    "CreateSnapshot": (100, 5),
    "DeleteSnapshot": (100, 5),
    "CopyImage": (100, 1),
    "EnableImageBlockPublicAccess": (1, 0.1),
    "DisableImageBlockPublicAccess": (1, 0.1),
    "EnableSnapshotBlockPublicAccess": (1, 0.1),
    "DisableSnapshotBlockPublicAccess": (1, 0.1),
    "RunInstances": (5, 2),
}
EC2_EXPENSIVE = ("DescribeSnapshots", "DescribeInstances", "DescribeVolumes")
EXPENSIVE_BUCKET = (50, 10)
# Not published by AWS; emulator choices documented in the README.
OTHER_BUCKETS = {
    "sts": (100, 50),
    "kms": (100, 50),
    "ssm": (40, 40),
    "organizations": (20, 10),
}


def _m(pattern, value):
    if pattern is None or pattern == "*":
        return True
    if isinstance(pattern, list):
        return any(_m(p, value) for p in pattern)
    if value is None:
        return False
    return fnmatch.fnmatchcase(str(value), str(pattern))


class Rule(object):
    def __init__(self, d, idx):
        self.d = d
        self.idx = idx
        self.kind = d.get("fault", "error")
        if self.kind not in KINDS:
            raise ValueError("unknown fault kind %r" % self.kind)
        self.matched = 0
        self.applied = 0

    def matches(self, service, action, account, region, role):
        d = self.d
        return (_m(d.get("service"), service) and _m(d.get("action"), action)
                and _m(d.get("account"), account)
                and _m(d.get("region"), region)
                and (d.get("role") is None or _m(d.get("role"), role)))

    def fire(self, rng):
        """Count one matching call; return True if the fault applies."""
        d = self.d
        self.matched += 1
        n = self.matched
        if "after" in d and n <= d["after"]:
            return False
        k = n - d.get("after", 0)
        if "first" in d and k > d["first"]:
            return False
        if "every" in d and k % d["every"] != 0:
            return False
        if "times" in d and self.applied >= d["times"]:
            return False
        if "probability" in d and rng.random() >= d["probability"]:
            return False
        self.applied += 1
        return True

    def to_json(self):
        out = dict(self.d)
        out["_matched"] = self.matched
        out["_applied"] = self.applied
        return out


class Faults(object):
    def __init__(self, config=None, seed=0):
        self.lock = threading.Lock()
        self.base_seed = seed
        self.configure(config or {})

    def configure(self, cfg):
        rules = [Rule(r, i) for i, r in enumerate(cfg.get("rules", []))]
        self.cfg = cfg
        self.rng = random.Random(cfg.get("seed", self.base_seed))
        self.rules = rules
        self.latency_ms = float(cfg.get("latency_ms", 0) or 0)
        self.jitter_ms = float(cfg.get("jitter_ms", 0) or 0)
        th = cfg.get("throttling") or {}
        self.throttling = bool(th.get("enabled", bool(th)))
        self.th_scale = float(th.get("scale", 1.0))
        self.th_buckets = th.get("buckets", {})
        self.th_match = th.get("match", {})
        self.buckets = {}
        self.propagation_delay = cfg.get("propagation_delay_seconds")
        self.deny = list(cfg.get("deny", []))
        self.ssm_validation_delay = cfg.get("ssm_validation_delay_seconds")

    def to_json(self):
        out = dict(self.cfg)
        out["rules"] = [r.to_json() for r in self.rules]
        return out

    # ---- rules --------------------------------------------------------
    def pick(self, service, action, account, region, role):
        hits = []
        for r in self.rules:
            if r.matches(service, action, account, region, role) and \
                    r.fire(self.rng):
                hits.append(r)
        return hits

    def extra_latency(self):
        if not self.latency_ms and not self.jitter_ms:
            return 0.0
        j = self.rng.uniform(-self.jitter_ms, self.jitter_ms) \
            if self.jitter_ms else 0
        return max(0.0, self.latency_ms + j) / 1000.0

    def denied(self, account, action, region, role, service):
        for d in self.deny:
            if (_m(d.get("account"), account) and _m(d.get("action"), action)
                    and _m(d.get("region"), region)
                    and _m(d.get("service"), service)
                    and (d.get("role") is None or _m(d.get("role"), role))):
                return True
        return False

    # ---- token buckets ------------------------------------------------
    def bucket_spec(self, service, action, params):
        if action in self.th_buckets:
            b = self.th_buckets[action]
            if isinstance(b, dict):
                return b["capacity"], b["refill"]
            return b[0], b[1]
        if service != "ec2":
            return OTHER_BUCKETS.get(service, (100, 20))
        if action in EC2_BUCKETS:
            return EC2_BUCKETS[action]
        if action.startswith("Describe") or action.startswith("Get"):
            if action in EC2_EXPENSIVE and not params.get("Filters") and \
                    not params.get("MaxResults"):
                return EXPENSIVE_BUCKET
            return EC2_BUCKETS["_describe"]
        return EC2_BUCKETS["_mutating"]

    def take_token(self, service, action, account, region, params):
        """Return True if the request may proceed."""
        if not self.throttling:
            return True
        m = self.th_match
        if not (_m(m.get("service"), service) and _m(m.get("action"), action)
                and _m(m.get("account"), account)
                and _m(m.get("region"), region)):
            return True
        cap, refill = self.bucket_spec(service, action, params)
        cap = max(1.0, cap * self.th_scale)
        refill = refill * self.th_scale
        key = (service, account, region, action)
        now = time.monotonic()
        b = self.buckets.get(key)
        if b is None:
            b = [cap, now]
            self.buckets[key] = b
        tokens = min(cap, b[0] + (now - b[1]) * refill)
        b[1] = now
        if tokens >= 1.0:
            b[0] = tokens - 1.0
            return True
        b[0] = tokens
        return False
