#!/usr/bin/env python3
"""Check that an amishare report tells the truth about AWS.

usage: check_report.py ENDPOINT REPORT [--exit CODE] [--status STATUS]
                       [--interrupted] [--owner ACCOUNT]

The state is read from each account's own side, signed with botocore's
SigV4 (an independent client), never from amishare. Invariants:

  * every result the report calls "ok" is true in AWS: share and verify:
    the target sees the image, every tag the region's images[].tags_written
    lists is on it with that value as the target sees it, an account
    granted by id is in the owner's launch permission, the SSM parameter
    (when asked) holds the AMI id; revoke: none of the removed tags is left
    and the owner no longer lists the account;
  * every result that is not ok says why: "failed" has an error with its
    step and an AWS code, or a transport/parse kind and a message;
    "skipped" and "unknown" have a skip_reason; "unknown" and "skipped"
    only appear in an interrupted run, and an interrupted run has
    interrupted: true;
  * images whose share is "ok" carry every added permission in AWS;
  * accounts whose AssumeRole failed name the error;
  * status, summary counts and the exit code agree with the results (exit
    2 only for a failed run that wrote nothing).

Prints one line per violation and exits 1 if there is any; else prints a
one-line summary and exits 0.
"""
import argparse
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

problems = []

# Signing with botocore's SigV4 and sending with urllib: an independent
# client that costs no botocore client creation (a fraction of a second
# each, and a check reads as many accounts and Regions as the report has).
JSON_TARGETS = {"kms": "TrentService", "ssm": "AmazonSSM"}


class AWSError(Exception):
    def __init__(self, code, msg):
        super().__init__("%s: %s" % (code, msg))
        self.code = code


def local(tag):
    return tag.rsplit("}", 1)[-1]


def call(ep, account, region, service, action, params):
    """One signed call as ACCOUNT (the default world's keys)."""
    creds = Credentials("AKIAFAKE" + account,
                        "fakeaws-secret-%s-EXAMPLEKEY0" % account)
    if service == "ec2":
        form = {"Action": action, "Version": "2016-11-15"}
        form.update(params)
        body = urllib.parse.urlencode(form).encode()
        headers = {"Content-Type":
                   "application/x-www-form-urlencoded; charset=utf-8"}
    else:
        body = json.dumps(params).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1",
                   "X-Amz-Target": "%s.%s" % (JSON_TARGETS[service], action)}
    req = AWSRequest(method="POST", url=ep, data=body, headers=headers)
    SigV4Auth(creds, service, region).add_auth(req)
    ctx = None
    if ep.startswith("https:"):
        ctx = ssl.create_default_context(
            cafile=os.environ.get("AWS_CA_BUNDLE") or None)
    http = urllib.request.Request(ep, data=body, method="POST",
                                  headers=dict(req.headers.items()))
    try:
        with urllib.request.urlopen(http, timeout=30, context=ctx) as r:
            data = r.read()
    except urllib.error.HTTPError as e:
        data = e.read()
        if service == "ec2":
            err = ET.fromstring(data).find(".//{*}Error")
            raise AWSError(err.findtext("{*}Code"), err.findtext("{*}Message"))
        doc = json.loads(data)
        raise AWSError(doc.get("__type", "").split("#")[-1],
                       doc.get("message") or doc.get("Message"))
    return ET.fromstring(data) if service == "ec2" else json.loads(data)


def problem(msg):
    problems.append(msg)
    print("FAIL: " + msg)


def target_view(ep, account, region, ami):
    """(visible, {key: value}) of the image as account sees it."""
    try:
        doc = call(ep, account, region, "ec2", "DescribeImages",
                   {"ImageId.1": ami})
    except AWSError as e:
        if e.code == "InvalidAMIID.NotFound":
            return False, {}
        raise
    for img in doc.findall("{*}imagesSet/{*}item"):
        if img.findtext("{*}imageId") != ami:
            continue
        tags = {}
        for t in img.findall("{*}tagSet/{*}item"):
            tags[t.findtext("{*}key")] = t.findtext("{*}value") or ""
        return True, tags
    return False, {}


