"""Shared helpers for the conformance tests: start a private emulator on
127.0.0.1 (HTTP or HTTPS), build botocore clients for world accounts,
run the AWS CLI and call the inspection endpoints."""
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FAKEAWS = os.path.dirname(HERE)
LIB = os.path.join(os.path.dirname(FAKEAWS), "lib")
for p in (LIB, FAKEAWS):
    if p not in sys.path:
        sys.path.insert(0, p)

import botocore.session  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

MGMT = "100000000000"
BUILD = "111111111111"
WORKLOAD = "222222222222"
PROD_A = "333333333333"
PROD_B = "444444444444"
SANDBOX = "555555555555"
SUSPENDED = "666666666666"
OUTSIDER = "777777777777"
ORG_ID = "o-amishare01"
ORG_ARN = "arn:aws:organizations::100000000000:organization/o-amishare01"


def ou_arn(ou):
    return "arn:aws:organizations::100000000000:ou/o-amishare01/" + ou


def key_of(acct):
    return "AKIAFAKE" + acct


def secret_of(acct):
    return "fakeaws-secret-%s-EXAMPLEKEY0" % acct


_session = None


def session():
    global _session
    if _session is None:
        _session = botocore.session.get_session()
    return _session


NO_RETRY = Config(retries={"total_max_attempts": 1},
                  parameter_validation=False)


class Emulator(object):
    """A private emulator process. Stopped by stop() (or at exit)."""

    def __init__(self, *extra, tls=False, world=None, faults=None,
                 env=None):
        self.tmp = tempfile.mkdtemp(prefix="fakeaws-test-")
        args = [sys.executable, os.path.join(FAKEAWS, "serve"),
                "--port", "0"]
        if tls:
            args += ["--tls", "--ca-file", os.path.join(self.tmp, "ca.pem")]
        if world is not None:
            wp = os.path.join(self.tmp, "world.json")
            with open(wp, "w") as f:
                json.dump(world, f)
            args += ["--world", wp]
        if faults is not None:
            fp = os.path.join(self.tmp, "faults.json")
            with open(fp, "w") as f:
                json.dump(faults, f)
            args += ["--faults", fp]
        args += list(extra)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=env)
        line = self.proc.stdout.readline()
        if not line.startswith("ready "):
            err = self.proc.stderr.read()
            self.proc.kill()
            raise RuntimeError("emulator did not start: %r %s"
                               % (line, err))
        self.ready_line = line
        self.endpoint = line.split()[1]
        self.port = int(self.endpoint.rsplit(":", 1)[1])
        self.ca = None
        if tls:
            ca = self.proc.stdout.readline()
            assert ca.startswith("ca "), ca
            self.ca = ca.split(None, 1)[1].strip()
        self._clients = {}

    # ---- clients ---------------------------------------------------------
    def client(self, service, account=BUILD, region="us-east-1",
               creds=None, config=NO_RETRY):
        key = (service, account, region, creds and creds[0], id(config))
        c = self._clients.get(key)
        if c is None:
            if creds is None:
                creds = (key_of(account), secret_of(account), None)
            c = session().create_client(
                service, region_name=region, endpoint_url=self.endpoint,
                aws_access_key_id=creds[0], aws_secret_access_key=creds[1],
                aws_session_token=creds[2] if len(creds) > 2 else None,
                config=config, verify=self.ca if self.ca else None)
            self._clients[key] = c
        return c

    def ec2(self, account=BUILD, region="us-east-1", **kw):
        return self.client("ec2", account, region, **kw)

    def assume(self, account, role="AmishareTagger", caller=BUILD,
               **kw):
        sts = self.client("sts", caller)
        r = sts.assume_role(RoleArn="arn:aws:iam::%s:role/%s" % (
            account, role), RoleSessionName="conformance", **kw)
        c = r["Credentials"]
        return (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])

    # ---- inspection ------------------------------------------------------
    def admin(self, method, path, body=None, query=None):
        url = self.endpoint + "/_fakeaws/" + path
        if query:
            url += "?" + "&".join("%s=%s" % kv for kv in query.items())
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        ctx = None
        if self.ca:
            ctx = ssl.create_default_context(cafile=self.ca)
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return json.loads(r.read().decode())

    def state(self, account, region="us-east-1"):
        doc = self.admin("GET", "state", query={"account": account,
                                                "region": region})
        regs = doc["accounts"][account]["regions"]
        return regs.get(region, {"ec2": {"images": [], "snapshots": []},
                                 "kms": {}, "ssm": {}})

    def faults(self, cfg):
        return self.admin("PUT", "faults", cfg)

    def advance(self, seconds):
        return self.admin("POST", "clock", {"advance": seconds})

    def settings(self, **kw):
        return self.admin("POST", "settings", kw)

    def aws(self, *args, account=BUILD, region="us-east-1", env=None,
            creds=None):
        e = {"PATH": os.environ.get("PATH", ""), "HOME": self.tmp,
             "AWS_ENDPOINT_URL": self.endpoint,
             "AWS_DEFAULT_REGION": region, "AWS_MAX_ATTEMPTS": "1",
             "AWS_PAGER": "", "LC_ALL": "C.UTF-8"}
        if creds is None:
            creds = (key_of(account), secret_of(account), None)
        e["AWS_ACCESS_KEY_ID"] = creds[0]
        e["AWS_SECRET_ACCESS_KEY"] = creds[1]
        if len(creds) > 2 and creds[2]:
            e["AWS_SESSION_TOKEN"] = creds[2]
        if self.ca:
            e["AWS_CA_BUNDLE"] = self.ca
        e.update(env or {})
        return subprocess.run(["aws", "--output", "json"] + list(args),
                              env=e, capture_output=True, text=True,
                              timeout=60)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for s in (self.proc.stdout, self.proc.stderr):
            try:
                s.close()
            except Exception:
                pass
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)


