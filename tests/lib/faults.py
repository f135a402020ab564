#!/usr/bin/env python3
"""The emulator's fault and counter endpoints for the fault scenarios, in
one cheap process (no ctl, no botocore).

usage: faults.py URL set FILE | clear | applied | writes ACTIONS...
                     | count ACTION [ACCOUNT] | outcome ACTION OUTCOME
                     | arrived-after TIME LATENCY_MS

arrived-after prints the requests that reached the emulator after TIME
(epoch seconds): the log stamps a request once its added latency has
passed, so that latency is taken off.
"""
import json
import os
import ssl
import sys
import urllib.request


def fetch(url, method="GET", body=None):
    ctx = None
    if url.startswith("https:"):
        ctx = ssl.create_default_context(
            cafile=os.environ.get("AWS_CA_BUNDLE") or None)
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
        data = r.read()
    return json.loads(data) if data else None


def main():
    base, what, args = sys.argv[1].rstrip("/") + "/_fakeaws/", sys.argv[2], \
        sys.argv[3:]
    if what == "set":
        with open(args[0], "rb") as f:
            body = f.read()
        json.loads(body)  # a typo in a scenario fails here, named
        fetch(base + "faults", "PUT", body)
    elif what == "clear":
        fetch(base + "faults", "DELETE")
    elif what == "applied":
        rules = (fetch(base + "faults") or {}).get("rules", [])
        print(sum(r.get("_applied", 0) for r in rules))
    elif what in ("writes", "count"):
        counts = fetch(base + "stats")["counts"]
        if what == "writes":
            actions, account = set(args), None
        else:
            actions, account = {args[0]}, (args[1] if len(args) > 1 else None)
        print(sum(c["count"] for c in counts if c["action"] in actions
                  and (account is None or c["account"] == account)))
    elif what == "outcome":
        counts = fetch(base + "stats")["counts"]
        print(sum(c["count"] for c in counts if c["action"] == args[0]
                  and c["outcome"] == args[1]))
    elif what == "arrived-after":
        since, latency = float(args[0]), float(args[1]) / 1000
        ents = fetch(base + "log?limit=100000")["entries"]
        late = [e for e in ents if e["time"] - latency > since]
        for e in late:
            print(e["seq"], e["time"], e["action"], e["account"],
                  e["region"], e["outcome"])
    else:
        sys.exit("faults.py: unknown command " + what)


if __name__ == "__main__":
    main()