_perm_cache = {}


def launch_perms(ep, owner, region, ami):
    """The owner's launch permissions as "user:ID", "ou:ARN", ..."""
    key = (owner, region, ami)
    if key not in _perm_cache:
        doc = call(ep, owner, region, "ec2", "DescribeImageAttribute",
                   {"ImageId": ami, "Attribute": "launchPermission"})
        out = set()
        for p in doc.findall("{*}launchPermission/{*}item"):
            for field, kind in (("userId", "user"), ("group", "group"),
                                ("organizationArn", "org"),
                                ("organizationalUnitArn", "ou")):
                v = p.findtext("{*}" + field)
                if v:
                    out.add("%s:%s" % (kind, v))
        _perm_cache[key] = out
    return _perm_cache[key]


def grant_names(ep, owner, region, key):
    doc = call(ep, owner, region, "kms", "ListGrants", {"KeyId": key})
    return {g.get("Name") for g in doc.get("Grants", [])}


def param(ep, account, region, name):
    try:
        doc = call(ep, account, region, "ssm", "GetParameter",
                   {"Name": name})
    except AWSError as e:
        return e.code
    return doc["Parameter"]["Value"]


def where(r):
    return "%s %s %s" % (r["account"], r["region"], r["ami_id"])


def check_error(what, err, allow_canceled=False):
    if not isinstance(err, dict):
        problem("%s: not ok without an error object" % what)
        return
    if not err.get("step"):
        problem("%s: error without a step" % what)
    if not err.get("message"):
        problem("%s: error without a message" % what)
    kind = err.get("kind")
    if kind == "aws" and not err.get("code"):
        problem("%s: AWS error without its code" % what)
    if kind in (None, "", "ok", "unknown"):
        problem("%s: error without a kind: %r" % (what, err))
    if kind == "canceled" and not allow_canceled:
        problem("%s: canceled outside an interrupted run" % what)


def check_ok_share(ep, rep, r, images):
    img = images.get((r["region"], r["ami_id"]), {})
    visible, tags = target_view(ep, r["account"], r["region"], r["ami_id"])
    if not visible:
        problem("%s: ok, but the target cannot see the image" % where(r))
        return
    for k, v in (img.get("tags_written") or {}).items():
        if tags.get(k) != v:
            problem("%s: ok, but tag %r is %r in the target (want %r)"
                    % (where(r), k, tags.get(k), v))
    for k, v in (r.get("tags_written") or {}).items():
        if tags.get(k) != v:
            problem("%s: ok, but written tag %r is %r in the target"
                    % (where(r), k, tags.get(k)))
    owner = rep["source"]["account"]
    if r["account"] in (rep["inputs"].get("accounts") or []):
        perms = launch_perms(ep, owner, r["region"], r["ami_id"])
        if "user:" + r["account"] not in perms:
            problem("%s: ok, but the owner's launch permission lacks it"
                    % where(r))
    if rep["inputs"].get("kms") == "grants" and r.get("kms_grants") == "ok":
        for key in img.get("kms_keys") or []:
            if "amishare-" + r["account"] not in grant_names(
                    ep, owner, r["region"], key):
                problem("%s: ok, but key %s has no grant for it"
                        % (where(r), key))
    name = rep["inputs"].get("ssm_parameter")
    if name and r.get("ssm_parameter") == "ok":
        got = param(ep, r["account"], r["region"], name)
        if got != r["ami_id"]:
            problem("%s: ok, but SSM %s holds %r" % (where(r), name, got))


