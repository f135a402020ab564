"""AWS Signature Version 4 verification.

The verifier rebuilds the canonical request from what was received on the
wire (method, raw path, raw query, the headers named in SignedHeaders and
the SHA-256 of the body bytes) and compares the signature. Signing keys
are cached per (secret, date, region, service) because they only change
once a day.
"""
import hashlib
import hmac
import re
from urllib.parse import unquote_to_bytes, quote

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_UNRESERVED = "-_.~"

_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+"
    r"Credential=(?P<cred>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<sh>[^,\s]+)\s*,\s*"
    r"Signature=(?P<sig>[0-9a-fA-F]+)\s*$")
_SPACES = re.compile(r"\s+")

_key_cache = {}


def signing_key(secret, date, region, service):
    ck = (secret, date, region, service)
    k = _key_cache.get(ck)
    if k is None:
        if len(_key_cache) > 4096:
            _key_cache.clear()
        k = hmac.new(("AWS4" + secret).encode(), date.encode(),
                     hashlib.sha256).digest()
        for part in (region, service, "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        _key_cache[ck] = k
    return k


def _encode(b):
    if isinstance(b, str):
        b = b.encode()
    return quote(b, safe=_UNRESERVED)


def canonical_query(raw_query, exclude=()):
    """Canonical query string from the raw (still encoded) query."""
    if not raw_query:
        return ""
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        n = _encode(unquote_to_bytes(name))
        if n in exclude:
            continue
        pairs.append((n, _encode(unquote_to_bytes(value))))
    pairs.sort()
    return "&".join("%s=%s" % p for p in pairs)


def _remove_dot_segments(path):
    out = []
    for seg in path.split("/"):
        if seg == ".":
            continue
        if seg == "..":
            if out:
                out.pop()
            continue
        out.append(seg)
    return "/".join(out)


def canonical_uri(raw_path, normalize=True):
    path = raw_path or "/"
    if normalize:
        trailing = path.endswith("/") and path != "/"
        segs = [s for s in _remove_dot_segments(path).split("/") if s]
        path = "/" + "/".join(segs)
        if trailing and path != "/":
            path += "/"
    # The raw path is already percent-encoded once by the client; AWS
    # (except S3) encodes it again, so a literal '%' becomes '%25'.
    return quote(path.encode("utf-8", "surrogateescape"), safe="/~")


def canonical_headers(headers, signed):
    """headers: list of (name, value) as received. signed: list of names."""
    grouped = {}
    for name, value in headers:
        ln = name.lower()
        grouped.setdefault(ln, []).append(_SPACES.sub(" ", value.strip()))
    lines = []
    for h in signed:
        vals = grouped.get(h)
        if vals is None:
            return None, h
        lines.append("%s:%s\n" % (h, ",".join(vals)))
    return "".join(lines), None


def canonical_request(method, raw_path, raw_query, headers, signed,
                      payload_hash, normalize=True, exclude_query=()):
    ch, missing = canonical_headers(headers, signed)
    if ch is None:
        raise KeyError(missing)
    return "\n".join([
        method,
        canonical_uri(raw_path, normalize),
        canonical_query(raw_query, exclude_query),
        ch,
        ";".join(signed),
        payload_hash,
    ])


def string_to_sign(amz_date, scope, creq):
    return "\n".join([ALGORITHM, amz_date, scope,
                      hashlib.sha256(creq.encode("utf-8",
                                                 "surrogateescape"))
                      .hexdigest()])


def signature(secret, date, region, service, sts):
    return hmac.new(signing_key(secret, date, region, service),
                    sts.encode(), hashlib.sha256).hexdigest()


class SigError(Exception):
    """A signature problem. kind is one of: missing, incomplete,
    mismatch, scope, expired (clock skew), date."""

    def __init__(self, kind, message):
        Exception.__init__(self, message)
        self.kind = kind
        self.message = message


class ParsedAuth(object):
    __slots__ = ("access_key", "date", "region", "service", "signed",
                 "signature", "amz_date", "presigned", "expires",
                 "token")


def parse_authorization(headers_map, raw_query):
    """Extract the signing elements from the Authorization header or from
    a presigned query string. headers_map: lower-case name -> value.
    Returns ParsedAuth or None when the request is unsigned."""
    pa = ParsedAuth()
    pa.expires = None
    auth = headers_map.get("authorization")
    if auth is not None:
        if not auth.startswith(ALGORITHM):
            raise SigError("incomplete",
                           "Unsupported authorization type. Only "
                           "AWS4-HMAC-SHA256 is supported.")
        m = _AUTH_RE.match(auth)
        if not m:
            raise SigError("incomplete",
                           "Authorization header requires 'Credential', "
                           "'Signature' and 'SignedHeaders' parameters. "
                           "Authorization=%s" % auth)
        cred, sh, sig = m.group("cred"), m.group("sh"), m.group("sig")
        pa.amz_date = headers_map.get("x-amz-date")
        pa.presigned = False
        pa.token = headers_map.get("x-amz-security-token")
    elif raw_query and "X-Amz-Algorithm=" in raw_query:
        q = {}
        for part in raw_query.split("&"):
            n, _, v = part.partition("=")
            q[unquote_to_bytes(n).decode("utf-8", "replace")] = \
                unquote_to_bytes(v).decode("utf-8", "replace")
        if q.get("X-Amz-Algorithm") != ALGORITHM:
            raise SigError("incomplete", "Unsupported algorithm")
        try:
            cred = q["X-Amz-Credential"]
            sh = q["X-Amz-SignedHeaders"]
            sig = q["X-Amz-Signature"]
            pa.amz_date = q["X-Amz-Date"]
        except KeyError as e:
            raise SigError("incomplete",
                           "Query string authentication requires the %s "
                           "parameter" % e.args[0])
        pa.expires = q.get("X-Amz-Expires")
        pa.presigned = True
        pa.token = q.get("X-Amz-Security-Token")
    else:
        return None
    parts = cred.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SigError("incomplete",
                       "Credential should be scoped to a valid region, "
                       "not '%s'. " % cred)
    pa.access_key, pa.date, pa.region, pa.service = parts[:4]
    pa.signed = sh.split(";")
    pa.signature = sig.lower()
    if pa.amz_date is None:
        # Fall back to the HTTP Date header (AWS accepts either).
        pa.amz_date = _http_date_to_amz(headers_map.get("date"))
        if pa.amz_date is None:
            raise SigError("incomplete",
                           "Authorization header requires existence of "
                           "either a 'X-Amz-Date' or a 'Date' header.")
    return pa


def _http_date_to_amz(value):
    if not value:
        return None
    from email.utils import parsedate_to_datetime
    try:
        d = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return d.strftime("%Y%m%dT%H%M%SZ")


_AMZ_DATE_RE = re.compile(r"^\d{8}T\d{6}Z$")


_epoch_cache = {}


def amz_date_epoch(amz_date):
    """YYYYMMDDTHHMMSSZ -> epoch seconds, or None if malformed."""
    hit = _epoch_cache.get(amz_date)
    if hit is not None:
        return hit
    import calendar
    if not _AMZ_DATE_RE.match(amz_date or ""):
        return None
    a = amz_date
    try:
        ts = calendar.timegm((int(a[0:4]), int(a[4:6]), int(a[6:8]),
                              int(a[9:11]), int(a[11:13]), int(a[13:15]),
                              0, 0, 0))
    except (ValueError, OverflowError):
        return None
    mo, d, h, mi, s = (int(a[4:6]), int(a[6:8]), int(a[9:11]),
                       int(a[11:13]), int(a[13:15]))
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60
            and s < 61):
        return None
    if len(_epoch_cache) > 10000:
        _epoch_cache.clear()
    _epoch_cache[amz_date] = ts
    return ts


