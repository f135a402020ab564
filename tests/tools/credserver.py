#!/usr/bin/env python3
"""A scripted credential endpoint for the credential-chain scenarios.

Serves the EC2 instance metadata paths (IMDSv2 token, role list, role
credentials) and a container credentials path on 127.0.0.1, with the
misbehaviours the tests need chosen on the command line, and logs every
request it receives as one JSON line (method, path, lowercase headers).

    credserver.py --port 0 --log FILE [options]   prints "ready URL"

Options:
  --imds-token ok|403|404|405|400|500|timeout   answer to PUT /latest/api/token
  --require-token         GETs without a valid token get 401 (IMDSv2 only)
  --role NAME             role listed by IMDS (default ScriptedRole)
  --no-role               the role list answers 404
  --creds-code CODE       "Code" of the IMDS credential document
  --lifetime S            credential lifetime in seconds (default 3600)
  --container-path PATH   container credentials path (default /creds)
  --container-auth TOKEN  required Authorization value (401 otherwise)
  --max-seconds N         stop by itself after N seconds (default 300)

Only the standard library is used. It binds 127.0.0.1 only.
"""
import argparse
import datetime
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"n": 0, "tokens": set()}
LOCK = threading.Lock()


def iso(t):
    return datetime.datetime.fromtimestamp(
        t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_creds(args):
    with LOCK:
        STATE["n"] += 1
        n = STATE["n"]
    return {"AccessKeyId": "ASIASCRIPTED%08d" % n,
            "SecretAccessKey": "scripted-secret-%d-EXAMPLEKEY" % n,
            "Token": "scripted-session-token-%d-EXAMPLE" % n,
            "Expiration": iso(time.time() + args.lifetime)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    args = None
    logf = None

    def log_message(self, fmt, *a):
        pass

    def record(self):
        line = {"method": self.command, "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()}}
        with LOCK:
            self.logf.write(json.dumps(line) + "\n")
            self.logf.flush()

    def reply(self, status, body, ctype="text/plain", extra=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        self.record()
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        if self.path != "/latest/api/token":
            return self.reply(404, "Not Found")
        mode = self.args.imds_token
        if mode == "timeout":
            time.sleep(4)
            return self.reply(200, "late-token")
        if mode != "ok":
            return self.reply(int(mode), "no token for you")
        ttl = self.headers.get("x-aws-ec2-metadata-token-ttl-seconds")
        if not ttl or not ttl.isdigit():
            return self.reply(400, "Bad Request")
        tok = "scripted-imds-token-%d" % len(STATE["tokens"])
        with LOCK:
            STATE["tokens"].add(tok)
        return self.reply(200, tok, extra=[
            ("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", ttl)])

    def do_GET(self):
        self.record()
        a = self.args
        if self.path == a.container_path:
            return self.container()
        base = "/latest/meta-data/iam/security-credentials/"
        if not self.path.startswith(base):
            return self.reply(404, "Not Found")
        tok = self.headers.get("x-aws-ec2-metadata-token")
        if tok is not None and tok not in STATE["tokens"]:
            return self.reply(401, "Unauthorized")
        if tok is None and a.require_token:
            return self.reply(401, "Unauthorized")
        if a.no_role:
            return self.reply(404, "Not Found")
        name = self.path[len(base):]
        if name == "":
            return self.reply(200, a.role)
        if name != a.role:
            return self.reply(404, "Not Found")
        if a.creds_code != "Success":
            return self.reply(200, json.dumps(
                {"Code": a.creds_code, "Message": "scripted failure",
                 "LastUpdated": iso(time.time())}))
        doc = {"Code": "Success", "LastUpdated": iso(time.time()),
               "Type": "AWS-HMAC"}
        doc.update(new_creds(a))
        return self.reply(200, json.dumps(doc, indent=2))

    def container(self):
        want = self.args.container_auth
        if want is not None and self.headers.get("Authorization") != want:
            return self.reply(401, json.dumps(
                {"code": "InvalidToken", "message": "bad authorization"}),
                "application/json")
        doc = new_creds(self.args)
        doc["AccountId"] = "111122223333"
        doc["RoleArn"] = "arn:aws:iam::111122223333:role/Scripted"
        return self.reply(200, json.dumps(doc), "application/json")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", required=True)
    ap.add_argument("--imds-token", default="ok",
                    choices=["ok", "403", "404", "405", "400", "500",
                             "timeout"])
    ap.add_argument("--require-token", action="store_true")
    ap.add_argument("--role", default="ScriptedRole")
    ap.add_argument("--no-role", action="store_true")
    ap.add_argument("--creds-code", default="Success")
    ap.add_argument("--lifetime", type=float, default=3600)
    ap.add_argument("--container-path", default="/creds")
    ap.add_argument("--container-auth")
    ap.add_argument("--max-seconds", type=float, default=300)
    args = ap.parse_args()
    Handler.args = args
    Handler.logf = open(args.log, "a")
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    threading.Timer(args.max_seconds, srv.shutdown).start()
    sys.stdout.write("ready http://127.0.0.1:%d\n" % srv.server_address[1])
    sys.stdout.flush()
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
