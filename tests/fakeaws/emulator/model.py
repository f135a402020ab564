"""botocore service models: request parsing and response serialisation.

The models are read once at start-up straight from botocore's data
directory (JSON, optionally gzip'ed). When several botocore installations
are present, the newest one is used so that the emulator knows the
current API regardless of which interpreter runs it.

Query-protocol requests (EC2, STS) are parsed by walking the input shape
with the serialised parameter names, which also rejects parameter names
the model does not know. Responses are built from plain dicts keyed by
model member names and rendered by walking the output shape.
"""
import calendar
import glob
import gzip
import json
import os
import re
import time

SERVICES = {
    # service signing name: (model dir, api version)
    "ec2": ("ec2", "2016-11-15"),
    "sts": ("sts", "2011-06-15"),
    "kms": ("kms", "2014-11-01"),
    "ssm": ("ssm", "2014-11-06"),
    "organizations": ("organizations", "2016-11-28"),
}


def _botocore_version(data_dir):
    init = os.path.join(os.path.dirname(data_dir), "__init__.py")
    try:
        with open(init) as f:
            m = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", f.read())
    except OSError:
        return (0,)
    if not m:
        return (0,)
    return tuple(int(x) for x in re.findall(r"\d+", m.group(1)))


def find_data_dirs():
    """Every botocore data directory we can find, newest first."""
    cands = []
    env = os.environ.get("FAKEAWS_BOTOCORE_DATA")
    if env:
        return [env]
    try:
        import botocore
        cands.append(os.path.join(os.path.dirname(botocore.__file__),
                                  "data"))
    except ImportError:
        pass
    pats = [
        "/usr/lib/python3/dist-packages/botocore/data",
        "/usr/local/lib/python3*/*-packages/botocore/data",
        os.path.expanduser("~/.pyenv/versions/*/lib/python3*/"
                           "site-packages/botocore/data"),
        "/root/.pyenv/versions/*/lib/python3*/site-packages/botocore/data",
    ]
    for p in pats:
        cands.extend(glob.glob(p))
    seen = []
    for c in cands:
        c = os.path.realpath(c)
        if os.path.isdir(os.path.join(c, "ec2")) and c not in seen:
            seen.append(c)
    seen.sort(key=_botocore_version, reverse=True)
    return seen


def _load_json(path):
    if os.path.exists(path + ".gz"):
        with gzip.open(path + ".gz", "rt", encoding="utf-8") as f:
            return json.load(f)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _strip_docs(obj):
    if isinstance(obj, dict):
        obj.pop("documentation", None)
        for v in obj.values():
            _strip_docs(v)