def error_of(fn, *a, **kw):
    """Run fn and return (code, http status, message) of its ClientError."""
    try:
        fn(*a, **kw)
    except ClientError as e:
        return (e.response["Error"]["Code"],
                e.response["ResponseMetadata"]["HTTPStatusCode"],
                e.response["Error"].get("Message", ""))
    raise AssertionError("expected an error from %s" % getattr(
        fn, "__name__", fn))


_name_seq = [0]


def unique(prefix="golden"):
    _name_seq[0] += 1
    return "%s-%d-%d" % (prefix, os.getpid(), _name_seq[0])


def base_image(ec2):
    imgs = ec2.describe_images(Owners=["amazon"])["Images"]
    return imgs[0]["ImageId"]


def make_image(ec2, name=None, encrypted=False, kms_key=None, tags=None):
    """RunInstances -> CreateImage in the client's Region; returns the
    image id (available immediately with default settings)."""
    name = name or unique()
    src = base_image(ec2)
    bdm = []
    if encrypted:
        ebs = {"Encrypted": True}
        if kms_key:
            ebs["KmsKeyId"] = kms_key
        bdm = [{"DeviceName": "/dev/xvda", "Ebs": ebs}]
    iid = ec2.run_instances(ImageId=src, MinCount=1, MaxCount=1,
                            InstanceType="t3.micro",
                            BlockDeviceMappings=bdm)["Instances"][0][
                                "InstanceId"]
    kw = {}
    if tags:
        kw["TagSpecifications"] = [{"ResourceType": "image", "Tags": [
            {"Key": k, "Value": v} for k, v in tags.items()]}]
    ami = ec2.create_image(InstanceId=iid, Name=name, **kw)["ImageId"]
    ec2.terminate_instances(InstanceIds=[iid])
    return ami


def snapshot_of(ec2, ami):
    img = ec2.describe_images(ImageIds=[ami])["Images"][0]
    return img["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]


def wait_for(pred, timeout=10, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return False