def check_ok_revoke(ep, rep, r):
    visible, tags = target_view(ep, r["account"], r["region"], r["ami_id"])
    for k, v in (r.get("tags_removed") or {}).items():
        if visible and tags.get(k) == v:
            problem("%s: revoked, but tag %r is still there" % (where(r), k))
    owner = rep["source"]["account"]
    perms = launch_perms(ep, owner, r["region"], r["ami_id"])
    if "user:" + r["account"] in perms:
        problem("%s: revoked, but the owner still grants it" % where(r))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoint")
    ap.add_argument("report")
    ap.add_argument("--exit", type=int, dest="exit_code")
    ap.add_argument("--status")
    ap.add_argument("--interrupted", action="store_true")
    a = ap.parse_args()

    with open(a.report, encoding="utf-8") as f:
        rep = json.load(f)
    ep = a.endpoint
    command = rep["command"]
    revoke = rep.get("revoke") or command == "revoke"
    results = rep["results"]
    images = {(i["region"], i["ami_id"]): i for i in rep["images"]}

    if rep.get("interrupted") != a.interrupted:
        problem("interrupted is %r" % rep.get("interrupted"))
    counts = {"ok": 0, "failed": 0, "skipped": 0, "unknown": 0}
    for r in results:
        st = r["status"]
        if st not in counts:
            problem("%s: status %r" % (where(r), st))
            continue
        counts[st] += 1
        if st == "ok":
            if r.get("error"):
                problem("%s: ok with an error" % where(r))
            if command in ("share", "verify", "revoke"):
                if revoke:
                    check_ok_revoke(ep, rep, r)
                else:
                    check_ok_share(ep, rep, r, images)
        elif st == "failed":
            check_error(where(r), r.get("error"), a.interrupted)
        else:
            if not r.get("skip_reason"):
                problem("%s: %s without a skip_reason" % (where(r), st))
            if not a.interrupted:
                problem("%s: %s in a run that was not interrupted"
                        % (where(r), st))

    for img in rep["images"]:
        what = "image %s %s" % (img["region"], img["ami_id"])
        if img.get("share") == "ok" and not revoke and command == "share":
            perms = launch_perms(ep, rep["source"]["account"],
                                 img["region"], img["ami_id"])
            for p in img.get("permissions_added") or []:
                if p not in perms:
                    problem("%s: share ok, but %s is not granted" % (what, p))
        if img.get("share") == "failed" or img.get("error"):
            if img.get("share") != "ok":
                check_error(what, img.get("error"), a.interrupted)
    for acct in rep["accounts"]:
        if acct.get("assume_role") == "failed":
            check_error("account %s" % acct["id"], acct.get("error"))

    s = rep["summary"]
    for k, n in counts.items():
        if s.get(k) != n:
            problem("summary.%s is %r, results say %d" % (k, s.get(k), n))
    if s.get("items") != len(results):
        problem("summary.items is %r, %d results"
                % (s.get("items"), len(results)))
    snaps = rep["inputs"].get("share_snapshots")

    def source_ok(i):
        return (i.get("share") == "ok" and i.get("kms") != "failed"
                and i.get("deprecation") != "failed"
                and (not snaps or i.get("snapshot_share") == "ok"))

    ok = sum(map(source_ok, rep["images"])) + counts["ok"]
    total = len(rep["images"]) + len(results)
    org_err = (rep.get("organizations") or {}).get("error")
    all_ok = ok == total and not rep.get("interrupted") and not org_err
    want = "ok" if all_ok else ("partial" if 0 < ok < total else "failed")
    if rep["status"] != want:
        problem("status %r, results say %r" % (rep["status"], want))
    if a.status and rep["status"] != a.status:
        problem("status %r, expected %r" % (rep["status"], a.status))
    if a.exit_code is not None:
        want_exit = 130 if a.interrupted else (0 if all_ok else 1)
        # 2: the request was refused before anything was written.
        refused = (a.exit_code == 2 and not all_ok
                   and rep["summary"].get("writes") == 0)
        if a.exit_code != want_exit and not refused:
            problem("exit code %d, the report says %d"
                    % (a.exit_code, want_exit))

    if problems:
        sys.exit(1)
    print("report ok: %d results (%s), status %s" % (
        len(results), ", ".join("%d %s" % (n, k) for k, n in counts.items()
                                if n), rep["status"]))


if __name__ == "__main__":
    main()