class ServiceModel(object):
    def __init__(self, name, raw, data_dir):
        self.name = name
        self.data_dir = data_dir
        meta = raw["metadata"]
        self.protocol = meta["protocol"]
        self.api_version = meta["apiVersion"]
        self.target_prefix = meta.get("targetPrefix")
        ns = meta.get("xmlNamespace")
        if self.protocol == "ec2":
            ns = ns.rstrip("/") + "/"
        self.xmlns = ns
        self.shapes = raw["shapes"]
        self.operations = raw["operations"]
        self._key_cache = {}

    def op(self, name):
        return self.operations.get(name)

    def input_shape(self, opname):
        o = self.operations[opname]
        if "input" not in o:
            return None
        return o["input"]["shape"]

    def output_shape(self, opname):
        o = self.operations[opname]
        if "output" not in o:
            return None
        return o["output"]["shape"], o["output"].get("resultWrapper")

    # ---- query-protocol request parsing -------------------------------
    def _ser_name(self, mname, mref):
        if self.protocol == "ec2":
            if "queryName" in mref:
                return mref["queryName"]
            if "locationName" in mref:
                n = mref["locationName"]
                return n[0].upper() + n[1:]
            return mname
        return mref.get("locationName", mname)

    def _member_index(self, shape_name):
        """Serialized-name -> (member name, member ref) for a structure."""
        key = ("idx", shape_name)
        idx = self._key_cache.get(key)
        if idx is None:
            idx = {}
            for mname, mref in self.shapes[shape_name].get(
                    "members", {}).items():
                idx[self._ser_name(mname, mref)] = (mname, mref)
            self._key_cache[key] = idx
        return idx

    def resolve_key(self, opname, key):
        """Map a wire parameter name to a path of steps.

        Each step is ('m', member name) or ('i', index). Returns
        (steps, leaf shape name) or None if the name is not part of the
        input shape."""
        ck = (opname, key)
        hit = self._key_cache.get(ck)
        if hit is not None:
            return hit or None
        res = self._resolve(self.input_shape(opname), key.split("."))
        if len(self._key_cache) < 200000:
            self._key_cache[ck] = res or False
        return res

    def _resolve(self, shape_name, toks):
        steps = []
        i = 0
        cur = shape_name
        n = len(toks)
        while True:
            shape = self.shapes[cur]
            t = shape["type"]
            if t == "structure":
                if i >= n:
                    return None
                ent = self._member_index(cur).get(toks[i])
                if ent is None:
                    return None
                steps.append(("m", ent[0]))
                cur = ent[1]["shape"]
                i += 1
            elif t == "list":
                mref = shape["member"]
                if self.protocol != "ec2" and not shape.get("flattened"):
                    if i >= n or toks[i] != mref.get("locationName",
                                                     "member"):
                        return None
                    i += 1
                if i >= n or not toks[i].isdigit() or int(toks[i]) < 1:
                    return None
                steps.append(("i", int(toks[i])))
                cur = mref["shape"]
                i += 1
            elif t == "map":
                if self.protocol != "ec2" and not shape.get("flattened"):
                    if i >= n or toks[i] != "entry":
                        return None
                    i += 1
                if i + 1 >= n or not toks[i].isdigit():
                    return None
                kname = shape["key"].get("locationName", "key")
                vname = shape["value"].get("locationName", "value")
                steps.append(("i", int(toks[i])))
                if toks[i + 1] == kname:
                    steps.append(("k", "key"))
                    cur = shape["key"]["shape"]
                elif toks[i + 1] == vname:
                    steps.append(("k", "value"))
                    cur = shape["value"]["shape"]
                else:
                    return None
                i += 2
            else:
                if i != n:
                    return None
                return (tuple(steps), cur)

    def parse_query(self, opname, params, error_factory):
        """params: list of (name, value) without Action/Version.
        Returns a dict keyed by member names (lists become Python lists
        ordered by their index)."""
        root = {}
        for key, value in params:
            res = self.resolve_key(opname, key)
            if res is None:
                raise error_factory("unknown", key)
            steps, leaf = res
            v = self._convert(leaf, value, key, error_factory)
            node = root
            for j, (kind, name) in enumerate(steps):
                last = j == len(steps) - 1
                if last:
                    node[name] = v
                else:
                    node = node.setdefault(name, {})
        self._listify(self.input_shape(opname), root)
        self._check_required(self.input_shape(opname), root, "",
                             error_factory)
        return root

    def _listify(self, shape_name, node):
        """Turn index dicts into lists (in place) following the shape."""
        shape = self.shapes[shape_name]
        t = shape["type"]
        if t == "structure":
            for mname, mref in shape.get("members", {}).items():
                if mname in node:
                    node[mname] = self._fix(mref["shape"], node[mname])
        return node

    def _fix(self, shape_name, value):
        shape = self.shapes[shape_name]
        t = shape["type"]
        if t == "structure" and isinstance(value, dict):
            return self._listify(shape_name, value)
        if t == "list" and isinstance(value, dict):
            return [self._fix(shape["member"]["shape"], value[k])
                    for k in sorted(value)]
        if t == "map" and isinstance(value, dict):
            out = {}
            for k in sorted(value):
                ent = value[k]
                if isinstance(ent, dict) and "key" in ent:
                    out[ent["key"]] = ent.get("value", "")
            return out
        return value

    def _check_required(self, shape_name, node, prefix, error_factory):
        shape = self.shapes[shape_name]
        if shape["type"] != "structure" or not isinstance(node, dict):
            return
        members = shape.get("members", {})
        for r in shape.get("required", []):
            if r not in node:
                mref = members.get(r, {})
                raise error_factory("missing",
                                    prefix + self._ser_name(r, mref))
        for mname, v in node.items():
            mref = members[mname]
            sub = self.shapes[mref["shape"]]
            name = prefix + self._ser_name(mname, mref)
            if sub["type"] == "structure":
                self._check_required(mref["shape"], v, name + ".",
                                     error_factory)
            elif sub["type"] == "list" and \
                    self.shapes[sub["member"]["shape"]]["type"] == \
                    "structure":
                for i, item in enumerate(v, 1):
                    self._check_required(sub["member"]["shape"], item,
                                         "%s.%d." % (name, i),
                                         error_factory)

    def _convert(self, shape_name, value, key, error_factory):
        t = self.shapes[shape_name]["type"]
        if t == "string":
            return value
        if t in ("integer", "long"):
            try:
                return int(value)
            except ValueError:
                raise error_factory("value", key, value)
        if t == "boolean":
            lv = value.lower()
            if lv == "true":
                return True
            if lv == "false":
                return False
            raise error_factory("value", key, value)
        if t in ("float", "double"):
            try:
                return float(value)
            except ValueError:
                raise error_factory("value", key, value)
        if t == "timestamp":
            ts = parse_timestamp(value)
            if ts is None:
                raise error_factory("value", key, value)
            return ts
        return value

    # ---- JSON request checking ---------------------------------------
    def check_json(self, opname, body, error_factory):
        """Type-check a JSON 1.1 request against the input shape.
        Unknown members are ignored, as AWS does; they are returned so
        the request log can show them."""
        shape = self.input_shape(opname)
        unknown = []
        if shape is None:
            return unknown
        self._check_json(shape, body, "", error_factory, unknown)
        return unknown

    def _check_json(self, shape_name, value, path, error_factory, unknown):
        shape = self.shapes[shape_name]
        t = shape["type"]
        if t == "structure":
            if not isinstance(value, dict):
                raise error_factory("type", path or "body", value)
            members = shape.get("members", {})
            for r in shape.get("required", []):
                if value.get(r) is None:
                    raise error_factory("missing", path + r)
            for k, v in value.items():
                if k not in members:
                    unknown.append(path + k)
                    continue
                if v is None:
                    continue
                self._check_json(members[k]["shape"], v, path + k + ".",
                                 error_factory, unknown)
        elif t == "list":
            if not isinstance(value, list):
                raise error_factory("type", path.rstrip("."), value)
            for item in value:
                self._check_json(shape["member"]["shape"], item, path,
                                 error_factory, unknown)
        elif t == "map":
            if not isinstance(value, dict):
                raise error_factory("type", path.rstrip("."), value)
        elif t == "string":
            if not isinstance(value, str):
                raise error_factory("type", path.rstrip("."), value)
        elif t in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise error_factory("type", path.rstrip("."), value)
        elif t == "boolean":
            if not isinstance(value, bool):
                raise error_factory("type", path.rstrip("."), value)

    # ---- XML response rendering --------------------------------------
    def render_xml(self, opname, data, request_id):
        out = self.output_shape(opname)
        parts = []
        if self.protocol == "ec2":
            parts.append('<?xml version="1.0" encoding="UTF-8"?>\n<%sResponse'
                         ' xmlns="%s"><requestId>%s</requestId>'
                         % (opname, self.xmlns, request_id))
            if out is None:
                parts.append("<return>true</return>")
            else:
                self._xml_members(out[0], data, parts)
            parts.append("</%sResponse>" % opname)
        else:
            parts.append('<%sResponse xmlns="%s">' % (opname, self.xmlns))
            if out is not None:
                wrapper = out[1] or (opname + "Result")
                parts.append("<%s>" % wrapper)
                self._xml_members(out[0], data, parts)
                parts.append("</%s>" % wrapper)
            parts.append("<ResponseMetadata><RequestId>%s</RequestId>"
                         "</ResponseMetadata></%sResponse>"
                         % (request_id, opname))
        return "".join(parts).encode("utf-8")

    def _plan(self, shape_name):
        """Per-structure rendering plan: (member, tag, shape, type, extra)."""
        key = ("plan", shape_name)
        plan = self._key_cache.get(key)
        if plan is None:
            plan = []
            for mname, mref in self.shapes[shape_name].get(
                    "members", {}).items():
                sub = self.shapes[mref["shape"]]
                t = sub["type"]
                extra = None
                if t == "list":
                    m = sub["member"]
                    itag = "item" if self.protocol == "ec2" else \
                        m.get("locationName", "member")
                    extra = (m["shape"], itag, bool(sub.get("flattened")))
                plan.append((mname, mref.get("locationName", mname),
                             mref["shape"], t, extra))
            self._key_cache[key] = plan
        return plan

    def _xml_members(self, shape_name, data, parts):
        for mname, tag, sub, t, extra in self._plan(shape_name):
            v = data.get(mname)
            if v is None:
                continue
            self._xml_typed(sub, t, extra, tag, v, parts)

    def _xml_value(self, shape_name, tag, v, parts, mref=None):
        shape = self.shapes[shape_name]
        t = shape["type"]
        extra = None
        if t == "list":
            m = shape["member"]
            itag = "item" if self.protocol == "ec2" else \
                m.get("locationName", "member")
            extra = (m["shape"], itag, bool(shape.get("flattened")))
        self._xml_typed(shape_name, t, extra, tag, v, parts)

    def _xml_typed(self, shape_name, t, extra, tag, v, parts):
        if t == "string":
            parts.append("<%s>%s</%s>" % (tag, str(v).translate(_ESC), tag))
        elif t == "structure":
            parts.append("<%s>" % tag)
            self._xml_members(shape_name, v, parts)
            parts.append("</%s>" % tag)
        elif t == "list":
            mshape, itag, flat = extra
            if flat:
                for item in v:
                    self._xml_value(mshape, tag, item, parts)
            else:
                parts.append("<%s>" % tag)
                for item in v:
                    self._xml_value(mshape, itag, item, parts)
                parts.append("</%s>" % tag)
        elif t == "map":
            parts.append("<%s>" % tag)
            for k, val in v.items():
                parts.append("<entry><key>%s</key><value>%s</value></entry>"
                             % (xml_escape(k), xml_escape(str(val))))
            parts.append("</%s>" % tag)
        elif t == "boolean":
            parts.append("<%s>%s</%s>" % (tag, "true" if v else "false", tag))
        elif t == "timestamp":
            parts.append("<%s>%s</%s>" % (tag, iso8601(v, self.protocol ==
                                                      "ec2"), tag))
        else:
            parts.append("<%s>%s</%s>" % (tag, xml_escape(str(v)), tag))


