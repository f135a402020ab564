#!/usr/bin/env python3
"""A scripted HTTP/1.1 server for the HTTP engine's tests.

Listens on 127.0.0.1 (port 0 unless --port), prints "ready <port>" on
stdout, and exits when its stdin reaches end of file (the test process
died or finished) or after --max-seconds. The answer depends on the path:

  /status/<code>            that status, body "status <code>"
  /seq/<key>/<s1>,<s2>,...  the n-th request for <key> gets step n (the last
                            step repeats); steps:
                              <code>          that status
                              reset           close the connection (RST)
                              sleep<ms>       wait, then 200
                              ra<sec>         503 with Retry-After: <sec>
                              ec2err:<Code>:<status>   EC2 error document
                              stserr:<Code>:<status>   query error document
                              jsonerr:<Code>:<status>  JSON error document
                              echo            like /echo
  /big/<bytes>              200 with a body of that many bytes
  /linger/<ms>              200, then the idle connection is closed (FIN)
                            <ms> after the answer
  /echo[...]                200, JSON {method, path, headers, body}
  /_stats                   JSON {connections, requests, keys: {key: n}}
  /_reset                   zeroes the counters

Any other path answers 404. Every answer carries x-amzn-RequestId.
"""
import argparse
import json
import os
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"connections": 0, "requests": 0, "keys": {}}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        pass  # resets and timeouts are what the tests provoke

    def process_request(self, request, client_address):
        with LOCK:
            STATE["connections"] += 1
        super().process_request(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send(self, status, body=b"", headers=None, ctype="text/plain"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        with LOCK:
            n = STATE["requests"]
        self.send_header("x-amzn-RequestId", "req-%d" % n)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def echo(self, body):
        doc = {
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": body.decode("utf-8", "replace"),
        }
        self.send(200, json.dumps(doc), ctype="application/json")

    def reset(self):
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.connection.close()

    def step(self, step, body):
        if step == "reset":
            return self.reset()
        if step == "echo":
            return self.echo(body)
        if step.startswith("sleep"):
            time.sleep(int(step[5:]) / 1000.0)
            return self.send(200, "slept")
        if step.startswith("ra"):
            return self.send(503, "busy", {"Retry-After": step[2:]})
        if ":" in step:
            kind, code, status = step.split(":")
            status = int(status)
            if kind == "ec2err":
                doc = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response>'
                       '<Errors><Error><Code>%s</Code><Message>scripted %s'
                       '</Message></Error></Errors><RequestID>ec2-rid'
                       '</RequestID></Response>' % (code, code))
                return self.send(status, doc, ctype="text/xml")
            if kind == "stserr":
                doc = ('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/'
                       '2011-06-15/"><Error><Type>Sender</Type><Code>%s'
                       '</Code><Message>scripted %s</Message></Error>'
                       '<RequestId>sts-rid</RequestId></ErrorResponse>'
                       % (code, code))
                return self.send(status, doc, ctype="text/xml")
            if kind == "jsonerr":
                doc = json.dumps({"__type": "com.amazon#%s" % code,
                                  "message": "scripted %s" % code})
                return self.send(status, doc,
                                 ctype="application/x-amz-json-1.1")
        return self.send(int(step), "status %s" % step)

    def handle_any(self):
        body = self.read_body()
        path = self.path.split("?", 1)[0]
        parts = [p for p in path.split("/") if p]
        with LOCK:
            STATE["requests"] += 1
        if parts[:1] == ["_stats"]:
            with LOCK:
                doc = json.dumps(STATE)
            return self.send(200, doc, ctype="application/json")
        if parts[:1] == ["_reset"]:
            with LOCK:
                STATE["connections"] = 0
                STATE["requests"] = 0
                STATE["keys"] = {}
            return self.send(200, "reset")
        if parts[:1] == ["status"] and len(parts) == 2:
            return self.send(int(parts[1]), "status %s" % parts[1])
        if parts[:1] == ["linger"] and len(parts) == 2:
            conn = self.connection
            self.send(200, "lingering")
            threading.Timer(int(parts[1]) / 1000.0,
                            lambda: conn.shutdown(socket.SHUT_RDWR)).start()
            return None
        if parts[:1] == ["big"] and len(parts) == 2:
            return self.send(200, b"x" * int(parts[1]))
        if parts[:1] == ["echo"]:
            return self.echo(body)
        if parts[:1] == ["seq"] and len(parts) >= 3:
            key = parts[1]
            steps = parts[2].split(",")
            with LOCK:
                n = STATE["keys"].get(key, 0)
                STATE["keys"][key] = n + 1
            return self.step(steps[min(n, len(steps) - 1)], body)
        return self.send(404, "no such path")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=300)
    args = ap.parse_args()
    srv = Server(("127.0.0.1", args.port), Handler)
    print("ready %d" % srv.server_address[1], flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()

    def watchdog():
        time.sleep(args.max_seconds)
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    # Exit when the parent closes our stdin (or dies).
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