def verify(pa, secret, method, raw_path, raw_query, headers, body,
           normalize=True):
    """Check the signature; raise SigError('mismatch') on failure.
    Returns the canonical request (useful for logging)."""
    if "host" not in pa.signed:
        raise SigError("incomplete",
                       "'Host' must be a 'SignedHeader' in the "
                       "AWS Authorization.")
    if pa.amz_date[:8] != pa.date:
        raise SigError("date",
                       "Date in Credential scope does not match YYYYMMDD "
                       "from ISO-8601 version of date from HTTP: '%s' != "
                       "'%s', from '%s'." % (pa.date, pa.amz_date[:8],
                                             pa.amz_date))
    payload = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
    exclude = ("X-Amz-Signature",) if pa.presigned else ()
    try:
        creq = canonical_request(method, raw_path, raw_query, headers,
                                 pa.signed, payload, normalize, exclude)
    except KeyError as e:
        raise SigError("mismatch",
                       "The request signature we calculated does not "
                       "match the signature you provided. Signed header "
                       "'%s' is not present in the request." % e.args[0])
    scope = "%s/%s/%s/aws4_request" % (pa.date, pa.region, pa.service)
    sts = string_to_sign(pa.amz_date, scope, creq)
    want = signature(secret, pa.date, pa.region, pa.service, sts)
    if not hmac.compare_digest(want, pa.signature):
        raise SigError("mismatch",
                       "The request signature we calculated does not "
                       "match the signature you provided. Check your AWS "
                       "Secret Access Key and signing method. Consult the "
                       "service documentation for details.")
    return creq