_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;",
                      '"': "&quot;", "\r": "&#13;"})


def xml_escape(s):
    return s.translate(_ESC)


def iso8601(ts, millis=True):
    if isinstance(ts, str):
        return ts
    t = time.gmtime(ts)
    if millis:
        return time.strftime("%Y-%m-%dT%H:%M:%S", t) + \
            ".%03dZ" % int((ts - int(ts)) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", t)


_TS_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})"
                    r"(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$")


def parse_timestamp(value):
    if isinstance(value, (int, float)):
        return float(value)
    value = value.strip()
    if re.match(r"^\d+(\.\d+)?$", value):
        return float(value)
    m = _TS_RE.match(value)
    if not m:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    try:
        ts = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi),
                              int(s or 0), 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    if frac:
        ts += float("0." + frac)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        tz = tz[1:].replace(":", "")
        ts -= sign * (int(tz[:2]) * 3600 + int(tz[2:]) * 60)
    return ts


class Models(object):
    """All service models, loaded once."""

    def __init__(self, data_dir=None):
        dirs = [data_dir] if data_dir else find_data_dirs()
        if not dirs:
            raise RuntimeError("no botocore data directory found")
        self.data_dir = dirs[0]
        self.services = {}
        self.by_target = {}
        for sname, (mdir, ver) in SERVICES.items():
            raw = _load_json(os.path.join(self.data_dir, mdir, ver,
                                          "service-2.json"))
            _strip_docs(raw)
            sm = ServiceModel(sname, raw, self.data_dir)
            self.services[sname] = sm
            if sm.target_prefix:
                self.by_target[sm.target_prefix] = sm
        try:
            self.endpoints = _load_json(os.path.join(self.data_dir,
                                                     "endpoints.json"))
        except OSError:
            self.endpoints = None

    def regions(self, partition="aws"):
        if not self.endpoints:
            return ["us-east-1", "us-east-2", "us-west-1", "us-west-2",
                    "eu-west-1", "eu-west-2", "eu-central-1"]
        for p in self.endpoints["partitions"]:
            if p["partition"] == partition:
                return sorted(p.get("regions", {}).keys())
        return []

    def __getitem__(self, name):
        return self.services[name]
