"""Command line entry point of the emulator (see tests/fakeaws/serve)."""
import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import time

from . import world as worldmod
from .app import App
from .faults import Faults
from .httpd import Server
from .model import Models, parse_timestamp


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="serve", description="Local AWS emulator (EC2, STS, KMS, SSM, "
        "Organizations) for amishare tests. Binds 127.0.0.1 only.")
    ap.add_argument("--port", type=int, required=True,
                    help="TCP port; 0 picks a free one")
    ap.add_argument("--world", help="world JSON file (default: built-in)")
    ap.add_argument("--tls", action="store_true",
                    help="serve HTTPS with a certificate generated at "
                    "start-up")
    ap.add_argument("--ca-file", help="with --tls: write the CA "
                    "certificate (PEM) to this path")
    ap.add_argument("--faults", help="fault configuration JSON file")
    ap.add_argument("--latency-ms", type=float, default=0.0,
                    help="fixed latency added to every AWS call")
    ap.add_argument("--seed", type=int, default=0,
                    help="seed for ids, tokens and random faults")
    ap.add_argument("--log", help="append one JSON line per request here")
    ap.add_argument("--clock", help="start the emulator clock at this "
                    "time (ISO 8601 or epoch); it then advances normally")
    ap.add_argument("--set", action="append", default=[],
                    metavar="KEY=VALUE", help="override a world setting, "
                    "e.g. image_available_after_seconds=2")
    ap.add_argument("--models", help="botocore data directory to use")
    ap.add_argument("--token-file", help="write a valid web identity token "
                    "(default provider, 24 h) to this path")
    ap.add_argument("--dump-world", action="store_true",
                    help="print the effective world JSON and exit")
    return ap.parse_args(argv)


def _setting_value(v):
    try:
        return json.loads(v)
    except ValueError:
        return v


async def run(args):
    w = worldmod.load(args.world)
    for kv in args.set:
        k, _, v = kv.partition("=")
        if k not in w.settings:
            raise SystemExit("serve: unknown setting %r" % k)
        w.settings[k] = _setting_value(v)
    models = Models(args.models)
    fcfg = {}
    if args.faults:
        with open(args.faults) as f:
            fcfg = json.load(f)
    faults = Faults(fcfg, seed=args.seed)
    offset = 0.0
    if args.clock:
        ts = parse_timestamp(args.clock)
        if ts is None:
            raise SystemExit("serve: bad --clock value %r" % args.clock)
        offset = ts - time.time()
    logf = open(args.log, "a") if args.log else None
    app = App(w, models, faults, seed=args.seed, clock_offset=offset,
              log_file=logf)
    app.latency = args.latency_ms / 1000.0
    ssl_ctx = None
    tlsdir = None
    ca_path = None
    if args.tls:
        from . import tls
        tlsdir, ca, cert, key = tls.make_certs()
        ssl_ctx = tls.server_context(cert, key)
        ca_path = ca
        if args.ca_file:
            shutil.copyfile(ca, args.ca_file)
            ca_path = os.path.abspath(args.ca_file)
    server = Server(app, ssl_ctx)
    app.server_stats = server.stats
    port = await server.start("127.0.0.1", args.port)
    if args.token_file:
        from .sts import make_jwt
        prov = next(iter(w.oidc.values()))
        now = int(app.now())
        sub = (w.actions_oidc or {}).get("subject",
                                         "repo:amishare/amishare")
        tok = make_jwt(prov["hs256_secret"], {
            "iss": prov["url"], "aud": (prov.get("audiences") or
                                        ["sts.amazonaws.com"])[0],
            "sub": sub, "iat": now, "nbf": now, "exp": now + 86400})
        with open(args.token_file, "w") as f:
            f.write(tok)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    scheme = "https" if args.tls else "http"
    sys.stdout.write("ready %s://127.0.0.1:%d\n" % (scheme, port))
    if ca_path:
        sys.stdout.write("ca %s\n" % ca_path)
    sys.stdout.flush()
    await stop.wait()
    await server.close()
    if logf:
        logf.close()
    if tlsdir:
        shutil.rmtree(tlsdir, ignore_errors=True)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.dump_world:
        w = worldmod.load(args.world)
        json.dump(w.raw, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    try:
        asyncio.run(run(args))
    except KeyboardInterrupt:
        pass
    except worldmod.WorldError as e:
        sys.stderr.write("serve: bad world: %s\n" % e)
        return 2
    return 0
